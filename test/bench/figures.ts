// The bench's figures from its measured results: per Worker and concurrency, the broker over each reference Worker
// (requests/s and CPU), the broker's logged waits on the STS emulator and admission and its other stage timings, the
// admission A/B, cold-start medians, and the checks against the targets. Pure; no I/O.
import type { Bundle } from "./bundle.ts";
import type { ColdStart } from "./cold-start.ts";
import { concurrencyKey, type ScenarioResult, type WorkerId } from "./measure.ts";
import type { PolicyBenchResult } from "./policy-bench.ts";
import { brokerLogged, type BrokerStages, type LoggedWait } from "./broker-log.ts";
import { round, summarise } from "./stats.ts";

export interface Targets {
  /** broker requests/s at concurrency 1 as a fraction of trivial_fetch's (one subrequest), same run. */
  broker_rps_c1_vs_trivial_fetch_min: number;
  /** workerd CPU per issuance at concurrency 1 over trivial_fetch's, same run. */
  cpu_ratio_vs_trivial_fetch_max: number;
  /** Bundle size, gzip (zlib default level) of the uploaded module file(s), KiB. */
  bundle_gzip_kib_max: number;
  /** what admission adds at concurrency 1, p50, ms (the A/B: admission_on minus admission_off). */
  admission_added_p50_ms_max: number;
  /** one policy decision over a 1,000-rule policy, p50, µs (policy-bench.ts). */
  policy_decision_p50_us_max: number;
}

export interface Figures {
  requests: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
  max_ms: number;
  /** Answers with another status than the scenario expects (a harness error when > 0). */
  non_expected: number;
  statuses: Record<string, number>;
  /**
   * CPU ms per request of the Worker's workerd process (all its threads: HTTP, Miniflare's entry Worker, the Worker,
   * its Durable Objects).
   */
  workerd_cpu_ms_per_request: number | null;
  /**
   * CPU ms per request of the workerd process of the Worker's fakes when they run apart (null: beside the Worker, or
   * none).
   */
  fakes_cpu_ms_per_request: number | null;
  /** CPU ms per request of the Node process: the HTTP client, Miniflare's Node side. */
  node_cpu_ms_per_request: number;
}

/** What admission adds: one process (broker-ab-worker.ts), requests with admission and without, at concurrency 1. */
export interface AdmissionAb {
  requests_per_arm: number;
  on_p50_ms: number;
  off_p50_ms: number;
  added_p50_ms: number;
  on_mean_ms: number;
  off_mean_ms: number;
  added_mean_ms: number;
}

export interface RunFacts {
  /** In plan order; one per scenario, pooled over rounds. */
  results: ScenarioResult[];
  bundle: Bundle;
  policyDecision: PolicyBenchResult;
  /** Fresh processes, one request each, per Worker. */
  coldStarts: Record<"broker" | "trivial_fetch", ColdStart[]>;
  targets: Targets;
}

