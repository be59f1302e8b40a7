// The world the benchmark runs in, assembled: the measured Workers (the broker, the ceilings, the admission A/B broker,
// the Node baseline), each in its own process with its fakes, and the requests each target is sent. What the parts
// are: world.ts (keys and identities), load-shape.ts (the fleet's tokens), start-broker.ts (processes and bindings).
import type { FakesConfig, FakesStats } from "./fakes-api.ts";
import type { Bundle, WranglerSettings } from "./bundle.ts";
import { COLD_START_SAMPLES, measureColdStart, type ColdStart } from "./cold-start.ts";
import type { LoadRequest } from "./load.ts";
import { mintFleetTokens, type FleetTokens } from "./load-shape.ts";
import { ExchangeLog, type Target, type WorkerId } from "./measure.ts";
import { startWorker, type Entry, type WorkerHandle } from "./runtime.ts";
import {
  fakesStats,
  linkFakes,
  rateLimitBindings,
  startBroker,
  startNodeBaseline,
  type FakesLink,
  type FakesPlacement,
  type RateLimitMode,
} from "./start-broker.ts";
import { createBrokerWorld, ECHO_ORIGIN, ECHO_REQUEST_BYTES, type BrokerWorld } from "./world.ts";

const TRIVIAL_WORKER = 'export default { fetch() { return new Response("ok") } }';
/** The trivial_fetch Worker: one subrequest sized like the broker's STS exchange (world.ts ECHO_*). */
const TRIVIAL_FETCH_WORKER = `export default {
  async fetch() {
    const reply = await fetch("${ECHO_ORIGIN}/", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "x".repeat(${ECHO_REQUEST_BYTES}) });
    await reply.arrayBuffer();
    return new Response(reply.ok ? "ok" : "echo failed", { status: reply.ok ? 200 : 502 });
  },
};`;

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
  /** The fakes Worker and the admission A/B broker, bundled (bundle.ts `bundleWorker`). */
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

/** Every process of the run and how its Worker reaches its fakes. */
interface Started {
  broker: WorkerHandle;
  brokerFakes: FakesLink;
  exchangeLog: ExchangeLog;
  trivial: WorkerHandle;
  trivialFakes: FakesLink;
  trivialFetch: WorkerHandle;
  trivialFetchFakes: FakesLink;
  brokerAb: WorkerHandle;
  abFakes: FakesLink;
  nodeBaseline: WorkerHandle;
  nodeFakes: FakesLink;
}

/** What every Worker of the run but the broker bundle starts with: settings, vars, KV, its fakes, its entry. */
function commonOptions(options: FixtureOptions, world: BrokerWorld, fakesLink: FakesLink) {
  return {
    settings: options.settings,
    bindings: world.vars,
    kvNamespaces: ["JWKS_CACHE"],
    outbound: fakesLink.outbound,
    companions: fakesLink.companions,
    entry: options.entry,
  };
}

/** The Workers, each in its own workerd with its own fakes (in a process of their own, or beside it). */
async function startAll(options: FixtureOptions, world: BrokerWorld, handles: WorkerHandle[]): Promise<Started> {
  options.progress(`starting workerd (fakes ${options.fakesPlacement})...`);
  const link = async (name: string): Promise<FakesLink> => {
    const fakesLink = await linkFakes(world, options.settings, options.fakesPlacement, name);
    if (fakesLink.process !== undefined) handles.push(fakesLink.process);
    return fakesLink;
  };
  const started = (handle: WorkerHandle): WorkerHandle => {
    handles.push(handle);
    return handle;
  };
  const exchangeLog = new ExchangeLog();
  const brokerFakes = await link("broker");
  const broker = started(
    await startBroker(world, options.settings, options.bundle, exchangeLog.onLog, {
      rateLimits: options.rateLimits,
      fakes: brokerFakes,
      entry: options.entry,
    }),
  );
  // The trivial Worker makes no subrequest: its fakes stay beside it, idle.
  const trivialFakes = await linkFakes(world, options.settings, "in-process", "trivial");
  const trivial = started(
    await startWorker({
      ...commonOptions(options, world, trivialFakes),
      name: "trivial",
      source: { script: TRIVIAL_WORKER },
    }),
  );
  const trivialFetchFakes = await link("trivial_fetch");
  const trivialFetch = started(
    await startWorker({
      ...commonOptions(options, world, trivialFetchFakes),
      name: "trivial_fetch",
      source: { script: TRIVIAL_FETCH_WORKER },
    }),
  );
  const abFakes = await link("broker_ab");
  const brokerAb = started(
    await startWorker({
      ...commonOptions(options, world, abFakes),
      name: "broker_ab",
      source: { script: options.abScript },
      bindings: { ...world.vars, ...world.secrets },
      durableObjects: { ADMISSION: { className: "AdmissionControl", useSQLite: true } },
      analyticsEngineDatasets: { AUDIT: { dataset: "ci_credential_broker" } },
      ...rateLimitBindings(options.rateLimits),
    }),
  );
  // The conventional Node implementation (node-baseline-server.ts): its fakes always in a process of their own, reached
  // over loopback as the broker's are by default.
  const nodeFakes = await linkFakes(world, options.settings, "own-process", "node_baseline");
  if (nodeFakes.process !== undefined) handles.push(nodeFakes.process);
  const nodeBaseline = started(await startNodeBaseline(world, nodeFakes));
  return {
    broker,
    brokerFakes,
    exchangeLog,
    trivial,
    trivialFakes,
    trivialFetch,
    trivialFetchFakes,
    brokerAb,
    abFakes,
    nodeBaseline,
    nodeFakes,
  };
}

