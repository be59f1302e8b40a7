// Turns the measured results into figures: per Worker and concurrency, the broker/ceiling ratios, the broker's wait
// on the STS emulator and its admission time (both from its own log lines), its other stage timings, the bundle size,
// the policy decision figure; checks them against the targets; renders the human-readable lines and the fields of
// the final JSON line. Pure; no I/O.
import { concurrencyKey, scenarioKey, type ScenarioResult, type WorkerId } from "./measure.ts";
import type { PolicyBenchResult } from "./policy-bench.ts";
import type { ColdStart } from "./fixture.ts";
import type { Bundle } from "./runtime.ts";
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
  /** CPU ms per request of the Worker's workerd process (all its threads: HTTP, Miniflare's entry Worker, the Worker, its Durable Objects). */
  workerd_cpu_ms_per_request: number | null;
  /** CPU ms per request of the workerd process of the Worker's fakes when they run apart (null: beside the Worker, or none). */
  fakes_cpu_ms_per_request: number | null;
  /** CPU ms per request of the Node process: the HTTP client, Miniflare's Node side. */
  node_cpu_ms_per_request: number;
}

export interface StageFigures {
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
}

/** A `*_ms` field of the broker's log lines, over the events that carry it. */
export interface LoggedWait {
  /** Events carrying the field (requests that got that far). */
  events: number;
  mean_ms: number;
  p50_ms: number;
  p99_ms: number;
  total_ms: number;
  /** Its sum over the broker's summed request latency (as the client measured it). */
  share_of_latency: number;
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

export interface Report {
  /** Human-readable lines (the table and its notes). */
  lines: string[];
  /** Fields of the final JSON line. */
  fields: Record<string, unknown>;
  /** Answers with an unexpected status during measured phases, over all scenarios. */
  unexpected: number;
  pass: boolean;
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

/** p50/p99/mean of every numeric `*_ms` field across the broker's log events. */
export function stageFigures(events: Record<string, unknown>[]): Record<string, StageFigures> {
  const samples = new Map<string, number[]>();
  for (const event of events) {
    for (const [field, value] of Object.entries(event)) {
      if (!field.endsWith("_ms") || typeof value !== "number") continue;
      let list = samples.get(field);
      if (list === undefined) {
        list = [];
        samples.set(field, list);
      }
      list.push(value);
    }
  }
  const figures: Record<string, StageFigures> = {};
  for (const [field, values] of [...samples].sort(([a], [b]) => a.localeCompare(b))) {
    const summary = summarise(values);
    figures[field] = {
      p50_ms: round(summary.p50_ms, 3),
      p99_ms: round(summary.p99_ms, 3),
      mean_ms: round(summary.mean_ms, 3),
    };
  }
  return figures;
}

/** One logged `*_ms` field of the broker's events, summarised against the client-side latency of the same requests. */
export function loggedWait(events: Record<string, unknown>[], field: string, latencies: number[]): LoggedWait {
  const values = events.map((event) => event[field]).filter((value): value is number => typeof value === "number");
  const summary = summarise(values);
  const latencyTotal = latencies.reduce((sum, value) => sum + value, 0);
  return {
    events: summary.count,
    mean_ms: round(summary.mean_ms, 3),
    p50_ms: round(summary.p50_ms, 3),
    p99_ms: round(summary.p99_ms, 3),
    total_ms: round(summary.total_ms, 1),
    share_of_latency: latencyTotal > 0 ? round(summary.total_ms / latencyTotal, 3) : Number.NaN,
  };
}

function pad(value: string | number, width: number, left = false): string {
  const text = String(value);
  return left ? text.padEnd(width) : text.padStart(width);
}

export function buildReport(facts: RunFacts): Report {
  const { results, bundle, targets, policyDecision, coldStarts } = facts;
  const find = (worker: WorkerId, concurrency: number) =>
    results.find((r) => r.scenario.worker === worker && r.scenario.concurrency === concurrency);
  const figures = new Map<ScenarioResult, Figures>(results.map((result) => [result, figuresOf(result)]));
  const figuresFor = (worker: WorkerId, concurrency: number) => {
    const result = find(worker, concurrency);
    return result === undefined ? undefined : figures.get(result);
  };

  // Per Worker, per concurrency.
  const byWorker: Partial<Record<WorkerId, Record<string, Figures>>> = {};
  for (const [result, value] of figures) {
    const row = byWorker[result.scenario.worker] ?? {};
    byWorker[result.scenario.worker] = row;
    row[concurrencyKey(result.scenario.concurrency)] = value;
  }

  // Side by side, per concurrency.
  const concurrencies = [...new Set(results.map((result) => result.scenario.concurrency))];
  /** The broker over `reference`, per concurrency: requests/s, and CPU per request of the serving process. */
  const brokerOver = (reference: WorkerId) => {
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
  };
  const ratio = brokerOver("trivial").rps;
  // Workerd CPU per request, broker over trivial_fetch (the same fakes Worker sits in both processes).
  const { rps: ratioVsTrivialFetch, cpu: cpuRatio } = brokerOver("trivial_fetch");
  // A comparison, no target: the broker against the same exchange the conventional Node way (node_baseline),
  // requests/s (> 1: the broker serves more) and CPU per issuance of the serving process (< 1: the broker uses less).
  const { rps: ratioVsNode, cpu: cpuRatioVsNode } = brokerOver("node_baseline");
  const stsWait: Record<string, LoggedWait> = {};
  const admission: Record<string, LoggedWait> = {};
  const brokerStages: Record<string, { events: number } & Record<string, StageFigures | number>> = {};
  for (const concurrency of concurrencies) {
    const key = concurrencyKey(concurrency);
    const brokerResult = find("broker", concurrency);
    if (brokerResult === undefined) continue;
    // The broker's own clock around its STS call (request, the emulator's work in the fakes Worker, the answer) and
    // around its admission calls (the Durable Objects): workerd's clock advances across I/O, so both are real waits.
    stsWait[key] = loggedWait(brokerResult.exchangeEvents, "sts_ms", brokerResult.latencies);
    admission[key] = loggedWait(brokerResult.exchangeEvents, "admission_ms", brokerResult.latencies);
    brokerStages[key] = { events: brokerResult.exchangeEvents.length, ...stageFigures(brokerResult.exchangeEvents) };
  }

  const on = figuresFor("admission_on", 1);
  const off = figuresFor("admission_off", 1);
  const admissionAb: AdmissionAb | undefined =
    on === undefined || off === undefined
      ? undefined
      : {
          requests_per_arm: Math.min(on.requests, off.requests),
          on_p50_ms: on.p50_ms,
          off_p50_ms: off.p50_ms,
          added_p50_ms: round(on.p50_ms - off.p50_ms, 3),
          on_mean_ms: on.mean_ms,
          off_mean_ms: off.mean_ms,
          added_mean_ms: round(on.mean_ms - off.mean_ms, 3),
        };

  const cold = {
    broker: coldStartFigures(coldStarts.broker),
    trivial_fetch: coldStartFigures(coldStarts.trivial_fetch),
  };

  const bundleGzipKiB = bundle.gzipBytes / 1024;
  const checks = {
    broker_rps_c1_vs_trivial_fetch: (ratioVsTrivialFetch.c1 ?? 0) >= targets.broker_rps_c1_vs_trivial_fetch_min,
    cpu_ratio_vs_trivial_fetch: (cpuRatio.c1 ?? Number.POSITIVE_INFINITY) <= targets.cpu_ratio_vs_trivial_fetch_max,
    bundle_gzip_kib: bundleGzipKiB <= targets.bundle_gzip_kib_max,
    admission_added_p50_ms:
      (admissionAb?.added_p50_ms ?? Number.POSITIVE_INFINITY) <= targets.admission_added_p50_ms_max,
    policy_decision_p50_us: policyDecision.p50_us <= targets.policy_decision_p50_us_max,
  };
  const unexpected = results.reduce((sum, result) => sum + result.unexpected, 0);

  // The table.
  const lines: string[] = [];
  lines.push(
    `${pad("worker", 14, true)} ${pad("conc", 5)} ${pad("requests", 9)} ${pad("req/s", 9)} ${pad("p50 ms", 8)} ${pad("p99 ms", 8)} ${pad("mean ms", 8)} ${pad("cpu ms/req: workerd", 20)} ${pad("fakes", 6)} ${pad("node", 6)} ${pad("bad", 5)}`,
  );
  for (const [result, f] of figures) {
    const { worker, concurrency } = result.scenario;
    lines.push(
      `${pad(worker, 14, true)} ${pad(concurrency, 5)} ${pad(f.requests, 9)} ${pad(f.rps.toFixed(1), 9)} ${pad(f.p50_ms.toFixed(2), 8)} ${pad(f.p99_ms.toFixed(2), 8)} ${pad(f.mean_ms.toFixed(2), 8)} ${pad(f.workerd_cpu_ms_per_request?.toFixed(3) ?? "n/a", 20)} ${pad(f.fakes_cpu_ms_per_request?.toFixed(3) ?? "-", 6)} ${pad(f.node_cpu_ms_per_request.toFixed(3), 6)} ${pad(f.non_expected, 5)}`,
    );
  }
  lines.push("");
  for (const concurrency of concurrencies) {
    const key = concurrencyKey(concurrency);
    const wait = stsWait[key];
    const admit = admission[key];
    lines.push(
      `concurrency ${concurrency}: broker/trivial ${ratio[key]?.toFixed(3) ?? "n/a"}, broker/trivial_fetch ${ratioVsTrivialFetch[key]?.toFixed(3) ?? "n/a"}` +
        (concurrency === 1
          ? ` (target >= ${targets.broker_rps_c1_vs_trivial_fetch_min}: ${checks.broker_rps_c1_vs_trivial_fetch ? "met" : "MISSED"})`
          : "") +
        `; workerd CPU per request, broker/trivial_fetch ${cpuRatio[key]?.toFixed(3) ?? "n/a"}` +
        (concurrency === 1
          ? ` (target <= ${targets.cpu_ratio_vs_trivial_fetch_max}: ${checks.cpu_ratio_vs_trivial_fetch ? "met" : "MISSED"})`
          : ""),
    );
    if (wait !== undefined) {
      lines.push(
        `  broker waiting on the STS emulator (its sts_ms): mean ${wait.mean_ms.toFixed(3)} ms, p50 ${wait.p50_ms.toFixed(3)} ms, p99 ${wait.p99_ms.toFixed(3)} ms ` +
          `over ${wait.events} calls = ${(wait.share_of_latency * 100).toFixed(1)}% of its latency`,
      );
    }
    if (admit !== undefined) {
      lines.push(
        `  broker's admission calls (its admission_ms): mean ${admit.mean_ms.toFixed(3)} ms, p50 ${admit.p50_ms.toFixed(3)} ms, p99 ${admit.p99_ms.toFixed(3)} ms`,
      );
    }
    if (concurrency === 1 && admissionAb !== undefined) {
      lines.push(
        `  admission adds (A/B, one process, ${admissionAb.requests_per_arm} requests per arm): p50 ${admissionAb.added_p50_ms.toFixed(3)} ms ` +
          `(${admissionAb.on_p50_ms.toFixed(3)} with, ${admissionAb.off_p50_ms.toFixed(3)} without), mean ${admissionAb.added_mean_ms.toFixed(3)} ms ` +
          `(target p50 <= ${targets.admission_added_p50_ms_max} ms: ${checks.admission_added_p50_ms ? "met" : "MISSED"})`,
      );
    }
  }
  for (const concurrency of concurrencies) {
    const stages = brokerStages[concurrencyKey(concurrency)];
    if (stages === undefined) continue;
    const parts = Object.entries(stages)
      .filter((entry): entry is [string, StageFigures] => typeof entry[1] === "object")
      .map(([field, value]) => `${field.replace(/_ms$/, "")} ${value.p50_ms}`);
    lines.push(
      `broker's own timings at concurrency ${concurrency} (p50 ms, its log; workerd's clock stands still during CPU work): ${parts.join(", ") || "none logged"}`,
    );
  }
  lines.push(
    `bundle: ${bundle.files.map((file) => `${file.name} ${file.bytes} B`).join(", ")}; gzip ${bundleGzipKiB.toFixed(2)} KiB` +
      (bundle.wranglerGzipKiB === undefined ? "" : ` (wrangler: ${bundle.wranglerGzipKiB} KiB)`) +
      ` (target <= ${targets.bundle_gzip_kib_max} KiB: ${checks.bundle_gzip_kib ? "met" : "MISSED"})`,
  );
  for (const concurrency of concurrencies) {
    const key = concurrencyKey(concurrency);
    if (ratioVsNode[key] === undefined) continue;
    lines.push(
      `concurrency ${concurrency}: broker/node_baseline ${ratioVsNode[key].toFixed(3)} in requests/s, ${cpuRatioVsNode[key]?.toFixed(3) ?? "n/a"} in CPU per issuance ` +
        "(the same exchange in Node with Express, jsonwebtoken and the AWS SDK: no single use, limits, kill switch or audit)",
    );
  }
  for (const worker of ["broker", "trivial_fetch"] as const) {
    const figures = cold[worker];
    lines.push(
      `cold start, ${worker} (median of ${figures.samples} fresh processes): workerd start ${figures.startup_wall_ms} ms wall, ${figures.startup_cpu_ms ?? "n/a"} ms CPU; ` +
        `first request ${figures.first_request_wall_ms} ms wall, ${figures.first_request_cpu_ms ?? "n/a"} ms CPU`,
    );
  }
  lines.push(
    `policy decision: ${policyDecision.rules} rules, p50 ${policyDecision.p50_us} µs, p99 ${policyDecision.p99_us} µs ` +
      `(target p50 <= ${targets.policy_decision_p50_us_max} µs: ${checks.policy_decision_p50_us ? "met" : "MISSED"})`,
  );
  if (unexpected > 0) {
    lines.push(`HARNESS ERROR: ${unexpected} answers with an unexpected status during measured phases:`);
    for (const result of results)
      for (const failure of result.failures)
        lines.push(`  ${scenarioKey(result.scenario)}: ${failure.status} ${failure.body}`);
  }

  return {
    lines,
    fields: {
      broker: byWorker.broker,
      trivial: byWorker.trivial,
      trivial_fetch: byWorker.trivial_fetch,
      ratio,
      ratio_vs_trivial_fetch: ratioVsTrivialFetch,
      // workerd CPU per request over trivial_fetch's, at concurrency 1 (the target), and per concurrency.
      cpu_ratio_vs_trivial_fetch: cpuRatio.c1 ?? null,
      cpu_ratio_vs_trivial_fetch_by_concurrency: cpuRatio,
      cold_start: cold,
      // A comparison (no target): node_baseline is node-baseline-server.ts; its `workerd_cpu_ms_per_request`
      // is its Node process's CPU. Ratios are broker over node_baseline.
      node_baseline: byWorker.node_baseline,
      ratio_vs_node_baseline: ratioVsNode,
      cpu_ratio_vs_node_baseline: cpuRatioVsNode.c1 ?? null,
      cpu_ratio_vs_node_baseline_by_concurrency: cpuRatioVsNode,
      sts_wait: stsWait,
      // What admission adds at concurrency 1 (the A/B), its arms, and the broker's own admission_ms.
      admission: {
        p50_added_ms_c1: admissionAb?.added_p50_ms ?? null,
        mean_added_ms_c1: admissionAb?.added_mean_ms ?? null,
        ab_c1: admissionAb ?? null,
        logged: admission,
      },
      broker_stages: brokerStages,
      policy_decision: policyDecision,
      bundle: {
        files: bundle.files.map((file) => ({ name: file.name, bytes: file.bytes, gzip_bytes: file.gzipBytes })),
        bytes: bundle.bytes,
        gzip_bytes: bundle.gzipBytes,
        gzip_kib: round(bundleGzipKiB, 2),
        wrangler_gzip_kib: bundle.wranglerGzipKiB ?? null,
        build_ms: round(bundle.buildMs, 0),
      },
      non_200: unexpected,
      targets,
      checks,
    },
    unexpected,
    pass: unexpected === 0 && Object.values(checks).every(Boolean),
  };
}