/** Medians of each cold-start figure over the samples (null when any sample lacks it). */
function coldStartFigures(samples: ColdStart[]): Record<string, number | null> & { samples: number } {
  const median = (values: Array<number | null>): number | null => {
    if (values.length === 0 || values.some((value) => value === null)) return null;
    const sorted = (values as number[]).toSorted((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return round(
      sorted.length % 2 === 1
        ? (sorted[middle] as number)
        : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2,
      2,
    );
  };
  return {
    samples: samples.length,
    startup_wall_ms: median(samples.map((sample) => sample.startup_wall_ms)),
    startup_cpu_ms: median(samples.map((sample) => sample.startup_cpu_ms)),
    first_request_wall_ms: median(samples.map((sample) => sample.first_request_wall_ms)),
    first_request_cpu_ms: median(samples.map((sample) => sample.first_request_cpu_ms)),
  };
}

function figuresOf(result: ScenarioResult): Figures {
  const latency = summarise(result.latencies);
  return {
    requests: result.requests,
    rps: round(result.requests / (result.wallMs / 1000), 1),
    p50_ms: round(latency.p50_ms, 3),
    p99_ms: round(latency.p99_ms, 3),
    mean_ms: round(latency.mean_ms, 3),
    max_ms: round(latency.max_ms, 3),
    non_expected: result.unexpected,
    statuses: Object.fromEntries([...result.statuses].map(([status, count]) => [String(status), count])),
    workerd_cpu_ms_per_request:
      result.workerdCpuMs === undefined ? null : round(result.workerdCpuMs / result.requests, 3),
    fakes_cpu_ms_per_request:
      result.fakesCpuMs === undefined || result.scenario.worker === "trivial"
        ? null
        : round(result.fakesCpuMs / result.requests, 3),
    node_cpu_ms_per_request: round(result.nodeCpuMs / result.requests, 3),
  };
}

/** The targets, each met or missed (the final JSON's `checks`). */
export type Check =
  | "broker_rps_c1_vs_trivial_fetch"
  | "cpu_ratio_vs_trivial_fetch"
  | "bundle_gzip_kib"
  | "admission_added_p50_ms"
  | "policy_decision_p50_us";

/** Everything the report shows, computed once. */
export interface RunFigures {
  /** Per scenario, in plan order. */
  figures: Map<ScenarioResult, Figures>;
  byWorker: Partial<Record<WorkerId, Record<string, Figures>>>;
  concurrencies: number[];
  /** Per concurrency key, the broker over trivial, trivial_fetch, node_baseline: requests/s, workerd CPU/request. */
  ratio: Record<string, number>;
  ratioVsTrivialFetch: Record<string, number>;
  cpuRatio: Record<string, number>;
  ratioVsNode: Record<string, number>;
  cpuRatioVsNode: Record<string, number>;
  stsWait: Record<string, LoggedWait>;
  admission: Record<string, LoggedWait>;
  brokerStages: BrokerStages;
  admissionAb: AdmissionAb | undefined;
  cold: Record<"broker" | "trivial_fetch", ReturnType<typeof coldStartFigures>>;
  bundleGzipKiB: number;
  checks: Record<Check, boolean>;
  /** Answers with an unexpected status during measured phases, over all scenarios. */
  unexpected: number;
}

type FiguresFor = (worker: WorkerId, concurrency: number) => Figures | undefined;

/** The broker over `reference`, per concurrency: requests/s, and CPU per request of the serving process. */
function brokerOver(figuresFor: FiguresFor, concurrencies: number[], reference: WorkerId) {
  const rps: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  for (const concurrency of concurrencies) {
    const key = concurrencyKey(concurrency);
    const broker = figuresFor("broker", concurrency);
    const other = figuresFor(reference, concurrency);
    if (broker === undefined || other === undefined) continue;
    rps[key] = round(broker.rps / other.rps, 3);
    const brokerCpu = broker.workerd_cpu_ms_per_request;
    const otherCpu = other.workerd_cpu_ms_per_request;
    if (typeof brokerCpu === "number" && typeof otherCpu === "number" && otherCpu > 0)
      cpu[key] = round(brokerCpu / otherCpu, 3);
  }
  return { rps, cpu };
}

function admissionAbOf(on: Figures | undefined, off: Figures | undefined): AdmissionAb | undefined {
  if (on === undefined || off === undefined) return undefined;
  return {
    requests_per_arm: Math.min(on.requests, off.requests),
    on_p50_ms: on.p50_ms,
    off_p50_ms: off.p50_ms,
    added_p50_ms: round(on.p50_ms - off.p50_ms, 3),
    on_mean_ms: on.mean_ms,
    off_mean_ms: off.mean_ms,
    added_mean_ms: round(on.mean_ms - off.mean_ms, 3),
  };
}

export function computeFigures(facts: RunFacts): RunFigures {
  const { results, bundle, targets, policyDecision, coldStarts } = facts;
  const figures = new Map<ScenarioResult, Figures>(results.map((result) => [result, figuresOf(result)]));
  const figuresFor: FiguresFor = (worker, concurrency) => {
    const result = results.find((r) => r.scenario.worker === worker && r.scenario.concurrency === concurrency);
    return result === undefined ? undefined : figures.get(result);
  };
  const byWorker: RunFigures["byWorker"] = {};
  for (const [result, value] of figures) {
    const perConcurrency = byWorker[result.scenario.worker] ?? {};
    perConcurrency[concurrencyKey(result.scenario.concurrency)] = value;
    byWorker[result.scenario.worker] = perConcurrency;
  }
  const concurrencies = [...new Set(results.map((result) => result.scenario.concurrency))];
  const ratio = brokerOver(figuresFor, concurrencies, "trivial").rps;
  // Workerd CPU per request, broker over trivial_fetch (the same fakes Worker sits in both processes).
  const { rps: ratioVsTrivialFetch, cpu: cpuRatio } = brokerOver(figuresFor, concurrencies, "trivial_fetch");
  // A comparison, no target: the broker against the same exchange the conventional Node way (node_baseline),
  // requests/s (> 1: the broker serves more) and CPU per issuance of the serving process (< 1: the broker uses less).
  const { rps: ratioVsNode, cpu: cpuRatioVsNode } = brokerOver(figuresFor, concurrencies, "node_baseline");
  const admissionAb = admissionAbOf(figuresFor("admission_on", 1), figuresFor("admission_off", 1));
  const bundleGzipKiB = bundle.gzipBytes / 1024;
  const checks: Record<Check, boolean> = {
    broker_rps_c1_vs_trivial_fetch: (ratioVsTrivialFetch.c1 ?? 0) >= targets.broker_rps_c1_vs_trivial_fetch_min,
    cpu_ratio_vs_trivial_fetch: (cpuRatio.c1 ?? Number.POSITIVE_INFINITY) <= targets.cpu_ratio_vs_trivial_fetch_max,
    bundle_gzip_kib: bundleGzipKiB <= targets.bundle_gzip_kib_max,
    admission_added_p50_ms:
      (admissionAb?.added_p50_ms ?? Number.POSITIVE_INFINITY) <= targets.admission_added_p50_ms_max,
    policy_decision_p50_us: policyDecision.p50_us <= targets.policy_decision_p50_us_max,
  };
  return {
    figures,
    byWorker,
    concurrencies,
    ratio,
    ratioVsTrivialFetch,
    cpuRatio,
    ratioVsNode,
    cpuRatioVsNode,
    ...brokerLogged(results, concurrencies),
    admissionAb,
    cold: { broker: coldStartFigures(coldStarts.broker), trivial_fetch: coldStartFigures(coldStarts.trivial_fetch) },
    bundleGzipKiB,
    checks,
    unexpected: results.reduce((sum, result) => sum + result.unexpected, 0),
  };
}
