// A whole broker inside workerd for integration tests: real KV (env.JWKS_CACHE), the real app and pipeline,
// a fake issuer and the STS emulator behind a fake network, an injected clock, and captured log lines.
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import type { AdmissionControl } from "../../src/admission/admission-control.ts";
import { createAddressLimit, type RateLimiter } from "../../src/admission/address-limit.ts";
import {
  createDurableAdmission,
  type AdmissionRpc,
  type DurableAdmissionOptions,
} from "../../src/admission/durable-admission.ts";
import type { ExchangeEvent } from "../../src/audit/event.ts";
import { toDataPoint } from "../../src/audit/schema.ts";
import {
  ADDRESS_LIMIT_PERIOD_SECONDS,
  ADDRESS_LIMIT_PER_PERIOD,
  NETWORK_LIMIT_PER_PERIOD,
} from "../../src/admission/constants.ts";
import { createBroker } from "../../src/broker.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";
import { createFakeDataset, type DataPointLike, type FakeDataset } from "./fake-analytics.ts";
import {
  createFakeGitHub,
  EXAMPLE_TOKEN_APP_PERMISSIONS,
  seedExampleFacts,
  type FakeGitHub,
} from "./fake-github-api.ts";
import { createFakeIssuer, githubClaims, SAMPLE_SHA, type FakeIssuer } from "./fake-issuer.ts";
import { generateAppKey, type AppKeyPair } from "./github-app-key.ts";
import { createFakeRateLimiter, type FakeRateLimiter } from "./fake-rate-limiter.ts";
import { gitlabClaims } from "./gitlab-claims.ts";
import { createFakeNetwork, type FakeNetwork } from "./fake-network.ts";
import { createStsEmulator, type StsEmulator } from "./sts-emulator.ts";

export const AUDIENCE = "ci-credential-broker";
/** GITHUB_APP_ID of every harness; its key pair is generated once per test file. */
export const HARNESS_APP_ID = "424242";
/** GITHUB_TOKEN_APP_ID of every harness: the token App (another App, another key). */
export const HARNESS_TOKEN_APP_ID = "535353";
let appKey: Promise<AppKeyPair> | undefined;
let tokenAppKey: Promise<AppKeyPair> | undefined;
export const STS_ORIGIN = "https://sts.us-east-1.amazonaws.com";
/** The broker's own origin: its issuer URL in web-identity mode. */
export const BROKER_ORIGIN = "https://broker.example";

export interface HarnessOptions {
  policy?: PolicyDefinition;
  /** Extra fields for the issuer's ISSUERS entry (audiences, clock tolerance…). */
  issuerConfig?: Record<string, unknown>;
  /** Replace or add env vars (after ISSUERS is built). */
  env?: Record<string, unknown>;
  /**
   * Admission limits and timeout for this broker (defaults: src/admission/constants.ts). The address limits are requests per
   * ADDRESS_LIMIT_PERIOD_SECONDS window, counted by fake bindings on the harness clock; `realAddressLimiters` uses
   * the real bindings (env.ADDRESS_LIMITER / NETWORK_LIMITER, Miniflare's, on the wall clock) instead.
   */
  admission?: Pick<DurableAdmissionOptions, "repositoryLimit" | "timeoutMs"> & {
    addressLimit?: number;
    networkLimit?: number;
    realAddressLimiters?: boolean;
  };
  /** Replace the recording AUDIT dataset (e.g. with one that throws). */
  dataset?: { writeDataPoint(point?: DataPointLike): void };
  /**
   * More trusted issuers, each its own fake issuer at `https://<id>-<uuid>.example<path>` (a `path` such
   * as `/_services/token` makes a GHES-style issuer). Tokens: `mintFor(id, claims)`; gitlab ones carry GitLab claims.
   */
  issuers?: Array<{ id: string; kind: "github" | "gitlab"; path?: string; config?: Record<string, unknown> }>;
  /** Shadow-mode candidate policy; evaluated when env SHADOW_POLICY is "on". */
  candidatePolicy?: PolicyDefinition;
  /**
   * Web-identity mode: the broker runs with STS_AUTH = "web-identity" at BROKER_ORIGIN, without AWS keys;
   * the emulator trusts it as an IAM OIDC provider (client id sts.amazonaws.com) and fetches its JWKS through the network.
   */
  webIdentity?: { signingKey: string; nextSigningKey?: string };
  /** GitHub API limits of the broker, e.g. a short call timeout for timeout tests. */
  github?: { callTimeoutMs?: number; budgetMs?: number };
  /** Fake GitHub page size (default 100), to exercise Link pagination with few items. */
  githubPageSize?: number;
  /** Repository permissions the fake GitHub App was granted (default: the four docs/github-facts.md lists). */
  githubAppPermissions?: Record<string, string>;
}

