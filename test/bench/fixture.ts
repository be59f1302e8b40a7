// The world the benchmark runs in: the fake issuer and the STS emulator in a fakes Worker inside each Worker's own
// workerd (its outbound service), pre-minted tokens shaped like a fleet of CI jobs, and the Workers (broker and
// ceilings). Keys are generated per run: the token signing key (Node mints; the fakes serve its public half) and
// the broker's AWS keys (the broker's secrets and the STS emulator's principal).
import { generateKeyPairSync, randomBytes, randomInt } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  ADDRESS_LIMIT_PERIOD_SECONDS,
  ADDRESS_LIMIT_PER_PERIOD,
  DEFAULT_REPOSITORY_BURST,
  NETWORK_LIMIT_PER_PERIOD,
} from "../../src/admission/constants.ts";
import testPolicy from "../fixtures/policies/index.ts";
import { createFakeIssuer, type FakeIssuer } from "../support/fake-issuer.ts";
import { FAKES_CONTROL_ORIGIN, FORWARDED_ORIGIN_HEADER, type FakesConfig, type FakesStats } from "./fakes-api.ts";
import type { LoadRequest } from "./load.ts";
import { ExchangeLog, type Target, type WorkerId } from "./measure.ts";
import type { NodeBaselineConfig } from "./node-baseline-server.ts";
import {
  startNodeServer,
  startWorker,
  type Bundle,
  type CompanionWorker,
  type Entry,
  type StartWorkerOptions,
  type WorkerHandle,
  type WranglerSettings,
} from "./runtime.ts";

const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";
const AUDIENCE = "ci-credential-broker";
const AWS_REGION = "us-east-1";
export const STS_ORIGIN = `https://sts.${AWS_REGION}.amazonaws.com`;

const TRIVIAL_WORKER = 'export default { fetch() { return new Response("ok") } }';
/** The trivial_fetch Worker's subrequest, sized like the broker's STS exchange: ~1 KiB form POST, ~1.5 KiB XML back. */
const ECHO_ORIGIN = "https://echo.bench.invalid";
const ECHO_REQUEST_BYTES = 1024;
const ECHO_RESPONSE_BYTES = 1536;
const TRIVIAL_FETCH_WORKER = `export default {
  async fetch() {
    const reply = await fetch("${ECHO_ORIGIN}/", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "x".repeat(${ECHO_REQUEST_BYTES}) });
    await reply.arrayBuffer();
    return new Response(reply.ok ? "ok" : "echo failed", { status: reply.ok ? 200 : 502 });
  },
};`;

/** Concurrent signings while pre-minting tokens (WebCrypto signs on libuv's thread pool). */
const MINT_BATCH = 64;

// --- Load shape -----------------------------------------------------------------------------------
// Admission control gives every repository (keyed on `repository_id`) and every client address (CF-Connecting-IP)
// a token bucket, so one repository cannot be the load: it gets its burst (60) and then ten a second. The load is
// shaped like a fleet instead: consecutive requests share a repository, at most its burst of them (a matrix build),
// and come from runner addresses in turn, each sending at most its burst over the run. No bucket ever empties, so
// every measured answer is a 200 and the broker pays its admission calls as in production, including the first
// call of a new repository's object (1 request in 60).
//
// The fleet: acme repositories publishing through the shared release workflow, which the example policy's rule
// `acme-release-publish` grants (role `publish`, the sole role, no rateLimit of its own: the default bucket). It pins
// the owner, not the repository, so every repository_id is allowed. (Rules that pin one repository, such as
// acme-app-main-deploy, allow too few requests to measure.) If the example policy changes, the preflight says so:
// adjust `fleetClaims`.

export const REQUESTS_PER_REPOSITORY = DEFAULT_REPOSITORY_BURST;
export const REQUESTS_PER_ADDRESS = ADDRESS_LIMIT_PER_PERIOD;
const FIRST_REPOSITORY_ID = 700_000_000;
const SHARED_RELEASE_WORKFLOW = "acme/shared-workflows/.github/workflows/release.yml@refs/heads/main";
/** The fleet rule's owner (test/fixtures/policies/index.ts `acme-release-publish`), for node_baseline; its role is `publish`. */
const FLEET_OWNER = "acme";

