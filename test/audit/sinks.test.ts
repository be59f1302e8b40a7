import { describe, expect, it } from "vitest";
import type { AuditSink, ExchangeEvent } from "../../src/audit/event.ts";
import { REDACTED, toDataPoint } from "../../src/audit/schema.ts";
import { analyticsEngineSink, composeSinks, createAuditSink } from "../../src/audit/sinks.ts";
import { createFakeDataset } from "../support/fake-analytics.ts";

const sample: ExchangeEvent = {
  request_id: "11111111-2222-4333-8444-555555555555",
  kind: "aws",
  outcome: "denied",
  code: "forbidden",
  reason: "no_matching_rule",
  issuer: "github",
  repository: "acme/other",
  ref: "refs/heads/main",
  event_name: "push",
  rule_id: undefined,
  role_alias: undefined,
  token_sha256: "0123456789abcdef",
  status: 403,
  total_ms: 12,
  verify_ms: 10,
  admission_ms: undefined,
  sts_ms: undefined,
  sts_attempts: undefined,
};

describe("sinks", () => {
  it("createAuditSink writes the log line and the data point of the same event", () => {
    const logs: Array<Record<string, unknown>> = [];
    const dataset = createFakeDataset(() => 0);
    createAuditSink({ log: (line) => logs.push(line), dataset }).write(sample);
    expect(logs).toEqual([{ message: "credential_exchange", ...sample }]);
    expect(dataset.points).toEqual([toDataPoint(sample)]);
  });

  it("without an AUDIT binding only the log line is written", () => {
    const logs: Array<Record<string, unknown>> = [];
    createAuditSink({ log: (line) => logs.push(line), dataset: undefined }).write(sample);
    expect(logs).toHaveLength(1);
  });

  it("every sink sees the scrubbed event", () => {
    const logs: Array<Record<string, unknown>> = [];
    const dataset = createFakeDataset(() => 0);
    createAuditSink({ log: (line) => logs.push(line), dataset }).write({
      ...sample,
      ref: "arn:aws:iam::111122223333:role/x",
    });
    expect(logs[0]?.ref).toBe(REDACTED);
    expect(dataset.points[0]?.blobs?.[5]).toBe(REDACTED);
  });

  it("a throwing sink is logged by name, the others still write, and write() does not throw", () => {
    const logs: Array<Record<string, unknown>> = [];
    const written: string[] = [];
    const sinks = composeSinks(
      [
        { name: "first", sink: { write: () => void written.push("first") } },
        {
          name: "broken",
          sink: {
            write: () => {
              throw new RangeError("blob too large: acme/other refs/heads/main");
            },
          },
        },
        { name: "last", sink: { write: () => void written.push("last") } },
      ],
      (line) => logs.push(line),
    );
    expect(() => sinks.write(sample)).not.toThrow();
    expect(written).toEqual(["first", "last"]);
    expect(logs).toEqual([
      { message: "audit_sink_failed", sink: "broken", request_id: sample.request_id, error: "RangeError" },
    ]);
  });

  it("a sink returning a promise is never awaited; its rejection is logged later", async () => {
    const logs: Array<Record<string, unknown>> = [];
    let reject: (error: Error) => void = () => undefined;
    const slow: AuditSink = { write: () => new Promise<void>((_, rej) => (reject = rej)) };
    const hanging: AuditSink = { write: () => new Promise<void>(() => undefined) };
    const sinks = composeSinks(
      [
        { name: "slow", sink: slow },
        { name: "hanging", sink: hanging },
      ],
      (line) => logs.push(line),
    );
    expect(sinks.write(sample)).toBeUndefined(); // returned synchronously, nothing to wait for
    reject(new TypeError("network"));
    await Promise.resolve();
    await Promise.resolve();
    expect(logs).toEqual([
      { message: "audit_sink_failed", sink: "slow", request_id: sample.request_id, error: "TypeError" },
    ]);
  });

  it("a failing log does not fail the write either", () => {
    const sinks = composeSinks(
      [
        {
          name: "broken",
          sink: {
            write: () => {
              throw new Error("x");
            },
          },
        },
      ],
      () => {
        throw new Error("log down");
      },
    );
    expect(() => sinks.write(sample)).not.toThrow();
  });

  it("analyticsEngineSink passes AE's own limit errors up (composeSinks turns them into a log line)", () => {
    const sink = analyticsEngineSink({
      writeDataPoint: () => {
        throw new RangeError("limit");
      },
    });
    expect(() => sink.write(sample)).toThrow(RangeError);
  });
});