/**
 * An admission failure to inject: the object call rejects (`throw`), rejects as overloaded (`overloaded`), or never
 * answers (`hang`: the call's timeout then fires at once, no waiting). `target` picks which objects fail.
 */
export type AdmissionFault = {
  mode: "throw" | "overloaded" | "hang";
  target?: "repository" | "address" | "all";
} | null;

export interface Harness {
  issuer: FakeIssuer;
  /** The fake GitHub API, seeded so the example policy's requirements hold for githubClaims()' sha. */
  github: FakeGitHub;
  /** The fake API's base URL (the ISSUERS `api_url` of the default issuer). */
  githubApiUrl: string;
  /** The App key pair (GITHUB_APP_PRIVATE_KEY is its PKCS#1 PEM). */
  appKey: AppKeyPair;
  /** The token App's key pair (GITHUB_TOKEN_APP_PRIVATE_KEY). GITHUB_TOKEN_API_URL is `githubApiUrl`. */
  tokenAppKey: AppKeyPair;
  /** POST /v1/github-token for grant `name` with the token as Bearer. */
  githubToken(token: string, name: string): Promise<Response>;
  sts: StsEmulator;
  network: FakeNetwork;
  logs: Array<Record<string, unknown>>;
  /** Sleeps the broker asked for (retry backoff); each advances the clock. */
  sleeps: number[];
  now(): number;
  advance(ms: number): void;
  env: Record<string, unknown>;
  /** POST /v1/credentials with the token as Bearer (and an optional JSON body). */
  request(token: string, body?: Record<string, unknown>): Promise<Response>;
  fetch(request: Request): Promise<Response>;
  /** The credential_exchange log lines. */
  events(): Array<Record<string, unknown>>;
  /** The fake rate-limiting bindings of the address limit (unused with `realAddressLimiters`). */
  addressLimiters: { address: FakeRateLimiter; network: FakeRateLimiter };
  /** Makes admission calls fail until called again with null. */
  failAdmission(fault: AdmissionFault): void;
  /**
   * The real AdmissionControl object (env.ADMISSION, local workerd) this broker uses under `name`, e.g.
   * `github:repo:874563210` or `addr:unknown`: for runInDurableObject / runDurableObjectAlarm.
   */
  admissionObject(name: string): DurableObjectStub<AdmissionControl>;
  /** The recording Analytics Engine binding (env.AUDIT) of this broker. */
  dataset: FakeDataset;
  /** The data points written to env.AUDIT, in order (see expectAudit). */
  dataPoints(): DataPointLike[];
  mint(claims?: Record<string, unknown>, options?: Parameters<FakeIssuer["mint"]>[1]): Promise<string>;
  /** The extra issuers of `options.issuers`, by id. */
  extraIssuers: Record<string, FakeIssuer>;
  /** A token from extra issuer `id`: GitHub claims for kind github, gitlabClaims() (and no GitHub claims) for gitlab. */
  mintFor(id: string, claims?: Record<string, unknown>): Promise<string>;
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  let clock = Date.UTC(2026, 10, 25, 12, 0, 0);
  const now = () => clock;
  // A distinct issuer per harness: test files share local KV, so keys never bleed between tests.
  const issuerUrl = `https://issuer-${crypto.randomUUID()}.example`;
  const issuer = await createFakeIssuer({ issuer: issuerUrl, audience: AUDIENCE, now });
  const network = createFakeNetwork();
  const webIdentity = options.webIdentity;
  const sts = createStsEmulator({
    now,
    // In web-identity mode the emulator knows no AWS key at all: any SigV4 call would be refused.
    principals:
      webIdentity === undefined
        ? [{ accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }]
        : [],
    region: "us-east-1",
    roleMaxSessionSeconds: 43_200,
    ...(webIdentity === undefined
      ? {}
      : {
          webIdentity: {
            providers: [{ url: BROKER_ORIGIN, clientIds: ["sts.amazonaws.com"] }],
            fetch: (input, init) => network.fetch(input, init),
          },
        }),
  });
  network.route(issuerUrl, issuer.handler);
  network.route(STS_ORIGIN, sts.handler);
  appKey ??= generateAppKey();
  const key = await appKey;
  tokenAppKey ??= generateAppKey();
  const tokenKey = await tokenAppKey;
  const github = createFakeGitHub({
    appId: HARNESS_APP_ID,
    appPublicKey: key.publicKey,
    tokenApp: {
      appId: HARNESS_TOKEN_APP_ID,
      appPublicKey: tokenKey.publicKey,
      permissions: EXAMPLE_TOKEN_APP_PERMISSIONS,
    },
    now,
    ...(options.githubPageSize === undefined ? {} : { maxPageSize: options.githubPageSize }),
    ...(options.githubAppPermissions === undefined ? {} : { appPermissions: options.githubAppPermissions }),
  });
  seedExampleFacts(github, SAMPLE_SHA);
  const githubApiUrl = `https://github-api-${crypto.randomUUID()}.example`;
  network.route(githubApiUrl, github.handler);
  const extraIssuers: Record<string, FakeIssuer> = {};
  const extraKinds = new Map<string, "github" | "gitlab">();
  for (const extra of options.issuers ?? []) {
    const url = `https://${extra.id}-${crypto.randomUUID()}.example${extra.path ?? ""}`;
    extraIssuers[extra.id] = await createFakeIssuer({ issuer: url, audience: AUDIENCE, now });
    extraKinds.set(extra.id, extra.kind);
    network.route(url, (extraIssuers[extra.id] as FakeIssuer).handler);
  }
  const logs: Array<Record<string, unknown>> = [];
  const sleeps: number[] = [];
  // Every harness gets admission objects of its own: test files share local Durable Object storage, and each
  // harness starts its clock at the same instant, so shared buckets or reservations would leak between tests.
  const admissionPrefix = `test-${crypto.randomUUID()}:`;
  let admissionFault: AdmissionFault = null;
  /** Expires the timeout of the call in progress: a hanging object calls it, so the timeout fires without waiting. */
  let expireCurrentCall: () => void = () => undefined;
  /** A call that fails as `mode` says (a hang expires the call's timeout at once). */
  const failing = (mode: "throw" | "overloaded" | "hang") => (): Promise<never> => {
    if (mode === "hang") {
      expireCurrentCall();
      return new Promise<never>(() => undefined);
    }
    const error = new Error("Durable Object is overloaded.");
    if (mode === "overloaded") Object.assign(error, { overloaded: true, retryable: false });
    return Promise.reject(error);
  };
  const faultyObject = (mode: "throw" | "overloaded" | "hang"): AdmissionRpc => ({
    admit: failing(mode),
    release: failing(mode),
  });
  const addressLimiters = {
    address: createFakeRateLimiter({
      limit: options.admission?.addressLimit ?? ADDRESS_LIMIT_PER_PERIOD,
      periodSeconds: ADDRESS_LIMIT_PERIOD_SECONDS,
      now,
    }),
    network: createFakeRateLimiter({
      limit: options.admission?.networkLimit ?? NETWORK_LIMIT_PER_PERIOD,
      periodSeconds: ADDRESS_LIMIT_PERIOD_SECONDS,
      now,
    }),
  };
  /** A fake address limiter that fails while a fault targets the address limit. */
  const limiter = (fake: FakeRateLimiter): RateLimiter => ({
    limit: (request) => {
      const targeted = admissionFault?.target ?? "all";
      if (admissionFault !== null && (targeted === "all" || targeted === "address"))
        return failing(admissionFault.mode)();
      return fake.limit(request);
    },
  });
  const real = options.admission?.realAddressLimiters === true;
  const broker = createBroker({
    policy: options.policy ?? testPolicy,
    ...(options.candidatePolicy === undefined ? {} : { candidatePolicy: options.candidatePolicy }),
    ...(options.github === undefined ? {} : { github: options.github }),
    fetch: network.fetch,
    now,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    random: () => 0.5,
    log: (line) => logs.push(line),
    admission: (workerEnv, context) => {
      const bounded = {
        timeoutMs: options.admission?.timeoutMs,
        // The real timer, except that a hanging object expires it at once: the timeout path without the wait.
        startTimeout: (ms: number) => {
          let id: ReturnType<typeof setTimeout> | undefined;
          const expired = new Promise<void>((resolve) => {
            expireCurrentCall = resolve;
            id = setTimeout(resolve, ms);
          });
          return { expired, cancel: () => (id === undefined ? undefined : clearTimeout(id)) };
        },
      };
      return {
        ...createDurableAdmission({
          ...context,
          ...bounded,
          repositoryLimit: options.admission?.repositoryLimit,
          namePrefix: admissionPrefix,
          objectFor: (name) => {
            const targeted = admissionFault?.target ?? "all";
            if (admissionFault !== null && (targeted === "all" || targeted === "repository"))
              return faultyObject(admissionFault.mode);
            return workerEnv.ADMISSION.getByName(name);
          },
        }),
        limitAddress: createAddressLimit({
          ...bounded,
          log: context.log,
          keyPrefix: admissionPrefix,
          address: real ? workerEnv.ADDRESS_LIMITER : limiter(addressLimiters.address),
          network: real ? workerEnv.NETWORK_LIMITER : limiter(addressLimiters.network),
        }),
      };
    },
  });
  // Analytics Engine does nothing locally: a recording binding stands in for env.AUDIT.
  const dataset = createFakeDataset(now);
  const testEnv: Record<string, unknown> = {
    ...env,
    ISSUERS: JSON.stringify([
      { kind: "github", issuer: issuerUrl, audiences: [AUDIENCE], api_url: githubApiUrl, ...options.issuerConfig },
      ...(options.issuers ?? []).map((extra) => ({
        id: extra.id,
        kind: extra.kind,
        issuer: extraIssuers[extra.id]?.issuer,
        audiences: [AUDIENCE],
        ...extra.config,
      })),
    ]),
    AUDIT: options.dataset ?? dataset,
    ...(webIdentity === undefined
      ? {}
      : {
          STS_AUTH: "web-identity",
          BROKER_ISSUER_URL: BROKER_ORIGIN,
          BROKER_SIGNING_KEY: webIdentity.signingKey,
          ...(webIdentity.nextSigningKey === undefined ? {} : { BROKER_SIGNING_KEY_NEXT: webIdentity.nextSigningKey }),
          AWS_ACCESS_KEY_ID: undefined,
          AWS_SECRET_ACCESS_KEY: undefined,
        }),
    GITHUB_APP_ID: HARNESS_APP_ID,
    GITHUB_APP_PRIVATE_KEY: key.pkcs1Pem,
    GITHUB_TOKEN_APP_ID: HARNESS_TOKEN_APP_ID,
    GITHUB_TOKEN_APP_PRIVATE_KEY: tokenKey.pkcs1Pem,
    GITHUB_TOKEN_API_URL: githubApiUrl,
    ...options.env,
  };
  const ctx = {
    waitUntil: () => undefined,
    passThroughOnException: () => undefined,
    props: {},
  } as unknown as ExecutionContext;
  const fetchBroker = async (request: Request) =>
    (await broker.fetch?.(
      request as Request<unknown, IncomingRequestCfProperties>,
      testEnv as unknown as Env,
      ctx,
    )) as Response;
  // AWS reaches the broker's discovery document and JWKS over the network, as it would in production.
  if (webIdentity !== undefined) network.route(BROKER_ORIGIN, fetchBroker);

