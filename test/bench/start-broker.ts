// Starting the broker (the bundle, with the bindings wrangler.toml declares) and the Node baseline, each linked to its
// fakes (beside it in its workerd, or in a workerd process of their own) and given the address limit's bindings.
import { fileURLToPath } from "node:url";
import {
  ADDRESS_LIMIT_PER_PERIOD,
  ADDRESS_LIMIT_PERIOD_SECONDS,
  NETWORK_LIMIT_PER_PERIOD,
} from "../../src/admission/constants.ts";
import testPolicy from "../fixtures/policies/index.ts";
import type { Bundle, WranglerSettings } from "./bundle.ts";
import { FAKES_CONTROL_ORIGIN, FORWARDED_ORIGIN_HEADER, type FakesStats } from "./fakes-api.ts";
import { FLEET_OWNER, SHARED_RELEASE_WORKFLOW } from "./load-shape.ts";
import type { NodeBaselineConfig } from "./node-baseline-server.ts";
import {
  startNodeServer,
  startWorker,
  type CompanionWorker,
  type Entry,
  type StartWorkerOptions,
  type WorkerHandle,
} from "./runtime.ts";
import { AUDIENCE, AWS_REGION, FAKES_WORKER, GITHUB_ISSUER, STS_ORIGIN, type BrokerWorld } from "./world.ts";

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
  /**
   * Workers in the measured Worker's process: the fakes (in-process), or the fakes script serving only
   * RateLimiterStandIn.
   */
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
  // FORWARDED_ORIGIN_HEADER (the fakes Worker restores it). The fakes script stays beside the Worker for
  // RateLimiterStandIn.
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

/**
 * node-baseline-server.ts as its own Node process, granting what the broker's fleet rule grants, its fetches sent to
 * `fakes`.
 */
export function startNodeBaseline(world: BrokerWorld, fakes: FakesLink): Promise<WorkerHandle> {
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
