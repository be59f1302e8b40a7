// What the policy-through-the-Worker tests share: a denial checked on the wire and in the audit trail.
import { expect } from "vitest";
import { expectAudit, expectNoLeak, type Harness } from "../support/broker-harness.ts";

export async function expectDenied(
  h: Harness,
  response: Response,
  reason: string,
  status = 403,
  code = "forbidden",
): Promise<void> {
  expect(response.status, await response.clone().text()).toBe(status);
  expect((await expectNoLeak(response, [reason])).error).toBe(code);
  // The audit trail: log line and Analytics Engine data point, field for field.
  expectAudit(h, {
    outcome: code === "forbidden" ? "denied" : status >= 500 ? "error" : "rejected",
    code,
    reason,
    status,
  });
}