  return {
    issuer,
    github,
    githubApiUrl,
    appKey: key,
    tokenAppKey: tokenKey,
    githubToken: (token, name) =>
      fetchBroker(
        new Request("https://broker.example/v1/github-token", {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ name }),
        }),
      ),
    sts,
    network,
    logs,
    sleeps,
    now,
    advance: (ms) => {
      clock += ms;
    },
    env: testEnv,
    fetch: fetchBroker,
    request: (token, body) =>
      fetchBroker(
        new Request("https://broker.example/v1/credentials", {
          method: "POST",
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
      ),
    events: () => logs.filter((line) => line.message === "credential_exchange"),
    addressLimiters,
    failAdmission: (fault) => {
      admissionFault = fault;
    },
    admissionObject: (name) => env.ADMISSION.getByName(admissionPrefix + name),
    dataset,
    dataPoints: () => [...dataset.points],
    mint: (claims, mintOptions) => issuer.mint(claims, mintOptions),
    extraIssuers,
    mintFor: async (id, claims = {}) => {
      const extra = extraIssuers[id];
      if (extra === undefined) throw new Error(`harness: no extra issuer ${id}`);
      if (extraKinds.get(id) !== "gitlab") return extra.mint(claims);
      // The fake issuer lays claims over GitHub defaults: drop the GitHub-only ones so the token is GitLab-shaped.
      const payload = gitlabClaims(claims);
      return extra.mint(payload, { omit: Object.keys(githubClaims()).filter((name) => !Object.hasOwn(payload, name)) });
    },
  };
}