/** Claims (over the fake issuer's GitHub defaults) of the index-th broker request's token. */
function fleetClaims(index: number): Record<string, unknown> {
  return repositoryClaims(Math.floor(index / REQUESTS_PER_REPOSITORY));
}

/** Claims of a job of the n-th acme repository publishing through the shared release workflow (default bucket). */
export function repositoryClaims(n: number): Record<string, unknown> {
  const repository = `acme/service-${n}`;
  return {
    repository,
    repository_id: String(FIRST_REPOSITORY_ID + n),
    sub: `repo:${repository}:ref:refs/heads/main`,
    workflow_ref: `${repository}/.github/workflows/release.yml@refs/heads/main`,
    job_workflow_ref: SHARED_RELEASE_WORKFLOW,
  };
}

/** 10.0.0.1, 10.0.0.2, ... in turn: `addresses` private IPv4 addresses, the index-th request from one of them. */
function clientAddressFor(index: number, addresses: number): string {
  const n = (index % addresses) + 1;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

// --- Credentials for the broker (generated per run, never stored) ---------------------------------

const UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

function randomAccessKeyId(): string {
  let id = "AKIA";
  for (let i = 0; i < 16; i++) id += UPPER_DIGITS[randomInt(UPPER_DIGITS.length)];
  return id;
}

function randomSecretAccessKey(): string {
  return randomBytes(30).toString("base64"); // 40 characters of [A-Za-z0-9+/], as AWS's are.
}

// --- The fixture ------------------------------------------------------------------------------------

/** The fakes Worker's name in each workerd: every outbound fetch of the Worker under test goes to it. */
const FAKES_WORKER = "fakes";

/** One cold start: a fresh workerd process for the Worker (and its fakes), then its first request. */
export interface ColdStart {
  /** From spawning workerd to its first answer being possible (Miniflare `ready`): the runtime's start, our module's evaluation included. */
  startup_wall_ms: number;
  startup_cpu_ms: number | null;
  /** The first request, timed from Node; the broker's first issuance (JWKS fetch, key import, new Durable Object, ...). */
  first_request_wall_ms: number;
  /** workerd CPU during that request (all threads, nanosecond schedstat). */
  first_request_cpu_ms: number | null;
}

/** Cold starts measured per Worker (median of this many fresh processes). */
export const COLD_START_SAMPLES = 3;

export interface Fixture {
  targets: Record<WorkerId, Target>;
  /** Starts a fresh process of the Worker, sends it one request, measures both, and disposes of it. */
  coldStart(worker: "broker" | "trivial_fetch"): Promise<ColdStart>;
  /** The fakes' counters in the broker's workerd (requests per origin, failures, STS calls, JWKS fetches). */
  brokerFakesStats(): Promise<FakesStats>;
  /** One exchange end to end; throws with the broker's answer and log when it is not a 200 with credentials. */
  preflight(): Promise<void>;
  dispose(): Promise<void>;
}

export interface FixtureOptions {
  bundle: Bundle;
  settings: WranglerSettings;
  /** The fakes Worker and the admission A/B broker, bundled (runtime.ts `bundleWorker`). */
  fakesScript: string;
  abScript: string;
  /** The broker's rate-limiting bindings (see RateLimitMode). */
  rateLimits: RateLimitMode;
  /** Where each measured Worker's fakes run (FakesPlacement). */
  fakesPlacement: FakesPlacement;
  /** Which hash AWS's signer verifies with in the STS emulator (FakesConfig `stsHash`). */
  stsHash: FakesConfig["stsHash"];
  /** How measured requests reach each Worker (runtime.ts `Entry`). */
  entry: Entry;
  /** Distinct tokens to pre-mint: one per broker request of the whole run. */
  brokerRequests: number;
  progress: (message: string) => void;
}

export async function startFixture(options: FixtureOptions): Promise<Fixture> {
  const handles: WorkerHandle[] = [];
  try {
    return await build(options, handles);
  } catch (error) {
    await Promise.allSettled(handles.map((handle) => handle.dispose()));
    throw error;
  }
}

/** A throwaway GitHub App key (PKCS#1 PEM, as GitHub hands it out). */
function githubAppKey(): string {
  return generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  }).privateKey;
}

