// `npm run bench`: the broker's throughput and latency in the runtime it ships in (the bundled Worker in workerd,
// via Miniflare's API), side by side with a trivial Worker (the ceiling), driven over HTTP from Node.
//
// Output: human-readable lines on stdout (progress on stderr), then ONE JSON line, always the last line, with the
// figures, the targets and `pass`. Exit 0 when the measurement ran, targets met or not; exit 1 on a harness error:
// a setup failure, or any answer other than the expected status during a measured phase (counted and reported).
//
// Options: --fleet (the fleet-scale load scenario, fleet.ts, instead), --quick (a tenth of the requests: a smoke test), --scale=<factor> (or BENCH_SCALE), --bundle-dir=<dir>
// (measure an existing `wrangler deploy --dry-run --outdir <dir>` output instead of building one), --sts-hash=js
// (the STS emulator verifies SigV4 on the pure-JS hash instead of WebCrypto: to price the emulator itself), --entry=direct
// (requests to each Worker's own socket rather than through Miniflare's entry Worker); the rest: test/bench/README.md.
//
// To add a phase: a Scenario below (and, for a new kind of Worker, a Target in fixture.ts); to add a figure: a
// field in report.ts. Scenarios expecting another status than 200 (e.g. 429 for admission control) set expectStatus.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FakesConfig } from "./fakes-api.ts";
import {
  COLD_START_SAMPLES,
  REQUESTS_PER_ADDRESS,
  REQUESTS_PER_REPOSITORY,
  startFixture,
  type ColdStart,
  type FakesPlacement,
  type Fixture,
} from "./fixture.ts";
import { emptyResult, runSegment, warmProcess, type Scenario, type WorkerId } from "./measure.ts";
import { measurePolicyDecision, POLICY_DECISION_P50_TARGET_US } from "./policy-bench.ts";
import { buildReport, type Targets } from "./report.ts";
import { buildBundle, bundleWorker, measureBundle, readWranglerSettings, type Bundle, type Entry } from "./runtime.ts";
import { round } from "./stats.ts";

// --- Targets -------------------------------------------------------------------------------------------

const TARGETS: Targets = {
  // Throughput against a Worker that makes one subrequest (a design that must call STS is measured against that, not
  // against a Worker that calls nothing), CPU per issuance, and the bundle (the request Worker's 66 KiB budget, as
  // test/e2e/deploy.test.ts asserts: 62.5 KiB once the alert cron left it, plus modest headroom).
  broker_rps_c1_vs_trivial_fetch_min: 0.4,
  cpu_ratio_vs_trivial_fetch_max: 2.5,
  bundle_gzip_kib_max: 66,
  // "admission may add at most 1 ms at p50 locally".
  admission_added_p50_ms_max: 1,
  policy_decision_p50_us_max: POLICY_DECISION_P50_TARGET_US,
};

// --- The plan -----------------------------------------------------------------------------------------
// Each scenario is measured in ROUNDS segments, the Workers alternating, so that a slow spell of this shared,
// virtualised machine hits both sides of a ratio rather than one. Each segment starts with its own warm-up on fresh
// keep-alive connections; figures pool the measured requests of all rounds. Sizes: >= 20 samples above each p99;
// the whole run takes 60-100 s on 2 cores, depending on what else runs (the broker's phases are most of it).

const ROUNDS = 3;

/**
 * Before round 1 each Worker's process serves this many requests at PROCESS_WARMUP_CONCURRENCY, not measured: the
 * broker's p50 at concurrency 1 falls from ~3.1 ms over its first 1,000 requests to ~2.8 ms from ~1,500 on (JIT).
 */
const PROCESS_WARMUP: Record<WorkerId, number> = {
  trivial: 3_000,
  trivial_fetch: 2_000,
  broker: 2_000,
  admission_on: 1_500,
  admission_off: 500,
  node_baseline: 2_000,
};
const PROCESS_WARMUP_CONCURRENCY = 10;
/** The Workers whose requests each need a fresh token. */
const BROKER_WORKERS: WorkerId[] = ["broker", "admission_on", "admission_off", "node_baseline"];

