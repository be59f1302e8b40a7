import { describe, expect, it } from "vitest";
import { toDataPoint } from "../../src/audit/schema.ts";
import type { ExchangeEvent } from "../../src/audit/event.ts";
import { auditEventFromLogLine, dataPointFromLogLine } from "../../sandbox/analytics-capture.ts";

const event: ExchangeEvent = {
  request_id: "2c51e793-c19f-4478-ac26-9bfd4bb42185",
  kind: "aws",
  outcome: "denied",
  code: "forbidden",
  reason: "guard_self_hosted_runner",
  issuer: "github",
  repository: "acme/app",
  ref: "refs/heads/main",
  event_name: "push",
  rule_id: "acme-app-main-deploy",
  role_alias: undefined,
  token_sha256: "c24a8c7f9b3fca2d",
  status: 403,
  total_ms: 3,
  verify_ms: 1,
  admission_ms: undefined,
  sts_ms: undefined,
  sts_attempts: undefined,
  github_ms: 12,
  github_rate_remaining: 4990,
};

describe("the sandbox's data points come from the broker's credential_exchange log line", () => {
  it("the line (as the log sink writes it, undefined fields dropped by JSON) gives the broker's own data point", () => {
    const line = JSON.stringify({ message: "credential_exchange", ...event });
    expect(dataPointFromLogLine(line)).toEqual(toDataPoint(event));
    expect(dataPointFromLogLine(`\u001b[2m${line}\u001b[0m`)).toEqual(toDataPoint(event));
  });

  it.each([
    ["another log line", JSON.stringify({ message: "policy_shadow", request_id: "x" })],
    ["wrangler's own output", "⎔ Starting local server..."],
    ["not JSON", '{"message": "credential_exchange", '],
    ["a field of the wrong type", JSON.stringify({ message: "credential_exchange", ...event, status: "403" })],
    ["an unknown outcome", JSON.stringify({ message: "credential_exchange", ...event, outcome: "maybe" })],
  ])("%s: nothing", (_, line) => {
    expect(auditEventFromLogLine(line)).toBeUndefined();
  });

  it("ignores fields the event does not have, and text where a number belongs", () => {
    const parsed = auditEventFromLogLine(
      JSON.stringify({ message: "credential_exchange", ...event, extra: "x", sts_ms: "12" }),
    );
    expect(parsed).not.toHaveProperty("extra");
    expect(parsed?.sts_ms).toBeUndefined();
  });
});