/** What every broker of a run shares: the token issuer (Node mints with its key), the fakes Worker, the vars and AWS keys. */
export interface BrokerWorld {
  issuer: FakeIssuer;
  fakes: CompanionWorker;
  vars: Record<string, string>;
  /** The broker's AWS keys (random per run), as its secrets; the STS emulator knows them as its principal. */
  secrets: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string; GITHUB_APP_PRIVATE_KEY: string };
}

/** Keys for this run. Node mints with the issuer's private key; the fakes Worker serves only the public JWK. */
export async function createBrokerWorld(fakesScript: string, stsHash: FakesConfig["stsHash"]): Promise<BrokerWorld> {
  const accessKeyId = randomAccessKeyId();
  const secretAccessKey = randomSecretAccessKey();
  const issuer = await createFakeIssuer({ issuer: GITHUB_ISSUER, audience: AUDIENCE });
  const fakesConfig: FakesConfig = {
    issuer: GITHUB_ISSUER,
    audience: AUDIENCE,
    jwks: { keys: [issuer.key().publicJwk] },
    stsOrigin: STS_ORIGIN,
    region: AWS_REGION,
    principal: { accessKeyId, secretAccessKey },
    stsHash,
    echoOrigin: ECHO_ORIGIN,
    echoResponseBytes: ECHO_RESPONSE_BYTES,
  };
  return {
    issuer,
    fakes: { name: FAKES_WORKER, script: fakesScript, bindings: { FAKES: fakesConfig } },
    // The example policy has a rule with GitHub requirements (docs/github-facts.md), so the broker starts only with a
    // GitHub App configured. The fleet's rule requires no facts: the App is configured, never called.
    vars: {
      AWS_REGION,
      ISSUERS: JSON.stringify([{ kind: "github", issuer: GITHUB_ISSUER, audiences: [AUDIENCE] }]),
      GITHUB_APP_ID: "1",
    },
    secrets: {
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      GITHUB_APP_PRIVATE_KEY: githubAppKey(),
    },
  };
}

/**
 * Where a measured Worker's fakes run. "own-process" (the bench's default): in a workerd process of their own, reached
 * over a loopback socket, so the measured process's CPU is the Worker's own (the STS emulator verifying SigV4 is
 * AWS's work in production, not the broker's) and the subrequest crosses a socket as it crosses the network in
 * production. "in-process": beside the Worker in its workerd (its outbound service by name; --fakes=in-process).
 */
export type FakesPlacement = "own-process" | "in-process";

/** How one measured Worker reaches its fakes. */
export interface FakesLink {
  /** The measured Worker's outbound service. */
  outbound: StartWorkerOptions["outbound"];
  /** Workers in the measured Worker's process: the fakes (in-process), or the fakes script serving only RateLimiterStandIn. */
  companions: CompanionWorker[];
  /** The fakes' own process (own-process), or undefined: they are in the measured Worker's process. */
  process: WorkerHandle | undefined;
}

/** The measured Worker's outbound service when its fakes run apart: forwards every fetch to their process's socket. */
const FORWARDER_WORKER = "fakes-forwarder";

export async function linkFakes(
  world: BrokerWorld,
  settings: WranglerSettings,
  placement: FakesPlacement,
  name: string,
): Promise<FakesLink> {
  if (placement === "in-process") return { outbound: FAKES_WORKER, companions: [world.fakes], process: undefined };
  const process = await startWorker({
    settings,
    name: FAKES_WORKER,
    source: { script: world.fakes.script },
    bindings: world.fakes.bindings,
    directSocket: true,
  });
  if (process.directAddress === undefined) {
    await process.dispose();
    throw new Error(`fakes process for ${name}: no direct socket`);
  }
  // Miniflare's outbound service must be a Worker: this one re-sends each request over loopback HTTP, its origin in
  // FORWARDED_ORIGIN_HEADER (the fakes Worker restores it). The fakes script stays beside the Worker for RateLimiterStandIn.
  const forwarder: CompanionWorker = {
    name: FORWARDER_WORKER,
    script: FORWARDER_SCRIPT,
    bindings: { FAKES_ADDRESS: process.directAddress },
  };
  return { outbound: FORWARDER_WORKER, companions: [world.fakes, forwarder], process };
}

