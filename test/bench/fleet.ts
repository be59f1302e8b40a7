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
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ClientError } from "../../src/client/errors.ts";
import { credentialsEndpoint } from "../../src/client/broker-endpoint.ts";
import { fetchCredentials } from "../../src/client/exchange.ts";
import type { TokenSource } from "../../src/client/token-source.ts";
import { createBrokerWorld, repositoryClaims, startBroker } from "./fixture.ts";
import { ExchangeLog } from "./measure.ts";
import {
  buildBundle,
  bundleWorker,
  measureBundle,
  readWranglerSettings,
  type Bundle,
  type WorkerHandle,
} from "./runtime.ts";
import { round } from "./stats.ts";

// --- The issue's targets and scenarios ------------------------------------------------------------

const TARGETS = {
  matrix_256_all_served_s_max: 30,
  matrix_256_requests_per_job_max: 2,
  fleet_400_all_served_s_max: 10,
  http_5xx_max: 0,
};

interface Scenario {
  name: string;
  jobs: number;
  repositories: number;
  /** Jobs start evenly spread over this window (a matrix's jobs land on runners within about a second). */
  startWithinMs: number;
  /** Repository numbers start here (repositoryClaims), so scenarios never share a bucket. */
  firstRepository: number;
  /** Runner addresses 10.<n>.x.y: one per job, distinct across scenarios. */
  addressOctet: number;
}

const SCENARIOS: Scenario[] = [
  { name: "matrix_256", jobs: 256, repositories: 1, startWithinMs: 1_000, firstRepository: 1_000, addressOctet: 1 },
  { name: "fleet_400", jobs: 400, repositories: 20, startWithinMs: 1_000, firstRepository: 2_000, addressOctet: 2 },
];

/** Warm-up before anything is measured: JWKS fetched and cached, code optimised; its own repository and addresses. */
const WARMUP_EXCHANGES = 20;
/** Hard stop for the whole run (build included): a hung harness must not hold the shared machine. */
const RUN_TIMEOUT_MS = 5 * 60_000;

// --- Plumbing -----------------------------------------------------------------------------------

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const progress = (message: string) => process.stderr.write(`loadtest: ${message}\n`);
const out = (line: string) => process.stdout.write(`${line}\n`);

interface JobResult {
  served: boolean;
  /** ms from the scenario's start until credentials arrived (or the job gave up). */
  endedAtMs: number;
  requests: number;
  errorCode: string | undefined;
}

