// What `npm run bench` measures and against what: the targets, and the plan (scenarios per Worker and concurrency,
// rounds, process warm-ups), scaled by --scale / --quick.
import type { Targets } from "./figures.ts";
import type { Scenario, WorkerId } from "./measure.ts";
import { POLICY_DECISION_P50_TARGET_US } from "./policy-bench.ts";

export const TARGETS: Targets = {
  // Throughput against a Worker that makes one subrequest (a design that must call STS is measured against that, not
  // against a Worker that calls nothing), CPU per issuance, and the bundle (the request Worker's 66 KiB budget, as
  // test/e2e/deploy.test.ts asserts).
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

export const ROUNDS = 3;

/**
 * Before round 1 each Worker's process serves this many requests at PROCESS_WARMUP_CONCURRENCY, not measured: the
 * broker's p50 at concurrency 1 falls from ~3.1 ms over its first 1,000 requests to ~2.8 ms from ~1,500 on (JIT).
 */
export const PROCESS_WARMUP: Record<WorkerId, number> = {
  trivial: 3_000,
  trivial_fetch: 2_000,
  broker: 2_000,
  admission_on: 1_500,
  admission_off: 500,
  node_baseline: 2_000,
};
export const PROCESS_WARMUP_CONCURRENCY = 10;
/** The Workers whose requests each need a fresh token. */
export const BROKER_WORKERS: WorkerId[] = ["broker", "admission_on", "admission_off", "node_baseline"];

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

/** The plan at `scale`: each scenario's warm-up and measured requests scaled (at least one each). */
export function scaledScenarios(scale: number): Scenario[] {
  return SCENARIOS.map((scenario) => ({
    ...scenario,
    warmup: Math.max(1, Math.round(scenario.warmup * scale)),
    requests: Math.max(1, Math.round(scenario.requests * scale)),
  }));
}

/** Requests a Worker's process serves before round 1, at `scale`. */
export function processWarmup(worker: WorkerId, scale: number): number {
  return Math.max(1, Math.round(PROCESS_WARMUP[worker] * scale));
}

/**
 * Every request to a broker (the bundle, the A/B broker, node_baseline) carries a token of its own: how many in all.
 */
export function brokerRequestsOf(scenarios: Scenario[], scale: number): number {
  return BROKER_WORKERS.reduce(
    (sum, worker) =>
      sum +
      processWarmup(worker, scale) +
      scenarios.filter((s) => s.worker === worker).reduce((total, s) => total + ROUNDS * (s.warmup + s.requests), 0),
    0,
  );
}
