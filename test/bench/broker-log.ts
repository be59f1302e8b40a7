// The broker's own log lines (one per exchange) summarised, per concurrency: its waits on the STS emulator and on
// admission against the client-side latency of the same requests, and every stage's timings. Pure; no I/O.
import { concurrencyKey, type ScenarioResult } from "./measure.ts";
import { round, summarise } from "./stats.ts";

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

/** Per concurrency key (c1, c100, ...), the broker's log events summarised (events carrying each `*_ms` field). */
export type BrokerStages = Record<string, { events: number } & Record<string, StageFigures | number>>;

/** The broker's own log, per concurrency: its STS and admission waits and its stage timings. */
export function brokerLogged(results: ScenarioResult[], concurrencies: number[]) {
  const stsWait: Record<string, LoggedWait> = {};
  const admission: Record<string, LoggedWait> = {};
  const brokerStages: BrokerStages = {};
  for (const concurrency of concurrencies) {
    const key = concurrencyKey(concurrency);
    const brokerResult = results.find((r) => r.scenario.worker === "broker" && r.scenario.concurrency === concurrency);
    if (brokerResult === undefined) continue;
    // The broker's own clock around its STS call (request, the emulator's work in the fakes Worker, the answer) and
    // around its admission calls (the Durable Objects): workerd's clock advances across I/O, so both are real waits.
    stsWait[key] = loggedWait(brokerResult.exchangeEvents, "sts_ms", brokerResult.latencies);
    admission[key] = loggedWait(brokerResult.exchangeEvents, "admission_ms", brokerResult.latencies);
    brokerStages[key] = { events: brokerResult.exchangeEvents.length, ...stageFigures(brokerResult.exchangeEvents) };
  }
  return { stsWait, admission, brokerStages };
}