/** A broker request: the next pre-minted token, from its client address. */
function brokerRequestOf(tokens: FleetTokens): () => LoadRequest {
  return () => {
    const { token, address } = tokens.take();
    return {
      method: "POST",
      path: "/v1/credentials",
      headers: { authorization: `Bearer ${token}`, "cf-connecting-ip": address },
    };
  };
}

/** The ceilings get requests of the same size: one token, reused (they ignore it). */
function ceilingRequestOf(tokens: FleetTokens): () => LoadRequest {
  return () => ({
    method: "POST",
    path: "/v1/credentials",
    headers: { authorization: `Bearer ${tokens.spare}`, "cf-connecting-ip": "10.255.255.255" },
  });
}

function targetsOf(started: Started, brokerRequest: () => LoadRequest, ceilingRequest: () => LoadRequest) {
  const { broker, brokerAb, abFakes } = started;
  return {
    trivial: { handle: started.trivial, fakes: started.trivialFakes.process, request: ceilingRequest },
    trivial_fetch: { handle: started.trivialFetch, fakes: started.trivialFetchFakes.process, request: ceilingRequest },
    broker: {
      handle: broker,
      fakes: started.brokerFakes.process,
      request: brokerRequest,
      exchangeLog: started.exchangeLog,
    },
    node_baseline: { handle: started.nodeBaseline, fakes: started.nodeFakes.process, request: brokerRequest },
    admission_on: { handle: brokerAb, fakes: abFakes.process, request: brokerRequest },
    admission_off: {
      handle: brokerAb,
      fakes: abFakes.process,
      request: () => {
        const spec = brokerRequest();
        return { ...spec, headers: { ...spec.headers, "x-bench-admission": "off" } };
      },
    },
  } satisfies Record<WorkerId, Target>;
}

/** One exchange end to end; throws with the broker's answer and log when it is not a 200 with credentials. */
async function preflight(broker: WorkerHandle, spec: LoadRequest): Promise<void> {
  const response = await fetch(new URL(spec.path, broker.url), { method: spec.method, headers: spec.headers });
  const body = await response.text();
  if (response.status !== 200 || !body.includes("SessionToken")) {
    throw new Error(
      `preflight exchange answered ${response.status}: ${body.slice(0, 500)}\nbroker log:\n${broker.recentLogs.join("\n")}`,
    );
  }
}

async function build(options: FixtureOptions, handles: WorkerHandle[]): Promise<Fixture> {
  const world = await createBrokerWorld(options.fakesScript, options.stsHash);
  // One distinct token (fresh jti) per broker request, signed before any timing, plus the preflight's and the broker's
  // cold starts'.
  const tokens = await mintFleetTokens(world.issuer, options.brokerRequests + 1 + COLD_START_SAMPLES, options.progress);
  const started = await startAll(options, world, handles);
  const brokerRequest = brokerRequestOf(tokens);
  const ceilingRequest = ceilingRequestOf(tokens);
  return {
    targets: targetsOf(started, brokerRequest, ceilingRequest),
    coldStart(worker) {
      // The fakes of a cold start are the warm ones of the same Worker when they run apart: only the Worker starts
      // cold.
      const start = () =>
        worker === "broker"
          ? startBroker(world, options.settings, options.bundle, undefined, {
              name: "broker_cold",
              rateLimits: options.rateLimits,
              fakes: started.brokerFakes,
              entry: options.entry,
            })
          : startWorker({
              ...commonOptions(options, world, started.trivialFetchFakes),
              name: "trivial_fetch_cold",
              source: { script: TRIVIAL_FETCH_WORKER },
            });
      return measureColdStart(worker, start, worker === "broker" ? brokerRequest : ceilingRequest);
    },
    brokerFakesStats: () => fakesStats(started.brokerFakes, started.broker),
    preflight: () => preflight(started.broker, brokerRequest()),
    async dispose() {
      await Promise.allSettled(handles.map((handle) => handle.dispose()));
    },
  };
}