const FORWARDER_SCRIPT = `export default {
  fetch(request, env) {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.set("${FORWARDED_ORIGIN_HEADER}", url.origin);
    return fetch("http://" + env.FAKES_ADDRESS + url.pathname + url.search, { method: request.method, headers, body: request.body, redirect: "manual" });
  },
};`;

/** The fakes' counters (requests per origin, failures, STS calls, JWKS fetches), wherever they run. */
export async function fakesStats(link: FakesLink, measured: WorkerHandle): Promise<FakesStats> {
  return (await (link.process ?? measured).getJson(FAKES_WORKER, `${FAKES_CONTROL_ORIGIN}/stats`)) as FakesStats;
}

/**
 * The broker's rate-limiting bindings (the address limit): "stand-in" (default), an in-memory counter in the fakes
 * Worker reached by RPC, priced like production's same-machine cache; "miniflare", Miniflare's own (a Durable Object,
 * SQLite on disk). Limits as wrangler.toml declares them.
 */
export type RateLimitMode = "stand-in" | "miniflare";

export function rateLimitBindings(mode: RateLimitMode): Pick<StartWorkerOptions, "ratelimits" | "serviceBindings"> {
  const limits = {
    ADDRESS_LIMITER: ["1401", ADDRESS_LIMIT_PER_PERIOD],
    NETWORK_LIMITER: ["1402", NETWORK_LIMIT_PER_PERIOD],
  } as const;
  const period = ADDRESS_LIMIT_PERIOD_SECONDS as 10;
  return mode === "miniflare"
    ? {
        ratelimits: Object.fromEntries(
          Object.entries(limits).map(([name, [namespaceId, limit]]) => [
            name,
            { namespace_id: namespaceId, simple: { limit, period } },
          ]),
        ),
      }
    : {
        serviceBindings: Object.fromEntries(
          Object.entries(limits).map(([name, [namespaceId, limit]]) => [
            name,
            { name: FAKES_WORKER, entrypoint: "RateLimiterStandIn", props: { namespace: namespaceId, limit, period } },
          ]),
        ),
      };
}

/** The bundle as the broker Worker, beside its fakes, with the bindings wrangler.toml declares. */
export function startBroker(
  world: BrokerWorld,
  settings: WranglerSettings,
  bundle: Bundle,
  onLog?: (level: string, message: string) => void,
  options: { name?: string; rateLimits?: RateLimitMode; inspectorPort?: number; fakes?: FakesLink; entry?: Entry } = {},
): Promise<WorkerHandle> {
  const fakes = options.fakes ?? { outbound: FAKES_WORKER, companions: [world.fakes], process: undefined };
  return startWorker({
    settings,
    kvNamespaces: ["JWKS_CACHE"],
    outbound: fakes.outbound,
    companions: fakes.companions,
    name: options.name ?? "broker",
    source: { scriptPath: bundle.entry },
    bindings: { ...world.vars, ...world.secrets },
    // As wrangler.toml declares them (its migration makes AdmissionControl a SQLite-backed class).
    durableObjects: { ADMISSION: { className: "AdmissionControl", useSQLite: true } },
    analyticsEngineDatasets: { AUDIT: { dataset: "ci_credential_broker" } },
    ...rateLimitBindings(options.rateLimits ?? "stand-in"),
    ...(onLog === undefined ? {} : { onLog }),
    ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
    ...(options.entry === undefined ? {} : { entry: options.entry }),
  });
}

