// `npm run bench`: the broker's throughput and latency in the runtime it ships in (the bundled Worker in workerd,
// via Miniflare's API), side by side with a trivial Worker (the ceiling), driven over HTTP from Node.
//
// Output: human-readable lines on stdout (progress on stderr), then ONE JSON line, always the last line, with the
// figures, the targets and `pass`. Exit 0 when the measurement ran, targets met or not; exit 1 on a harness error:
// a setup failure, or any answer other than the expected status during a measured phase (counted and reported).
//
// Options: --fleet (the fleet-scale load scenario, fleet.ts, instead), --quick (a tenth of the requests: a smoke test),
// --scale=<factor> (or BENCH_SCALE), --bundle-dir=<dir>
// (measure an existing `wrangler deploy --dry-run --outdir <dir>` output instead of building one), --sts-hash=js
// (the STS emulator verifies SigV4 on the pure-JS hash instead of WebCrypto: to price the emulator itself),
// --entry=direct
// (requests to each Worker's own socket rather than through Miniflare's entry Worker); the rest: test/bench/README.md.
//
// To add a phase: a Scenario in plan.ts (and, for a new kind of Worker, a Target in fixture.ts); to add a figure: a
// field in figures.ts and its line in report.ts. Scenarios expecting another status than 200 (e.g. 429 for admission
// control) set expectStatus.
import { rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker, prepareBundle, readWranglerSettings } from "./bundle.ts";
import { parseCli, type CliOptions } from "./bench-options.ts";
import { COLD_START_SAMPLES, type ColdStart } from "./cold-start.ts";
import { startFixture, type Fixture } from "./fixture.ts";
import { packageVersion, pinProcesses, readCpuTicks, useStorage } from "./host.ts";
import { REQUESTS_PER_ADDRESS, REQUESTS_PER_REPOSITORY } from "./load-shape.ts";
import { emptyResult, runSegment, warmProcess, type Scenario, type ScenarioResult, type WorkerId } from "./measure.ts";
import {
  brokerRequestsOf,
  PROCESS_WARMUP,
  PROCESS_WARMUP_CONCURRENCY,
  processWarmup,
  ROUNDS,
  scaledScenarios,
  TARGETS,
} from "./plan.ts";
import { measurePolicyDecision } from "./policy-bench.ts";
import { buildReport } from "./report.ts";
import { round } from "./stats.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const progress = (message: string) => process.stderr.write(`bench: ${message}\n`);
const out = (line: string) => process.stdout.write(`${line}\n`);

/** What the run was (the JSON's `env`) and what it must clean up, filled in as it proceeds. */
interface Run {
  scale: number;
  stsHash: CliOptions["stsHash"];
  rateLimits: CliOptions["rateLimits"];
  fakesPlacement: CliOptions["fakes"];
  storage: ReturnType<typeof useStorage> | undefined;
  pinned: boolean;
  entry: CliOptions["entry"];
  compatibilityDate: string | null;
  fixture: Fixture | undefined;
  tmpdir: string | undefined;
}

/** Phases 1-3: the bundle, the policy decision figure, the Workers with their tokens; one exchange end to end. */
async function setUp(cli: CliOptions, run: Run, scenarios: Scenario[]) {
  const settings = readWranglerSettings(path.join(repoRoot, "wrangler.toml"));
  run.compatibilityDate = settings.compatibilityDate;

  // 1. The bundle, as `wrangler deploy` would upload it.
  const prepared = await prepareBundle(repoRoot, cli.bundleDir, "broker-bench-", progress);
  run.tmpdir = prepared.tmpdir;

  // 2. The policy decision figure: pure CPU in Node, measured before any workerd runs beside it.
  progress("timing policy decisions...");
  const policyDecision = measurePolicyDecision({
    decisions: Math.max(20_000, Math.round(200_000 * run.scale)),
    warmup: Math.max(5_000, Math.round(50_000 * run.scale)),
  });

  // 3. The bench-only Workers, the tokens, the Workers; one exchange end to end before anything is timed.
  const fakesScript = await bundleWorker(path.join(repoRoot, "test", "bench", "fakes-worker.ts"));
  const abScript = await bundleWorker(path.join(repoRoot, "test", "bench", "broker-ab-worker.ts"));
  const fixture = await startFixture({
    bundle: prepared.bundle,
    settings,
    fakesScript,
    abScript,
    stsHash: run.stsHash,
    rateLimits: run.rateLimits,
    fakesPlacement: run.fakesPlacement,
    entry: run.entry,
    brokerRequests: brokerRequestsOf(scenarios, run.scale),
    progress,
  });
  run.fixture = fixture;
  await fixture.preflight();
  run.pinned = cli.pin;
  if (run.pinned) pinProcesses(fixture);
  return { fixture, bundle: prepared.bundle, policyDecision };
}