const SCENARIOS: Scenario[] = [
  { worker: "trivial", concurrency: 1, warmup: 300, requests: 1_500, expectStatus: 200 },
  { worker: "trivial_fetch", concurrency: 1, warmup: 200, requests: 800, expectStatus: 200 },
  { worker: "broker", concurrency: 1, warmup: 50, requests: 700, expectStatus: 200 },
  // What admission adds, the difference between these two arms of one process (broker-ab-worker.ts).
  { worker: "admission_on", concurrency: 1, warmup: 20, requests: 400, expectStatus: 200 },
  { worker: "admission_off", concurrency: 1, warmup: 20, requests: 400, expectStatus: 200 },
  // The comparison with the same exchange the conventional Node way (node-baseline-server.ts). Reported, no target.
  { worker: "node_baseline", concurrency: 1, warmup: 50, requests: 700, expectStatus: 200 },
  { worker: "trivial", concurrency: 100, warmup: 1_000, requests: 5_000, expectStatus: 200 },
  { worker: "trivial_fetch", concurrency: 100, warmup: 300, requests: 2_000, expectStatus: 200 },
  { worker: "broker", concurrency: 100, warmup: 200, requests: 800, expectStatus: 200 },
  { worker: "node_baseline", concurrency: 100, warmup: 200, requests: 800, expectStatus: 200 },
];

// --- Plumbing ---------------------------------------------------------------------------------------

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const progress = (message: string) => process.stderr.write(`bench: ${message}\n`);
const out = (line: string) => process.stdout.write(`${line}\n`);

interface CliOptions {
  scale: number;
  bundleDir: string | undefined;
  stsHash: FakesConfig["stsHash"];
  rateLimits: "stand-in" | "miniflare";
  fakes: FakesPlacement;
  storage: StorageMedium;
  pin: boolean;
  entry: Entry;
}

/** `taskset` exists and there are two CPUs or more to pin to. */
function canPin(): boolean {
  return os.cpus().length >= 2 && spawnSync("taskset", ["-V"], { encoding: "utf8" }).status === 0;
}

/**
 * `--pin` (the default where `canPin`): the measured Workers' workerd processes on CPU 1, this process (the client) and the fakes' processes on
 * CPU 0 (Linux `taskset`, all threads). On 2 vCPUs the scheduler otherwise moves them freely, and whether a Worker and
 * the processes it talks to share a vCPU changes its CPU per request by tens of percent from run to run
 * (docs/performance.md has the runs). Pinned, the Worker has a CPU of its own, as on the machine that runs it in
 * production, where neither the CI runner nor STS runs beside it.
 */
function pinProcesses(fixture: Fixture): void {
  const pin = (pid: number | undefined, cpu: number) => {
    if (pid === undefined) throw new Error("--pin: a workerd process id is unknown");
    const result = spawnSync("taskset", ["-a", "-p", "-c", String(cpu), String(pid)], { encoding: "utf8" });
    if (result.status !== 0)
      throw new Error(`--pin: taskset failed for ${pid}: ${result.stderr || result.error?.message}`);
  };
  pin(process.pid, 0);
  for (const target of Object.values(fixture.targets)) {
    pin(target.handle.pid, 1);
    if (target.fakes !== undefined) pin(target.fakes.pid, 0);
  }
}

/**
 * Where workerd keeps local storage (Durable Object SQLite, KV): "ram" (default where /dev/shm exists), a tmpfs, or
 * "disk", this VM's virtual disk. Every admission still runs its SQLite transaction and WAL commit either way; on
 * "disk" each commit's fsync also traps to the hypervisor, which prices this VM's disk rather than the broker
 * (docs/performance.md, "What the bench measures").
 */
