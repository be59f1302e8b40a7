// The audit write never changes or delays the answer (record.ts): a failing Analytics Engine sink, or none bound.
import { describe, expect, it } from "vitest";
import { createHarness } from "../support/broker-harness.ts";

describe("a failing sink never changes or delays the response", () => {
  it("writeDataPoint throwing: same 200 and credentials, the log line still written, the failure logged", async () => {
    const h = await createHarness({
      dataset: {
        writeDataPoint: () => {
          throw new RangeError("Analytics Engine unavailable");
        },
      },
    });
    const response = await h.request(await h.mint());
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]);
    expect(h.events()).toHaveLength(1);
    expect(h.events()[0]).toMatchObject({ outcome: "issued" });
    const requestId = response.headers.get("x-request-id");
    expect(h.logs.filter((line) => line.message === "audit_sink_failed")).toEqual([
      { message: "audit_sink_failed", sink: "analytics_engine", request_id: requestId, error: "RangeError" },
    ]);
  });

  it("writeDataPoint throwing on a rejection: the same 401 body as with a working sink", async () => {
    const working = await createHarness();
    const broken = await createHarness({
      dataset: {
        writeDataPoint: () => {
          throw new Error("x");
        },
      },
    });
    const answers = [];
    for (const h of [working, broken]) {
      const response = await h.request("not-a-jwt");
      const body = (await response.json()) as Record<string, unknown>;
      answers.push({
        status: response.status,
        error: body.error,
        keys: Object.keys(body),
        headers: [...response.headers.keys()].sort(),
      });
    }
    expect(answers[1]).toEqual(answers[0]);
  });

  it("without an AUDIT binding the broker still answers and logs", async () => {
    const h = await createHarness({ env: { AUDIT: undefined } });
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.events()).toHaveLength(1);
    expect(h.dataPoints()).toEqual([]);
  });
});