/** Phase 4: each process warmed up, then the measured phases, Workers alternating within each round. */
async function measureRounds(fixture: Fixture, scenarios: Scenario[], scale: number): Promise<ScenarioResult[]> {
  for (const worker of Object.keys(PROCESS_WARMUP) as WorkerId[]) {
    progress(`warming ${worker} up (${processWarmup(worker, scale)} requests)...`);
    await warmProcess(fixture.targets[worker], processWarmup(worker, scale), PROCESS_WARMUP_CONCURRENCY);
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
  return results;
}

/** Phase 5: cold starts, fresh processes with one request each (the broker's first issuance), alternating Workers. */
async function measureColdStarts(fixture: Fixture): Promise<Record<"broker" | "trivial_fetch", ColdStart[]>> {
  const coldStarts: Record<"broker" | "trivial_fetch", ColdStart[]> = { broker: [], trivial_fetch: [] };
  for (let sample = 1; sample <= COLD_START_SAMPLES; sample++) {
    for (const worker of ["broker", "trivial_fetch"] as const) {
      progress(`cold start ${sample}/${COLD_START_SAMPLES}: ${worker}...`);
      coldStarts[worker].push(await fixture.coldStart(worker));
    }
  }
  return coldStarts;
}

/** The whole measurement; prints the table, fills `json`; returns a harness error, if the run had one. */
async function measure(run: Run, json: Record<string, unknown>): Promise<string | undefined> {
  const cli = parseCli(process.argv.slice(2));
  Object.assign(run, {
    scale: cli.scale,
    stsHash: cli.stsHash,
    rateLimits: cli.rateLimits,
    fakesPlacement: cli.fakes,
    entry: cli.entry,
    storage: useStorage(cli.storage),
  });
  const scenarios = scaledScenarios(run.scale);
  const { fixture, bundle, policyDecision } = await setUp(cli, run, scenarios);
  const results = await measureRounds(fixture, scenarios, run.scale);
  const coldStarts = await measureColdStarts(fixture);

  // 6. Figures and the table.
  const report = buildReport({ results, bundle, policyDecision, coldStarts, targets: TARGETS });
  const fakes = await fixture.brokerFakesStats();
  out(
    `ci-credential-broker bench: workerd ${packageVersion(repoRoot, "workerd")} via Miniflare ${packageVersion(repoRoot, "miniflare")}, Node ${process.version}, ${os.cpus().length} CPUs, ${ROUNDS} rounds`,
  );
  out("");
  for (const line of report.lines) out(line);
  let harnessError: string | undefined;
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
  return harnessError;
}

/** The JSON's `env`: what ran, where, and how this shared machine behaved (CPU stolen by the hypervisor). */
function envFields(run: Run, cpuStart: ReturnType<typeof readCpuTicks>): Record<string, unknown> {
  const cpuEnd = readCpuTicks();
  return {
    node: process.version,
    workerd: packageVersion(repoRoot, "workerd"),
    miniflare: packageVersion(repoRoot, "miniflare"),
    cpus: os.cpus().length,
    compatibility_date: run.compatibilityDate,
    cpu_steal_pct:
      cpuStart === undefined || cpuEnd === undefined
        ? null
        : round((100 * (cpuEnd.steal - cpuStart.steal)) / Math.max(1, cpuEnd.total - cpuStart.total), 2),
    scale: run.scale,
    rounds: ROUNDS,
    sts_hash: run.stsHash,
    rate_limits: run.rateLimits,
    fakes: run.fakesPlacement,
    storage: run.storage?.medium ?? null,
    pinned: run.pinned,
    entry: run.entry,
    requests_per_repository: REQUESTS_PER_REPOSITORY,
    requests_per_address: REQUESTS_PER_ADDRESS,
  };
}

async function main(): Promise<number> {
  const startedAt = performance.now();
  const cpuStart = readCpuTicks();
  const json: Record<string, unknown> = { bench: "ci-credential-broker" };
  const run: Run = {
    scale: 1,
    stsHash: "webcrypto",
    rateLimits: "stand-in",
    fakesPlacement: "own-process",
    storage: undefined,
    pinned: false,
    entry: "miniflare",
    compatibilityDate: null,
    fixture: undefined,
    tmpdir: undefined,
  };
  let harnessError: string | undefined;
  try {
    harnessError = await measure(run, json);
  } catch (error) {
    harnessError = error instanceof Error ? error.message : String(error);
    progress(`HARNESS ERROR: ${harnessError}`);
  } finally {
    await run.fixture?.dispose();
    if (run.tmpdir !== undefined) rmSync(run.tmpdir, { recursive: true, force: true });
    if (run.storage?.dir !== undefined) rmSync(run.storage.dir, { recursive: true, force: true });
  }
  json.env = envFields(run, cpuStart);
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