/** node-baseline-server.ts as its own Node process, granting what the broker's fleet rule grants, its fetches sent to `fakes`. */
function startNodeBaseline(world: BrokerWorld, fakes: FakesLink): Promise<WorkerHandle> {
  const fakesAddress = fakes.process?.directAddress;
  if (fakesAddress === undefined) throw new Error("node_baseline: its fakes must run in a process of their own");
  const roleArn = testPolicy.roles.publish?.arn;
  if (roleArn === undefined)
    throw new Error("node_baseline: the example policy has no role `publish` (adjust fleetClaims)");
  const config: NodeBaselineConfig = {
    issuer: GITHUB_ISSUER,
    audience: AUDIENCE,
    jwksUri: world.issuer.jwksUri,
    stsOrigin: STS_ORIGIN,
    fakesAddress,
    forwardedOriginHeader: FORWARDED_ORIGIN_HEADER,
    region: AWS_REGION,
    accessKeyId: world.secrets.AWS_ACCESS_KEY_ID,
    secretAccessKey: world.secrets.AWS_SECRET_ACCESS_KEY,
    owner: FLEET_OWNER,
    jobWorkflowRef: SHARED_RELEASE_WORKFLOW,
    roleArn,
  };
  const script = fileURLToPath(new URL("./node-baseline-server.ts", import.meta.url));
  return startNodeServer({
    name: "node_baseline",
    script,
    env: { NODE_BASELINE: JSON.stringify(config), NODE_ENV: "production" },
  });
}