interface ScenarioResult {
  jobs: number;
  served: number;
  failed: number;
  all_served_s: number | null;
  last_served_s: number | null;
  p50_served_s: number | null;
  requests: number;
  requests_per_job: number;
  statuses: Record<string, number>;
  http_5xx: number;
  failures: Record<string, number>;
  wall_s: number;
  /** The broker's own stage timings (ms) over this scenario's requests. */
  broker_ms?: Record<string, { p50: number; max: number }>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The broker's own timings (its credential_exchange log lines) over one scenario: p50 / max of each stage, in ms. */
function brokerTimings(events: Record<string, unknown>[]): Record<string, { p50: number; max: number }> {
  const timings: Record<string, { p50: number; max: number }> = {};
  for (const field of ["total_ms", "verify_ms", "admission_ms", "sts_ms"]) {
    const values = events
      .map((event) => event[field])
      .filter((v): v is number => typeof v === "number" && v >= 0)
      .sort((a, b) => a - b);
    if (values.length > 0)
      timings[field] = { p50: values[Math.floor(values.length / 2)] as number, max: values.at(-1) as number };
  }
  return timings;
}

async function runScenario(
  scenario: Scenario,
  broker: WorkerHandle,
  mint: (claims: Record<string, unknown>) => Promise<string>,
): Promise<ScenarioResult> {
  const endpoint = credentialsEndpoint(broker.url.href);
  const statuses = new Map<number, number>();
  /** Requests that got no HTTP answer, by cause (socket error, timeout). */
  const noAnswer = new Map<string, number>();
  const started = performance.now();

  async function job(index: number): Promise<JobResult> {
    await sleep((index * scenario.startWithinMs) / scenario.jobs);
    const claims = repositoryClaims(scenario.firstRepository + (index % scenario.repositories));
    const address = `10.${scenario.addressOctet}.${(index >> 8) & 255}.${index & 255}`;
    const tokens: TokenSource = { description: "the bench's fake issuer", mintsFresh: true, mint: () => mint(claims) };
    let requests = 0;
    try {
      await fetchCredentials(
        { endpoint, role: undefined, durationSeconds: undefined },
        {
          fetch: async (input, init) => {
            requests++;
            const headers = new Headers(init?.headers);
            headers.set("cf-connecting-ip", address);
            let response: Response;
            try {
              response = await fetch(input, { ...init, headers });
            } catch (error) {
              const cause = (error as { cause?: { code?: unknown; name?: unknown } }).cause;
              const key = `no answer (${String(cause?.code ?? cause?.name ?? (error as Error).name)})`;
              noAnswer.set(key, (noAnswer.get(key) ?? 0) + 1);
              throw error;
            }
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
            return response;
          },
          now: Date.now,
          sleep,
          random: Math.random,
          tokens,
          debug: () => undefined,
          warn: (message) => progress(`job ${index}: warning: ${message}`),
        },
      );
      return { served: true, endedAtMs: performance.now() - started, requests, errorCode: undefined };
    } catch (error) {
      const errorCode = error instanceof ClientError ? error.code : error instanceof Error ? error.name : "unknown";
      return { served: false, endedAtMs: performance.now() - started, requests, errorCode };
    }
  }

  const results = await Promise.all(Array.from({ length: scenario.jobs }, (_, index) => job(index)));
  const servedAt = results
    .filter((r) => r.served)
    .map((r) => r.endedAtMs)
    .sort((a, b) => a - b);
  const requests = results.reduce((sum, r) => sum + r.requests, 0);
  const failures: Record<string, number> = {};
  for (const r of results)
    if (!r.served) failures[r.errorCode ?? "unknown"] = (failures[r.errorCode ?? "unknown"] ?? 0) + 1;
  const seconds = (ms: number | undefined) => (ms === undefined ? null : round(ms / 1000, 2));
  const last = servedAt.at(-1);
  return {
    jobs: scenario.jobs,
    served: servedAt.length,
    failed: scenario.jobs - servedAt.length,
    all_served_s: servedAt.length === scenario.jobs ? seconds(last) : null,
    last_served_s: seconds(last),
    p50_served_s: seconds(servedAt[Math.floor(servedAt.length / 2)]),
    requests,
    requests_per_job: round(requests / scenario.jobs, 3),
    statuses: Object.fromEntries([
      ...[...statuses].sort(([a], [b]) => a - b).map(([status, n]) => [String(status), n] as const),
      ...noAnswer,
    ]),
    http_5xx: [...statuses].filter(([status]) => status >= 500).reduce((sum, [, n]) => sum + n, 0),
    failures,
    wall_s: round((performance.now() - started) / 1000, 2),
  };
}

function describe(name: string, r: ScenarioResult): string {
  const statuses = Object.entries(r.statuses)
    .map(([status, n]) => `${status}: ${n}`)
    .join(", ");
  const failures =
    Object.keys(r.failures).length === 0
      ? ""
      : `; failed: ${Object.entries(r.failures)
          .map(([code, n]) => `${code} ${n}`)
          .join(", ")}`;
  return (
    `${name}: ${r.served}/${r.jobs} jobs served, last at ${r.last_served_s ?? "-"} s (median ${r.p50_served_s ?? "-"} s), ` +
    `${r.requests} requests = ${r.requests_per_job} per job; statuses ${statuses}${failures}`
  );
}

export async function main(argv: string[]): Promise<number> {
  const startedAt = performance.now();
  const json: Record<string, unknown> = { loadtest: "fleet" };
  let tmpdir: string | undefined;
  let broker: WorkerHandle | undefined;
  let harnessError: string | undefined;
  let code = 0;
  const load = os.loadavg().map((n) => round(n, 2));
  const guard = setTimeout(() => {
    progress(`HARNESS ERROR: run exceeded ${RUN_TIMEOUT_MS / 1000} s`);
    process.exit(1);
  }, RUN_TIMEOUT_MS);
  guard.unref();
  try {
    let bundleDir: string | undefined;
    for (const arg of argv) {
      if (arg.startsWith("--bundle-dir=")) bundleDir = path.resolve(arg.slice("--bundle-dir=".length));
      else if (arg !== "--fleet") throw new Error(`unknown option ${arg} (use --bundle-dir=<dir>)`);
    }
    const settings = readWranglerSettings(path.join(repoRoot, "wrangler.toml"));
    let bundle: Bundle;
    if (bundleDir === undefined) {
      tmpdir = mkdtempSync(path.join(os.tmpdir(), "broker-loadtest-"));
      progress("building the bundle (wrangler deploy --dry-run)...");
      bundle = await buildBundle(repoRoot, tmpdir);
    } else {
      bundle = { ...measureBundle(bundleDir), wranglerGzipKiB: undefined, buildMs: 0 };
    }
    const world = await createBrokerWorld(
      await bundleWorker(path.join(repoRoot, "test", "bench", "fakes-worker.ts")),
      "webcrypto",
    );
    progress("starting workerd...");
    const exchangeLog = new ExchangeLog();
    broker = await startBroker(world, settings, bundle, exchangeLog.onLog);
    const mint = (claims: Record<string, unknown>) => world.issuer.mint(claims);

    progress(`warming up (${WARMUP_EXCHANGES} exchanges)...`);
    const warmup = await runScenario(
      {
        name: "warmup",
        jobs: WARMUP_EXCHANGES,
        repositories: 1,
        startWithinMs: 0,
        firstRepository: 0,
        addressOctet: 0,
      },
      broker,
      mint,
    );
    if (warmup.served !== WARMUP_EXCHANGES)
      throw new Error(`warm-up: ${describe("warm-up", warmup)}\nbroker log:\n${broker.recentLogs.join("\n")}`);

    const results: Record<string, ScenarioResult> = {};
    for (const scenario of SCENARIOS) {
      progress(
        `${scenario.name}: ${scenario.jobs} jobs over ${scenario.repositories} repositor${scenario.repositories === 1 ? "y" : "ies"}, starting within ${scenario.startWithinMs} ms...`,
      );
      const before = exchangeLog.events.length;
      const result = await runScenario(scenario, broker, mint);
      result.broker_ms = brokerTimings(exchangeLog.events.slice(before));
      results[scenario.name] = result;
    }
    const matrix = results.matrix_256 as ScenarioResult;
    const fleet = results.fleet_400 as ScenarioResult;
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
    if (!pass) code = 2;
    Object.assign(json, { matrix_256: matrix, fleet_400: fleet, targets: TARGETS, checks, pass });
    json.matrix_256_all_served_s = matrix.all_served_s;
    json.matrix_256_requests_per_job = matrix.requests_per_job;
    json.fleet_400_all_served_s = fleet.all_served_s;
    json.fleet_400_5xx = fleet.http_5xx;
  } catch (error) {
    harnessError = error instanceof Error ? error.message : String(error);
    progress(`HARNESS ERROR: ${harnessError}`);
    code = 1;
  } finally {
    await broker?.dispose();
    if (tmpdir !== undefined) rmSync(tmpdir, { recursive: true, force: true });
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
  // The four headline keys last in the object, so `tail -n 1 | jq` shows them and a reader finds them at the end.
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
  out(JSON.stringify(json));
  return code;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
  setTimeout(() => process.exit(), 5_000).unref();
}
