// A whole broker inside workerd for integration tests: real KV (env.JWKS_CACHE), the real app and pipeline,
// a fake issuer and the STS emulator behind a fake network, an injected clock, and captured log lines.
// The upstreams are harness-upstreams.ts, admission and its faults harness-admission.ts, the shared assertions
// harness-assertions.ts (re-exported here).
import { env } from "cloudflare:workers";
import testPolicy from "../fixtures/policies/index.ts";
import type { AdmissionControl } from "../../src/admission/admission-control.ts";
import { createBroker } from "../../src/broker.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";
import type { FakeGitHub } from "../../sandbox/fakes/fake-github-api.ts";
import { githubClaims, type FakeIssuer } from "../../sandbox/fakes/fake-issuer.ts";
import type { AppKeyPair } from "../../sandbox/fakes/github-app-key.ts";
import type { StsEmulator } from "../../sandbox/fakes/sts-emulator.ts";
import { createFakeDataset, type DataPointLike, type FakeDataset } from "./fake-analytics.ts";
import type { FakeNetwork } from "./fake-network.ts";
import type { FakeRateLimiter } from "./fake-rate-limiter.ts";
import { gitlabClaims } from "./gitlab-claims.ts";
import { type AdmissionFault, createHarnessAdmission, type HarnessAdmissionOptions } from "./harness-admission.ts";
import {
  AUDIENCE,
  BROKER_ORIGIN,
  createUpstreams,
  type ExtraIssuerOption,
  HARNESS_APP_ID,
  HARNESS_TOKEN_APP_ID,
} from "./harness-upstreams.ts";

export type { AdmissionFault } from "./harness-admission.ts";
export { type AuditExpectation, expectAudit, expectNoLeak } from "./harness-assertions.ts";
export { AUDIENCE, BROKER_ORIGIN, HARNESS_APP_ID, HARNESS_TOKEN_APP_ID, STS_ORIGIN } from "./harness-upstreams.ts";

export interface HarnessOptions {
  policy?: PolicyDefinition;
  /** Extra fields for the issuer's ISSUERS entry (audiences, clock tolerance…). */
  issuerConfig?: Record<string, unknown>;
  /** Replace or add env vars (after ISSUERS is built). */
  env?: Record<string, unknown>;
  /** Admission limits and timeout for this broker (harness-admission.ts). */
  admission?: HarnessAdmissionOptions;
  /** Replace the recording AUDIT dataset (e.g. with one that throws). */
  dataset?: { writeDataPoint(point?: DataPointLike): void };
  /**
   * More trusted issuers, each its own fake issuer at `https://<id>-<uuid>.example<path>` (a `path` such
   * as `/_services/token` makes a GHES-style issuer). Tokens: `mintFor(id, claims)`; gitlab ones carry GitLab claims.
   */
  issuers?: ExtraIssuerOption[];
  /** Shadow-mode candidate policy; evaluated when env SHADOW_POLICY is "on". */
  candidatePolicy?: PolicyDefinition;
  /**
   * Web-identity mode: the broker runs with STS_AUTH = "web-identity" at BROKER_ORIGIN, without AWS keys;
   * the emulator trusts it as an IAM OIDC provider (client id sts.amazonaws.com) and fetches its JWKS through the
   * network.
   */
  webIdentity?: { signingKey: string; nextSigningKey?: string };
  /** GitHub API limits of the broker, e.g. a short call timeout for timeout tests. */
  github?: { callTimeoutMs?: number; budgetMs?: number };
  /** Fake GitHub page size (default 100), to exercise Link pagination with few items. */
  githubPageSize?: number;
  /** Repository permissions the fake GitHub App was granted (default: the four docs/github-facts.md lists). */
  githubAppPermissions?: Record<string, string>;
}

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
  /**
   * A token from extra issuer `id`: GitHub claims for kind github, gitlabClaims() (and no GitHub claims) for gitlab.
   */
  mintFor(id: string, claims?: Record<string, unknown>): Promise<string>;
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  let clock = Date.UTC(2026, 10, 25, 12, 0, 0);
  const now = () => clock;
  const upstreams = await createUpstreams(options, now);
  const { issuer, network, github, githubApiUrl, extraIssuers, extraKinds } = upstreams;
  const logs: Array<Record<string, unknown>> = [];
  const sleeps: number[] = [];
  const admission = createHarnessAdmission(options.admission, now);
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
    admission: admission.admission,
  });
  // Analytics Engine does nothing locally: a recording binding stands in for env.AUDIT.
  const dataset = createFakeDataset(now);
  const testEnv = harnessEnv(options, upstreams, dataset);
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
  if (options.webIdentity !== undefined) network.route(BROKER_ORIGIN, fetchBroker);

  return {
    issuer,
    github,
    githubApiUrl,
    appKey: upstreams.appKey,
    tokenAppKey: upstreams.tokenAppKey,
    githubToken: (token, name) =>
      fetchBroker(
        new Request("https://broker.example/v1/github-token", {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ name }),
        }),
      ),
    sts: upstreams.sts,
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
    addressLimiters: admission.addressLimiters,
    failAdmission: admission.failAdmission,
    admissionObject: admission.admissionObject,
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

/** The Worker's env: the test bindings, ISSUERS naming the fakes, the Apps' keys, web-identity mode if asked. */
function harnessEnv(
  options: HarnessOptions,
  upstreams: Awaited<ReturnType<typeof createUpstreams>>,
  dataset: FakeDataset,
): Record<string, unknown> {
  const { issuer, githubApiUrl, extraIssuers, appKey: key, tokenAppKey: tokenKey } = upstreams;
  const webIdentity = options.webIdentity;
  return {
    ...env,
    ISSUERS: JSON.stringify([
      { kind: "github", issuer: issuer.issuer, audiences: [AUDIENCE], api_url: githubApiUrl, ...options.issuerConfig },
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
}
