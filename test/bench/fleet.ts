// `npm run loadtest` (also `npm run bench -- --fleet`): fleet scale with the shipped defaults. The bundle
// `wrangler deploy --dry-run` builds, served by workerd (Miniflare's API) with the fake issuer and the STS emulator
// inside the same workerd, driven by N concurrent simulated CI jobs in this Node process. Each job runs the REAL
// client retry loop (src/client/exchange.ts fetchCredentials: Retry-After plus jitter until its deadline), minting a
// fresh token per attempt, from its own runner address (CF-Connecting-IP), on the loopback interface only.
//
// Scenarios: a 256-job matrix of one repository starting within 1 s; 400 jobs over 20 repositories starting within
// 1 s. Reports jobs served, time until the last was served, requests per job, statuses; the last stdout line is one
// JSON object. Exit 0: ran and met the targets; 2: ran, a target missed; 1: harness error. Bounded: every job stops
// at its client deadline (60 s), the whole run at RUN_TIMEOUT_MS.
//
// Options: --bundle-dir=<dir> (an existing `npm run build` output instead of building one).
import { rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker, prepareBundle, readWranglerSettings } from "./bundle.ts";
import { brokerTimings, describe, runScenario, type Scenario, type ScenarioResult } from "./fleet-jobs.ts";
import { ExchangeLog } from "./measure.ts";
import type { WorkerHandle } from "./runtime.ts";
import { startBroker } from "./start-broker.ts";
import { round } from "./stats.ts";
import { createBrokerWorld } from "./world.ts";

// --- The targets and scenarios ------------------------------------------------------------

const TARGETS = {
  matrix_256_all_served_s_max: 30,
  matrix_256_requests_per_job_max: 2,
  fleet_400_all_served_s_max: 10,
  http_5xx_max: 0,
};

const SCENARIOS: Scenario[] = [
  { name: "matrix_256", jobs: 256, repositories: 1, startWithinMs: 1_000, firstRepository: 1_000, addressOctet: 1 },
  { name: "fleet_400", jobs: 400, repositories: 20, startWithinMs: 1_000, firstRepository: 2_000, addressOctet: 2 },
];

/** Warm-up before anything is measured: JWKS fetched and cached, code optimised; its own repository and addresses. */
const WARMUP_EXCHANGES = 20;
/** Hard stop for the whole run (build included): a hung harness must not hold the shared machine. */
const RUN_TIMEOUT_MS = 5 * 60_000;

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const progress = (message: string) => process.stderr.write(`loadtest: ${message}\n`);
const out = (line: string) => process.stdout.write(`${line}\n`);

/** `--bundle-dir=<dir>` (and `--fleet`, the bench's switch to this scenario): the bundle directory, if given. */
function parseArgs(argv: string[]): string | undefined {
  let bundleDir: string | undefined;
  for (const arg of argv) {
    if (arg.startsWith("--bundle-dir=")) bundleDir = path.resolve(arg.slice("--bundle-dir=".length));
    else if (arg !== "--fleet") throw new Error(`unknown option ${arg} (use --bundle-dir=<dir>)`);
  }
  return bundleDir;
}

/** What a run holds and must release. */
interface Held {
  tmpdir: string | undefined;
  broker: WorkerHandle | undefined;
}

/** The broker warmed up, then each scenario; prints the results and fills `json`; returns the exit code (0 or 2). */
async function runFleet(argv: string[], held: Held, json: Record<string, unknown>, load: number[]): Promise<number> {
  const settings = readWranglerSettings(path.join(repoRoot, "wrangler.toml"));
  const prepared = await prepareBundle(repoRoot, parseArgs(argv), "broker-loadtest-", progress);
  held.tmpdir = prepared.tmpdir;
  const world = await createBrokerWorld(
    await bundleWorker(path.join(repoRoot, "test", "bench", "fakes-worker.ts")),
    "webcrypto",
  );
  progress("starting workerd...");
  const exchangeLog = new ExchangeLog();
  const broker = await startBroker(world, settings, prepared.bundle, exchangeLog.onLog);
  held.broker = broker;
  const mint = (claims: Record<string, unknown>) => world.issuer.mint(claims);

  progress(`warming up (${WARMUP_EXCHANGES} exchanges)...`);
  const warmup = await runScenario(
    { name: "warmup", jobs: WARMUP_EXCHANGES, repositories: 1, startWithinMs: 0, firstRepository: 0, addressOctet: 0 },
    broker,
    mint,
    progress,
  );
  if (warmup.served !== WARMUP_EXCHANGES)
    throw new Error(`warm-up: ${describe("warm-up", warmup)}\nbroker log:\n${broker.recentLogs.join("\n")}`);

  const results: Record<string, ScenarioResult> = {};
  for (const scenario of SCENARIOS) {
    progress(
      `${scenario.name}: ${scenario.jobs} jobs over ${scenario.repositories} repositor${scenario.repositories === 1 ? "y" : "ies"}, starting within ${scenario.startWithinMs} ms...`,
    );
    const before = exchangeLog.events.length;
    const result = await runScenario(scenario, broker, mint, progress);
    result.broker_ms = brokerTimings(exchangeLog.events.slice(before));
    results[scenario.name] = result;
  }
  return report(results.matrix_256 as ScenarioResult, results.fleet_400 as ScenarioResult, json, load);
}