async function build(options: FixtureOptions, handles: WorkerHandle[]): Promise<Fixture> {
  // 1. Keys for this run.
  const world = await createBrokerWorld(options.fakesScript, options.stsHash);
  const { issuer, vars } = world;

  // 2. Tokens: one distinct token (fresh jti) per broker request, signed before any timing.
  const total = options.brokerRequests + 1 + COLD_START_SAMPLES; // + the preflight's and the broker's cold starts
  options.progress(`minting ${total} tokens...`);
  const tokens: string[] = [];
  while (tokens.length < total) {
    const first = tokens.length;
    const batch = Array.from({ length: Math.min(MINT_BATCH, total - first) }, (_, i) =>
      issuer.mint(fleetClaims(first + i)),
    );
    tokens.push(...(await Promise.all(batch)));
  }
  const addresses = Math.ceil(total / REQUESTS_PER_ADDRESS);
  let nextToken = 0;
  /** The next unused token and the client address its request comes from. */
  const takeToken = (): { token: string; address: string } => {
    const index = nextToken++;
    const token = tokens[index];
    if (token === undefined) throw new Error("ran out of pre-minted tokens");
    return { token, address: clientAddressFor(index, addresses) };
  };

  // 3. The Workers, each in its own workerd with its own fakes (in a process of their own, or beside it).
  options.progress(`starting workerd (fakes ${options.fakesPlacement})...`);
  const link = async (name: string): Promise<FakesLink> => {
    const fakesLink = await linkFakes(world, options.settings, options.fakesPlacement, name);
    if (fakesLink.process !== undefined) handles.push(fakesLink.process);
    return fakesLink;
  };
  const common = (fakesLink: FakesLink) => ({
    settings: options.settings,
    bindings: vars,
    kvNamespaces: ["JWKS_CACHE"],
    outbound: fakesLink.outbound,
    companions: fakesLink.companions,
    entry: options.entry,
  });
  const exchangeLog = new ExchangeLog();
  const brokerFakes = await link("broker");
  const broker = await startBroker(world, options.settings, options.bundle, exchangeLog.onLog, {
    rateLimits: options.rateLimits,
    fakes: brokerFakes,
    entry: options.entry,
  });
  handles.push(broker);
  // The trivial Worker makes no subrequest: its fakes stay beside it, idle.
  const trivialFakes = await linkFakes(world, options.settings, "in-process", "trivial");
  const trivial = await startWorker({ ...common(trivialFakes), name: "trivial", source: { script: TRIVIAL_WORKER } });
  handles.push(trivial);
  const trivialFetchFakes = await link("trivial_fetch");
  const trivialFetch = await startWorker({
    ...common(trivialFetchFakes),
    name: "trivial_fetch",
    source: { script: TRIVIAL_FETCH_WORKER },
  });
  handles.push(trivialFetch);
  const abFakes = await link("broker_ab");
  const brokerAb = await startWorker({
    ...common(abFakes),
    name: "broker_ab",
    source: { script: options.abScript },
    bindings: { ...vars, ...world.secrets },
    durableObjects: { ADMISSION: { className: "AdmissionControl", useSQLite: true } },
    analyticsEngineDatasets: { AUDIT: { dataset: "ci_credential_broker" } },
    ...rateLimitBindings(options.rateLimits),
  });
  handles.push(brokerAb);
  // The conventional Node implementation (node-baseline-server.ts): its fakes always in a process of their own, reached
  // over loopback as the broker's are by default.
  const nodeFakes = await linkFakes(world, options.settings, "own-process", "node_baseline");
  if (nodeFakes.process !== undefined) handles.push(nodeFakes.process);
  const nodeBaseline = await startNodeBaseline(world, nodeFakes);
  handles.push(nodeBaseline);

  const brokerRequest = (): LoadRequest => {
    const { token, address } = takeToken();
    return {
      method: "POST",
      path: "/v1/credentials",
      headers: { authorization: `Bearer ${token}`, "cf-connecting-ip": address },
    };
  };
  // The ceilings get requests of the same size: one token, reused (they ignore it).
  const spareToken = tokens[tokens.length - 1] as string;
  const ceilingRequest = (): LoadRequest => ({
    method: "POST",
    path: "/v1/credentials",
    headers: { authorization: `Bearer ${spareToken}`, "cf-connecting-ip": "10.255.255.255" },
  });

  return {
    targets: {
      trivial: { handle: trivial, fakes: trivialFakes.process, request: ceilingRequest },
      trivial_fetch: { handle: trivialFetch, fakes: trivialFetchFakes.process, request: ceilingRequest },
      broker: { handle: broker, fakes: brokerFakes.process, request: brokerRequest, exchangeLog },
      node_baseline: { handle: nodeBaseline, fakes: nodeFakes.process, request: brokerRequest },
      admission_on: { handle: brokerAb, fakes: abFakes.process, request: brokerRequest },
      admission_off: {
        handle: brokerAb,
        fakes: abFakes.process,
        request: () => {
          const spec = brokerRequest();
          return { ...spec, headers: { ...spec.headers, "x-bench-admission": "off" } };
        },
      },
    },
    async coldStart(worker) {
      // The fakes of a cold start are the warm ones of the same Worker when they run apart: only the Worker starts cold.
      const fakesLink = worker === "broker" ? brokerFakes : trivialFetchFakes;
      const startedAt = performance.now();
      const handle =
        worker === "broker"
          ? await startBroker(world, options.settings, options.bundle, undefined, {
              name: "broker_cold",
              rateLimits: options.rateLimits,
              fakes: fakesLink,
              entry: options.entry,
            })
          : await startWorker({
              ...common(fakesLink),
              name: "trivial_fetch_cold",
              source: { script: TRIVIAL_FETCH_WORKER },
            });
      try {
        const startupWallMs = performance.now() - startedAt;
        const startupCpuMs = handle.cpuMs();
        const spec = worker === "broker" ? brokerRequest() : ceilingRequest();
        const cpuBefore = handle.cpuPreciseMs();
        const requestStarted = performance.now();
        const response = await fetch(new URL(spec.path, handle.url), { method: spec.method, headers: spec.headers });
        await response.arrayBuffer();
        const firstRequestWallMs = performance.now() - requestStarted;
        // The broker's audit write and log line may finish just after the answer: let them land in the figure.
        await new Promise((resolve) => setTimeout(resolve, 50));
        const cpuAfter = handle.cpuPreciseMs();
        if (response.status !== 200)
          throw new Error(`${worker} cold start answered ${response.status}:\n${handle.recentLogs.join("\n")}`);
        return {
          startup_wall_ms: startupWallMs,
          startup_cpu_ms: startupCpuMs ?? null,
          first_request_wall_ms: firstRequestWallMs,
          first_request_cpu_ms: cpuBefore === undefined || cpuAfter === undefined ? null : cpuAfter - cpuBefore,
        };
      } finally {
        await handle.dispose();
      }
    },
    brokerFakesStats: () => fakesStats(brokerFakes, broker),
    async preflight() {
      const spec = brokerRequest();
      const response = await fetch(new URL(spec.path, broker.url), { method: spec.method, headers: spec.headers });
      const body = await response.text();
      if (response.status !== 200 || !body.includes("SessionToken")) {
        throw new Error(
          `preflight exchange answered ${response.status}: ${body.slice(0, 500)}\nbroker log:\n${broker.recentLogs.join("\n")}`,
        );
      }
    },
    async dispose() {
      await Promise.allSettled(handles.map((handle) => handle.dispose()));
    },
  };
}
