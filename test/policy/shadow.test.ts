import { describe, expect, it } from "vitest";
import type { Decision } from "../../src/policy/decide.ts";
import { shadowDiff } from "../../src/policy/shadow.ts";
import type { RoleGrant } from "../../src/aws/session.ts";

const grant: RoleGrant = {
  alias: "deploy",
  arn: "arn:aws:iam::111122223333:role/deploy",
  maxDurationSeconds: 3600,
  sessionPolicyJson: undefined,
  sessionTags: [],
};
const allow = (overrides: Partial<Extract<Decision, { allowed: true }>> = {}): Decision => ({
  allowed: true,
  ruleId: "r1",
  alias: "deploy",
  grant,
  durationSeconds: 900,
  rateLimit: undefined,
  ...overrides,
});
const deny = (reason: Extract<Decision, { allowed: false }>["reason"], ruleId?: string): Decision => ({
  allowed: false,
  reason,
  ruleId,
});

describe("shadowDiff", () => {
  it("is undefined when both policies decide alike", () => {
    expect(shadowDiff(allow(), allow())).toBeUndefined();
    expect(shadowDiff(deny("no_matching_rule"), deny("no_matching_rule"))).toBeUndefined();
  });

  it("reports allow vs deny with rule, role and reason, and never an ARN", () => {
    const diff = shadowDiff(allow(), deny("guard_unprotected_ref", "r1"));
    expect(diff).toEqual({
      live: { allowed: true, reason: undefined, rule_id: "r1", role: "deploy", duration_seconds: 900 },
      candidate: {
        allowed: false,
        reason: "guard_unprotected_ref",
        rule_id: "r1",
        role: undefined,
        duration_seconds: undefined,
      },
      grant_differs: false,
    });
    expect(JSON.stringify(diff)).not.toContain("arn:aws");
  });

  it("reports another deciding rule, another reason, another role", () => {
    expect(shadowDiff(allow(), allow({ ruleId: "r2" }))?.candidate.rule_id).toBe("r2");
    expect(shadowDiff(deny("no_matching_rule"), deny("explicit_deny", "d"))?.candidate.reason).toBe("explicit_deny");
    expect(shadowDiff(allow(), allow({ grant: { ...grant, alias: "readonly" } }))?.candidate.role).toBe("readonly");
  });

  it("flags a role of the same name whose definition changed (ARN, policies, tags)", () => {
    expect(
      shadowDiff(allow(), allow({ grant: { ...grant, arn: "arn:aws:iam::111122223333:role/other" } }))?.grant_differs,
    ).toBe(true);
    expect(shadowDiff(allow(), allow({ grant: { ...grant, sessionTags: [["Team", "x"]] } }))?.grant_differs).toBe(true);
    expect(shadowDiff(allow(), allow({ grant: { ...grant, policyArns: [] } }))).toBeUndefined();
  });
});
