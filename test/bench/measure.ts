// One measured segment of the benchmark (warm-up, then the counted requests) and what it records: latencies and
// statuses, CPU of both processes, and the broker's own log events (its stage timings, STS wait included).
import { keepAliveAgent, runLoad, unexpectedCount, type LoadRequest, type LoadResult } from "./load.ts";
import type { WorkerHandle } from "./runtime.ts";

/**
 * broker: the bundle. trivial: `new Response("ok")`, the ceiling. trivial_fetch: the trivial Worker plus one
 * outbound fetch answered at once by the same fakes Worker the broker's STS call goes to (in the same workerd):
 * the ceiling of any Worker that makes one subrequest in this harness (it prices the subrequest itself).
 * admission_on / admission_off: one process of broker-ab-worker.ts (the broker built from src/), its requests with
 * admission as usual or switched off: their difference is what admission adds. node_baseline: the same exchange
 * written the conventional Node way (node-baseline-server.ts, its own Node process), for comparison.
 */
export type WorkerId = "trivial" | "trivial_fetch" | "broker" | "admission_on" | "admission_off" | "node_baseline";

export interface Scenario {
  worker: WorkerId;
  concurrency: number;
  /** Requests sent before each measured segment and not counted (JIT, connections, JWKS fetch, DO start). */
  warmup: number;
  /** Measured requests per round. */
  requests: number;
  /** The status every answer must have (a later scenario may expect 429, say). */
  expectStatus: number;
}

export const concurrencyKey = (concurrency: number): string => `c${concurrency}`;
export const scenarioKey = (scenario: Pick<Scenario, "worker" | "concurrency">): string =>
  `${scenario.worker} ${concurrencyKey(scenario.concurrency)}`;

/** A running Worker and how to build its i-th request. */
export interface Target {
  handle: WorkerHandle;
  /** The process of the Worker's fakes when they run apart (start-broker.ts FakesPlacement): its CPU reported apart. */
  fakes?: WorkerHandle | undefined;
  request: (index: number) => LoadRequest;
  /** Where the Worker's per-exchange log lines land (the broker only). */
  exchangeLog?: ExchangeLog;
}

// --- Recorders -----------------------------------------------------------------------------------

/**
 * The broker logs one `credential_exchange` line per request (its audit event) with its stage timings (`*_ms`).
 * Collected here, they split the broker's latency by stage. workerd's clock advances only across I/O, so a
 * CPU-only stage (verification with a cached key set) reads 0 there: CPU cost shows in the cpu ms/req figures.
 */
export class ExchangeLog {
  readonly events: Record<string, unknown>[] = [];

  onLog = (_level: string, message: string): void => {
    if (!message.startsWith("{")) return;
    try {
      const line = JSON.parse(message) as Record<string, unknown>;
      if (line.message === "credential_exchange") this.events.push(line);
    } catch {
      // Not a JSON line: not ours to read.
    }
  };

