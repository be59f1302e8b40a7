// What the admission-through-the-broker tests share: a POST to the broker, a policy with an optional rate limit, a
// harness over it, the checks of a refusal and an error, and the admission object's stored rows.
import { expect } from "vitest";
import type { PolicyDefinition } from "../../src/policy/types.ts";
import {
  createHarness,
  expectAudit,
  expectNoLeak,
  type Harness,
  type HarnessOptions,
} from "../support/broker-harness.ts";

/**
 * The policy of these tests: pushes to acme/app main get `deploy` (optionally rate-limited), pull requests get
 * `readonly`. Matched by name, so tokens with other repository ids (other repositories' objects) are allowed too.
 */
export function testPolicy(rateLimit?: { perMinute: number; burst: number }): PolicyDefinition {
  return {
    roles: {
      deploy: { arn: "arn:aws:iam::111122223333:role/acme-app-deploy" },
      readonly: { arn: "arn:aws:iam::111122223333:role/acme-app-readonly" },
    },
    rules: [
      {
        id: "main-deploy",
        match: { repository: "acme/app", ref: "refs/heads/main", event_name: "push" },
        roles: ["deploy"],
        ...(rateLimit === undefined ? {} : { rateLimit }),
      },
      {
        id: "pull-request-readonly",
        match: { repository: "acme/app", event_name: "pull_request" },
        roles: ["readonly"],
      },
    ],
  } as unknown as PolicyDefinition;
}

export const harness = (options: HarnessOptions = {}) => createHarness({ policy: testPolicy(), ...options });

/** Asserts a leak-free error with this code, status, reason in the log line, and (for 429/503) Retry-After. */
export async function expectRefused(
  h: Harness,
  response: Response,
  expected: { status: number; code: string; reason: string; retryAfter?: string },
): Promise<void> {
  expect(response.status, await response.clone().text()).toBe(expected.status);
  // The internal reason never reaches the wire (token_reused is both: the public code names it).
  expect((await expectNoLeak(response, expected.reason === expected.code ? [] : [expected.reason])).error).toBe(
    expected.code,
  );
  expect(response.headers.get("retry-after")).toBe(expected.retryAfter ?? null);
  // The audit trail: this request's log line and its Analytics Engine data point, field for field.
  const index = h.events().findIndex((line) => line.request_id === response.headers.get("x-request-id"));
  expect(index).toBeGreaterThanOrEqual(0);
  expectAudit(
    h,
    {
      outcome: expected.status >= 500 ? "error" : "rejected",
      code: expected.code,
      reason: expected.reason,
      status: expected.status,
    },
    { index },
  );
}

/** Asserts the status and a leak-free error body with this public code. */
export async function expectError(response: Response, status: number, code: string): Promise<void> {
  expect(response.status).toBe(status);
  expect((await expectNoLeak(response)).error).toBe(code);
}