/**
 * Asserts an error response leaks nothing internal: exactly {error, message, request_id}, and none of the
 * secrets, ARNs, account ids, claim values or library words that a careless broker would echo.
 */
export async function expectNoLeak(response: Response, forbidden: string[] = []): Promise<Record<string, unknown>> {
  const text = await response.clone().text();
  const body = JSON.parse(text) as Record<string, unknown>;
  const problems: string[] = [];
  if (Object.keys(body).sort().join(",") !== "error,message,request_id")
    problems.push(`unexpected keys ${Object.keys(body).join(",")}`);
  const needles = [
    "arn:aws",
    "111122223333",
    "000000000000",
    "acme",
    "refs/heads",
    "ERR_J",
    "JWS",
    "JWT",
    "zod",
    "issues",
    "Error:",
    "    at ",
    "<",
    "AccessDenied",
    "Throttling",
    env.AWS_ACCESS_KEY_ID,
    ...forbidden,
  ];
  for (const needle of needles)
    if (needle !== "" && text.includes(needle)) problems.push(`contains ${JSON.stringify(needle)}`);
  if (problems.length > 0) throw new Error(`error response leaks: ${problems.join("; ")}: ${text}`);
  return body;
}

/** Fields of the audit event a test may pin; any subset, matched with toMatchObject. */
export type AuditExpectation = Partial<Record<keyof ExchangeEvent, unknown>>;