/** Prints both scenarios and checks them against the targets; returns 0 when every target is met, else 2. */
function report(matrix: ScenarioResult, fleet: ScenarioResult, json: Record<string, unknown>, load: number[]): number {
  out(
    `ci-credential-broker loadtest: the bundle in workerd, real client retry loop, ${os.cpus().length} CPUs, load average before ${load.join(" ")}`,
  );
  out(describe("matrix_256 (one repository)", matrix));
  out(describe("fleet_400 (20 repositories)", fleet));
  out(
    `broker stage timings (ms, p50/max): matrix ${JSON.stringify(matrix.broker_ms)}; fleet ${JSON.stringify(fleet.broker_ms)}`,
  );
  const checks = {
    matrix_256_all_served: matrix.all_served_s !== null && matrix.all_served_s <= TARGETS.matrix_256_all_served_s_max,
    matrix_256_requests_per_job: matrix.requests_per_job <= TARGETS.matrix_256_requests_per_job_max,
    fleet_400_all_served: fleet.all_served_s !== null && fleet.all_served_s <= TARGETS.fleet_400_all_served_s_max,
    no_5xx: matrix.http_5xx + fleet.http_5xx <= TARGETS.http_5xx_max,
  };
  const pass = Object.values(checks).every(Boolean);
  Object.assign(json, { matrix_256: matrix, fleet_400: fleet, targets: TARGETS, checks, pass });
  json.matrix_256_all_served_s = matrix.all_served_s;
  json.matrix_256_requests_per_job = matrix.requests_per_job;
  json.fleet_400_all_served_s = fleet.all_served_s;
  json.fleet_400_5xx = fleet.http_5xx;
  return pass ? 0 : 2;
}

/** The four headline keys last in the object, so `tail -n 1 | jq` shows them and a reader finds them at the end. */
function headlineLast(json: Record<string, unknown>): void {
  for (const key of [
    "matrix_256_all_served_s",
    "matrix_256_requests_per_job",
    "fleet_400_all_served_s",
    "fleet_400_5xx",
  ]) {
    const value = json[key] ?? null;
    delete json[key];
    json[key] = value;
  }
}

export async function main(argv: string[]): Promise<number> {
  const startedAt = performance.now();
  const json: Record<string, unknown> = { loadtest: "fleet" };
  const held: Held = { tmpdir: undefined, broker: undefined };
  let harnessError: string | undefined;
  let code = 0;
  const load = os.loadavg().map((n) => round(n, 2));
  const guard = setTimeout(() => {
    progress(`HARNESS ERROR: run exceeded ${RUN_TIMEOUT_MS / 1000} s`);
    process.exit(1);
  }, RUN_TIMEOUT_MS);
  guard.unref();
  try {
    code = await runFleet(argv, held, json, load);
  } catch (error) {
    harnessError = error instanceof Error ? error.message : String(error);
    progress(`HARNESS ERROR: ${harnessError}`);
    code = 1;
  } finally {
    await held.broker?.dispose();
    if (held.tmpdir !== undefined) rmSync(held.tmpdir, { recursive: true, force: true });
    clearTimeout(guard);
  }
  json.env = {
    node: process.version,
    cpus: os.cpus().length,
    loadavg_before: load,
    loadavg_after: os.loadavg().map((n) => round(n, 2)),
  };
  json.duration_s = round((performance.now() - startedAt) / 1000, 1);
  if (harnessError !== undefined) Object.assign(json, { harness_error: harnessError, pass: false });
  headlineLast(json);
  out(JSON.stringify(json));
  return code;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
  setTimeout(() => process.exit(), 5_000).unref();
}
