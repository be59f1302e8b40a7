// Audit sinks: the Analytics Engine data point, and the composition that feeds every sink one (scrubbed) event.
// No clock. A failing or slow sink never delays or changes the response: errors are logged, promises never awaited.
import type { LogFn } from "../deps.ts";
import { logSink, type AuditSink, type ExchangeEvent } from "./event.ts";
import { scrubEvent, toDataPoint, type AuditDataPoint } from "./schema.ts";

/** The part of an Analytics Engine binding we use (`env.AUDIT`); tests pass a recording fake. */
export interface DataPointWriter {
  writeDataPoint(point: AuditDataPoint): void;
}

/**
 * Writes each event as one data point. `writeDataPoint` is non-blocking: the runtime sends it after the response
 * (developers.cloudflare.com/analytics/analytics-engine/get-started/), so there is nothing to await.
 */
export function analyticsEngineSink(dataset: DataPointWriter): AuditSink {
  return {
    write(event) {
      dataset.writeDataPoint(toDataPoint(event));
    },
  };
}

export interface NamedSink {
  name: string;
  sink: AuditSink;
}

function errorName(error: unknown): string {
  const name = error instanceof Error ? error.name : typeof error;
  return /^[A-Za-z]{1,40}$/.test(name) ? name : "unknown";
}

/**
 * One sink that writes to each of `sinks` in turn. A sink that throws, or returns a promise that rejects, costs one
 * `audit_sink_failed` log line (sink name and error name only: an error message could echo event data) and nothing
 * else: the other sinks still run and the caller never sees the failure.
 */
export function composeSinks(sinks: NamedSink[], log: LogFn): AuditSink {
  const failed = (name: string, event: ExchangeEvent, error: unknown) => {
    try {
      log({ message: "audit_sink_failed", sink: name, request_id: event.request_id, error: errorName(error) });
    } catch {
      // The log itself failing must not fail the request either.
    }
  };
  return {
    write(raw) {
      const event = scrubEvent(raw);
      for (const { name, sink } of sinks) {
        try {
          const pending = sink.write(event);
          if (pending !== undefined && typeof pending.then === "function")
            pending.then(undefined, (error: unknown) => failed(name, event, error));
        } catch (error) {
          failed(name, event, error);
        }
      }
    },
  };
}

/** The broker's audit sink: the structured log line always, the Analytics Engine data point when the binding exists. */
export function createAuditSink(options: { log: LogFn; dataset: DataPointWriter | undefined }): AuditSink {
  const sinks: NamedSink[] = [{ name: "log", sink: logSink(options.log) }];
  if (options.dataset !== undefined)
    sinks.push({ name: "analytics_engine", sink: analyticsEngineSink(options.dataset) });
  return composeSinks(sinks, options.log);
}
