// POST /v1/credentials's policy denials through the whole broker inside workerd: 403 forbidden with one body for every
// denial, the decision's reason in the log line and the audit event, STS never called.
import { describe, expect, it } from "vitest";
import { createHarness } from "../support/broker-harness.ts";
import { expectIssued, expectRejected } from "./helpers.ts";

// --- Policy denials: 403 forbidden --------------------------------------------------------------

describe("403 forbidden (policy denials, identical bodies)", () => {
  interface DenialCase {
    name: string;
    reason: string;
    claims: Record<string, unknown>;
    body?: Record<string, unknown>;
    ruleId?: string;
  }
  const denials: DenialCase[] = [
    { name: "repository acme/app-evil", reason: "no_matching_rule", claims: { repository: "acme/app-evil" } },
    { name: "branch refs/heads/dev", reason: "no_matching_rule", claims: { ref: "refs/heads/dev" } },
    { name: "event pull_request_target", reason: "no_matching_rule", claims: { event_name: "pull_request_target" } },
    {
      name: "role deploy requested by a pull_request token",
      reason: "role_not_granted",
      claims: { event_name: "pull_request", ref: "refs/pull/7/merge" },
      body: { role: "deploy" },
    },
    {
      name: "duration_seconds 3601 for deploy (max 3600)",
      reason: "duration_exceeds_role",
      claims: {},
      body: { role: "deploy", duration_seconds: 3601 },
      ruleId: "acme-app-main-deploy",
    },
  ];

  it.each(denials.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const h = await createHarness();
    const token = await h.mint(c.claims);
    await expectRejected(h, await h.request(token, c.body), {
      status: 403,
      code: "forbidden",
      reason: c.reason,
      token,
    });
    const event = h.events()[0] as Record<string, unknown>;
    expect(event.outcome).toBe("denied");
    if (c.ruleId !== undefined) expect(event.rule_id).toBe(c.ruleId);
    expect(event.role_alias).toBeUndefined();
  });

  it("3600 s for deploy is within the role's limit (control for the 3601 row)", async () => {
    const h = await createHarness();
    await expectIssued(h, await h.request(await h.mint(), { role: "deploy", duration_seconds: 3600 }));
  });
});
