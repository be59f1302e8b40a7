// The bench's report, from its figures (figures.ts): the human-readable table and its notes, each target met or
// MISSED, and the fields of the final JSON line. Pure; no I/O.
import type { StageFigures } from "./broker-log.ts";
import { computeFigures, type RunFacts, type RunFigures, type Targets } from "./figures.ts";
import { concurrencyKey, scenarioKey } from "./measure.ts";
import { round } from "./stats.ts";

export type { Targets } from "./figures.ts";

export interface Report {
  /** Human-readable lines (the table and its notes). */
  lines: string[];
  /** Fields of the final JSON line. */
  fields: Record<string, unknown>;
  /** Answers with an unexpected status during measured phases, over all scenarios. */
  unexpected: number;
  pass: boolean;
}

function pad(value: string | number, width: number, left = false): string {
  const text = String(value);
  return left ? text.padEnd(width) : text.padStart(width);
}

/** One row per scenario: requests, throughput, latency, CPU per request of each process, unexpected answers. */
function tableLines(run: RunFigures): string[] {
  const { figures } = run;
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
  return lines;
}

/** Per concurrency: the broker over the ceilings, its logged waits, the admission A/B (each target met or MISSED). */
function concurrencyLines(run: RunFigures, targets: Targets): string[] {
  const { concurrencies, stsWait, admission, ratio, ratioVsTrivialFetch, cpuRatio, checks, admissionAb } = run;
  const lines: string[] = [];
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
  return lines;
}

/**
 * The broker's own stage timings, the bundle, the Node comparison, cold starts, the policy decision, harness errors.
 */
function summaryLines(run: RunFigures, facts: RunFacts): string[] {
  const { concurrencies, brokerStages, ratioVsNode, cpuRatioVsNode, cold, checks, bundleGzipKiB, unexpected } = run;
  const { bundle, targets, policyDecision, results } = facts;
  const lines: string[] = [];
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
  return lines;
}

function reportFields(run: RunFigures, facts: RunFacts): Record<string, unknown> {
  const { byWorker, ratio, ratioVsTrivialFetch, cpuRatio, cold, ratioVsNode, cpuRatioVsNode, stsWait } = run;
  const { admissionAb, admission, brokerStages, bundleGzipKiB, unexpected, checks } = run;
  const { bundle, targets, policyDecision } = facts;
  return {
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
  };
}

export function buildReport(facts: RunFacts): Report {
  const run = computeFigures(facts);
  return {
    lines: [...tableLines(run), "", ...concurrencyLines(run, facts.targets), ...summaryLines(run, facts)],
    fields: reportFields(run, facts),
    unexpected: run.unexpected,
    pass: run.unexpected === 0 && Object.values(run.checks).every(Boolean),
  };
}