  /** Log lines travel through workerd's stdout pipe: wait (briefly) until `count` have arrived. */
  async waitFor(count: number, timeoutMs = 2_000): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (this.events.length < count && performance.now() < until)
      await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// --- Segments ------------------------------------------------------------------------------------

/** Everything measured for one scenario, pooled over its rounds. */
export interface ScenarioResult {
  scenario: Scenario;
  requests: number;
  wallMs: number;
  latencies: number[];
  statuses: Map<number, number>;
  /** Answers whose status was not `scenario.expectStatus`: any is a harness error. */
  unexpected: number;
  failures: LoadResult["failures"];
  /**
   * CPU used during the measured requests by the Worker's workerd process, its fakes Worker included (undefined: not
   * measurable here).
   */
  workerdCpuMs: number | undefined;
  /** CPU used meanwhile by the fakes' own process (undefined: they run in the Worker's process, or not measurable). */
  fakesCpuMs: number | undefined;
  /** CPU used by this Node process meanwhile: the HTTP client and Miniflare's Node side. */
  nodeCpuMs: number;
  /** The Worker's own log events for the measured requests (broker only). */
  exchangeEvents: Record<string, unknown>[];
}

const MAX_KEPT_FAILURES = 5;

export function emptyResult(scenario: Scenario): ScenarioResult {
  return {
    scenario,
    requests: 0,
    wallMs: 0,
    latencies: [],
    statuses: new Map(),
    unexpected: 0,
    failures: [],
    workerdCpuMs: 0,
    fakesCpuMs: 0,
    nodeCpuMs: 0,
    exchangeEvents: [],
  };
}

/**
 * Requests that only warm a Worker's process up (JIT, caches, heap), before its first measured segment: the broker's
 * latency keeps falling over its first ~1,500 requests. Not counted; an unexpected status aborts the run.
 */
export async function warmProcess(target: Target, requests: number, concurrency: number): Promise<void> {
  const agent = keepAliveAgent(concurrency);
  try {
    const warm = await runLoad({
      origin: target.handle.url,
      concurrency,
      agent,
      request: target.request,
      requests,
      expectStatus: 200,
    });
    const bad = unexpectedCount(warm, 200);
    if (bad > 0)
      throw new Error(
        `${target.handle.name} process warm-up: ${bad}/${requests} answers were not 200: ${JSON.stringify(warm.failures.slice(0, 2))}`,
      );
  } finally {
    agent.destroy();
  }
}

/**
 * Warm-up (not counted; an unexpected status there aborts the run: the setup is wrong), then the measured requests,
 * on fresh keep-alive connections. Adds what it measured to `into`.
 */
export async function runSegment(scenario: Scenario, target: Target, into: ScenarioResult): Promise<void> {
  const agent = keepAliveAgent(scenario.concurrency);
  const logBase = target.exchangeLog?.events.length ?? 0;
  try {
    const options = {
      origin: target.handle.url,
      concurrency: scenario.concurrency,
      agent,
      request: target.request,
      expectStatus: scenario.expectStatus,
    };
    if (scenario.warmup > 0) {
      const warm = await runLoad({ ...options, requests: scenario.warmup });
      const bad = unexpectedCount(warm, scenario.expectStatus);
      if (bad > 0) {
        throw new Error(
          `${scenarioKey(scenario)} warm-up: ${bad}/${warm.requests} answers were not ${scenario.expectStatus}: ` +
            `${JSON.stringify(warm.failures.slice(0, 2))}\nlast log lines:\n${target.handle.recentLogs.slice(-5).join("\n")}`,
        );
      }
    }

    const workerdCpuBefore = target.handle.cpuMs();
    const fakesCpuBefore = target.fakes?.cpuMs();
    const nodeCpuBefore = process.cpuUsage();
    const result = await runLoad({ ...options, requests: scenario.requests });
    const nodeCpu = process.cpuUsage(nodeCpuBefore);
    const workerdCpuAfter = target.handle.cpuMs();
    const fakesCpuAfter = target.fakes?.cpuMs();

    into.requests += result.requests;
    into.wallMs += result.wallMs;
    for (const value of result.latenciesMs) into.latencies.push(value);
    for (const [status, count] of result.statuses) {
      into.statuses.set(status, (into.statuses.get(status) ?? 0) + count);
      if (status !== scenario.expectStatus) into.unexpected += count;
    }
    into.failures.push(...result.failures.slice(0, MAX_KEPT_FAILURES - into.failures.length));
    into.nodeCpuMs += (nodeCpu.user + nodeCpu.system) / 1000;
    into.workerdCpuMs =
      into.workerdCpuMs === undefined || workerdCpuBefore === undefined || workerdCpuAfter === undefined
        ? undefined
        : into.workerdCpuMs + workerdCpuAfter - workerdCpuBefore;
    into.fakesCpuMs =
      into.fakesCpuMs === undefined || fakesCpuBefore === undefined || fakesCpuAfter === undefined
        ? undefined
        : into.fakesCpuMs + fakesCpuAfter - fakesCpuBefore;
    if (target.exchangeLog !== undefined) {
      const from = logBase + scenario.warmup;
      await target.exchangeLog.waitFor(from + scenario.requests);
      into.exchangeEvents.push(...target.exchangeLog.events.slice(from, from + scenario.requests));
    }
  } finally {
    agent.destroy();
  }
}