type StorageMedium = "ram" | "disk";
const RAM_DIR = "/dev/shm";

/** Points Miniflare's temporary storage (os.tmpdir(), read at each start) at a fresh directory on the medium. */
function useStorage(medium: StorageMedium): { medium: StorageMedium; dir: string | undefined } {
  if (medium === "disk" || !existsSync(RAM_DIR)) return { medium: "disk", dir: undefined };
  const dir = mkdtempSync(path.join(RAM_DIR, "broker-bench-"));
  process.env.TMPDIR = dir;
  return { medium, dir };
}

function parseCli(argv: string[]): CliOptions {
  let scale = process.env.BENCH_SCALE === undefined ? 1 : Number(process.env.BENCH_SCALE);
  let bundleDir: string | undefined;
  let stsHash: FakesConfig["stsHash"] = "webcrypto";
  let rateLimits: CliOptions["rateLimits"] = "stand-in";
  let fakes: FakesPlacement = "own-process";
  let storage: StorageMedium = "ram";
  // Pinned by default where it can be done (Linux, taskset, 2 CPUs or more); --no-pin leaves placement to the scheduler.
  let pin = canPin();
  let entry: Entry = "miniflare";
  for (const arg of argv) {
    if (arg === "--quick") scale = 0.1;
    else if (arg.startsWith("--scale=")) scale = Number(arg.slice("--scale=".length));
    else if (arg.startsWith("--bundle-dir=")) bundleDir = path.resolve(arg.slice("--bundle-dir=".length));
    else if (arg === "--sts-hash=js" || arg === "--sts-hash=webcrypto")
      stsHash = arg.slice("--sts-hash=".length) as FakesConfig["stsHash"];
    else if (arg === "--ratelimit=miniflare" || arg === "--ratelimit=stand-in")
      rateLimits = arg.slice("--ratelimit=".length) as CliOptions["rateLimits"];
    else if (arg === "--fakes=own-process" || arg === "--fakes=in-process")
      fakes = arg.slice("--fakes=".length) as FakesPlacement;
    else if (arg === "--storage=ram" || arg === "--storage=disk")
      storage = arg.slice("--storage=".length) as StorageMedium;
    else if (arg === "--pin") pin = true;
    else if (arg === "--no-pin") pin = false;
    else if (arg === "--entry=direct" || arg === "--entry=miniflare") entry = arg.slice("--entry=".length) as Entry;
    else
      throw new Error(
        `unknown option ${arg} (use --quick, --scale=<factor>, --bundle-dir=<dir>, --sts-hash=js|webcrypto, --ratelimit=stand-in|miniflare, --fakes=own-process|in-process, --storage=ram|disk, --pin, --no-pin, --entry=miniflare|direct)`,
      );
  }
  if (!(scale > 0)) throw new Error("scale must be a positive number");
  return { scale, bundleDir, stsHash, rateLimits, fakes, storage, pin, entry };
}

/** CPU time stolen by the hypervisor and all CPU time so far, in ticks, from /proc/stat (Linux only). */
function readCpuTicks(): { steal: number; total: number } | undefined {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    return { steal: fields[7] ?? 0, total: fields.reduce((sum, value) => sum + value, 0) };
  } catch {
    return undefined;
  }
}

function packageVersion(name: string): string | null {
  try {
    return (
      (
        JSON.parse(readFileSync(path.join(repoRoot, "node_modules", name, "package.json"), "utf8")) as {
          version?: string;
        }
      ).version ?? null
    );
  } catch {
    return null;
  }
}