/**
 * Asserts the audit trail of the latest request (or `index`): one Analytics Engine data point per credential_exchange
 * log line; the log line matches `expected`; the data point is exactly that event at its schema positions
 * (src/audit/schema.ts); and neither holds a token, a credential, a role ARN or the broker's key.
 */
export function expectAudit(
  harness: Harness,
  expected: AuditExpectation,
  options: { index?: number } = {},
): { event: Record<string, unknown>; point: DataPointLike } {
  const events = harness.events();
  const points = harness.dataPoints();
  expect(points, "one Analytics Engine data point per credential_exchange log line").toHaveLength(events.length);
  const index = options.index ?? events.length - 1;
  const event = events[index] as Record<string, unknown>;
  const point = points[index] as DataPointLike;
  expect(event, "credential_exchange log line").toMatchObject(expected);
  const { message: _message, ...fields } = event;
  expect(point, "data point of the same event").toEqual(toDataPoint(fields as unknown as ExchangeEvent));
  const text = JSON.stringify([event, point]);
  for (const needle of [
    "arn:aws",
    "eyJ",
    String(harness.env.AWS_ACCESS_KEY_ID),
    String(harness.env.AWS_SECRET_ACCESS_KEY),
  ]) {
    expect(text, `audit holds ${needle}`).not.toContain(needle);
  }
  return { event, point };
}