// --- Main ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const startedAt = performance.now();
  const cpuStart = readCpuTicks();
  const json: Record<string, unknown> = { bench: "ci-credential-broker" };
  let harnessError: string | undefined;
  let fixture: Fixture | undefined;
  let tmpdir: string | undefined;
  let scale = 1;
  let stsHash: FakesConfig["stsHash"] = "webcrypto";
  let rateLimits: CliOptions["rateLimits"] = "stand-in";
  let fakesPlacement: FakesPlacement = "own-process";
  let storage: ReturnType<typeof useStorage> | undefined;
  let pinned = false;
  let entry: Entry = "miniflare";
  let compatibilityDate: string | null = null;

  try {
    const cli = parseCli(process.argv.slice(2));
    scale = cli.scale;
    stsHash = cli.stsHash;
    rateLimits = cli.rateLimits;
    fakesPlacement = cli.fakes;
    entry = cli.entry;
    storage = useStorage(cli.storage);
    const scenarios = SCENARIOS.map((scenario) => ({
      ...scenario,
      warmup: Math.max(1, Math.round(scenario.warmup * scale)),
      requests: Math.max(1, Math.round(scenario.requests * scale)),
    }));
    const settings = readWranglerSettings(path.join(repoRoot, "wrangler.toml"));
    compatibilityDate = settings.compatibilityDate;

    // 1. The bundle, as `wrangler deploy` would upload it.
    let bundle: Bundle;
    if (cli.bundleDir === undefined) {
      tmpdir = mkdtempSync(path.join(os.tmpdir(), "broker-bench-"));
      progress("building the bundle (wrangler deploy --dry-run)...");
      bundle = await buildBundle(repoRoot, tmpdir);
    } else {
      bundle = { ...measureBundle(cli.bundleDir), wranglerGzipKiB: undefined, buildMs: 0 };
    }

    // 2. The policy decision figure: pure CPU in Node, measured before any workerd runs beside it.
    progress("timing policy decisions...");
    const policyDecision = measurePolicyDecision({
      decisions: Math.max(20_000, Math.round(200_000 * scale)),
      warmup: Math.max(5_000, Math.round(50_000 * scale)),
    });

    // 3. The bench-only Workers, the tokens, the Workers; one exchange end to end before anything is timed.
    const fakesScript = await bundleWorker(path.join(repoRoot, "test", "bench", "fakes-worker.ts"));
    const abScript = await bundleWorker(path.join(repoRoot, "test", "bench", "broker-ab-worker.ts"));
    const processWarmup = (worker: WorkerId) => Math.max(1, Math.round(PROCESS_WARMUP[worker] * scale));
    // Every request to a broker (the bundle or the A/B broker) carries a token of its own.
    const brokerRequests = BROKER_WORKERS.reduce(
      (sum, worker) =>
        sum +
        processWarmup(worker) +
        scenarios.filter((s) => s.worker === worker).reduce((total, s) => total + ROUNDS * (s.warmup + s.requests), 0),
      0,
    );
    fixture = await startFixture({
      bundle,
      settings,
      fakesScript,
      abScript,
      stsHash,
      rateLimits,
      fakesPlacement,
      entry,
      brokerRequests,
      progress,
    });
    await fixture.preflight();
    pinned = cli.pin;
    if (pinned) pinProcesses(fixture);

    // 4. Each process warmed up, then the measured phases, Workers alternating within each round.
    for (const worker of Object.keys(PROCESS_WARMUP) as WorkerId[]) {
      progress(`warming ${worker} up (${processWarmup(worker)} requests)...`);
      await warmProcess(fixture.targets[worker], processWarmup(worker), PROCESS_WARMUP_CONCURRENCY);
    }
    const results = scenarios.map(emptyResult);
    for (let roundIndex = 1; roundIndex <= ROUNDS; roundIndex++) {
      for (const [index, scenario] of scenarios.entries()) {
        progress(
          `round ${roundIndex}/${ROUNDS}: ${scenario.worker} at concurrency ${scenario.concurrency} (${scenario.requests} requests)...`,
        );
        await runSegment(scenario, fixture.targets[scenario.worker], results[index] as (typeof results)[number]);
      }
    }

    // 5. Cold starts: fresh processes, one request each (the broker's first issuance), alternating Workers.
    const coldStarts: Record<"broker" | "trivial_fetch", ColdStart[]> = { broker: [], trivial_fetch: [] };
    for (let sample = 1; sample <= COLD_START_SAMPLES; sample++) {
      for (const worker of ["broker", "trivial_fetch"] as const) {
        progress(`cold start ${sample}/${COLD_START_SAMPLES}: ${worker}...`);
        coldStarts[worker].push(await fixture.coldStart(worker));
      }
    }

    // 6. Figures and the table.
    const report = buildReport({ results, bundle, policyDecision, coldStarts, targets: TARGETS });
    const fakes = await fixture.brokerFakesStats();
    out(
      `ci-credential-broker bench: workerd ${packageVersion("workerd")} via Miniflare ${packageVersion("miniflare")}, Node ${process.version}, ${os.cpus().length} CPUs, ${ROUNDS} rounds`,
    );
    out("");
    for (const line of report.lines) out(line);
    if (report.unexpected > 0) {
      out(`broker log (last lines):\n${fixture.targets.broker.handle.recentLogs.join("\n")}`);
      harnessError = `${report.unexpected} answers with an unexpected status during measured phases`;
    }
    const failed = Object.entries(fakes.failures);
    if (failed.length > 0)
      out(
        `note: outbound requests that failed in the broker's fakes Worker: ${failed.map(([origin, n]) => `${origin} ${n}`).join(", ")}`,
      );
    out(
      `broker's fakes Worker: ${fakes.assume_role_calls} AssumeRole calls answered, ${fakes.sts_requests} STS requests, ${fakes.jwks_fetches} JWKS fetches`,
    );
    Object.assign(json, report.fields, {
      sts_assume_role_calls: fakes.assume_role_calls,
      sts_requests: fakes.sts_requests,
      jwks_fetches: fakes.jwks_fetches,
      fakes_failures: fakes.failures,
      pass: report.pass,
    });
  } catch (error) {
    harnessError = error instanceof Error ? error.message : String(error);
    progress(`HARNESS ERROR: ${harnessError}`);
  } finally {
    await fixture?.dispose();
    if (tmpdir !== undefined) rmSync(tmpdir, { recursive: true, force: true });
    if (storage?.dir !== undefined) rmSync(storage.dir, { recursive: true, force: true });
  }

  const cpuEnd = readCpuTicks();
  json.env = {
    node: process.version,
    workerd: packageVersion("workerd"),
    miniflare: packageVersion("miniflare"),
    cpus: os.cpus().length,
    compatibility_date: compatibilityDate,
    cpu_steal_pct:
      cpuStart === undefined || cpuEnd === undefined
        ? null
        : round((100 * (cpuEnd.steal - cpuStart.steal)) / Math.max(1, cpuEnd.total - cpuStart.total), 2),
    scale,
    rounds: ROUNDS,
    sts_hash: stsHash,
    rate_limits: rateLimits,
    fakes: fakesPlacement,
    storage: storage?.medium ?? null,
    pinned,
    entry,
    requests_per_repository: REQUESTS_PER_REPOSITORY,
    requests_per_address: REQUESTS_PER_ADDRESS,
  };
  json.duration_s = round((performance.now() - startedAt) / 1000, 1);
  if (harnessError !== undefined) {
    json.harness_error = harnessError;
    json.targets ??= TARGETS;
    json.pass = false;
  }
  out(JSON.stringify(json));
  return harnessError === undefined ? 0 : 1;
}

// `--fleet`: the fleet-scale load scenario instead (fleet.ts, also `npm run loadtest`); `--profile`: profile.ts.
process.exitCode = process.argv.includes("--fleet")
  ? await (await import("./fleet.ts")).main(process.argv.slice(2))
  : process.argv.includes("--profile")
    ? await (await import("./profile.ts")).main()
    : await main();
// Everything is disposed by now; should a stray handle keep the event loop alive, do not hang the caller.
setTimeout(() => process.exit(), 5_000).unref();
