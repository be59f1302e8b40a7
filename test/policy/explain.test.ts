import { describe, expect, it } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { compilePolicy } from "../../src/policy/compile.ts";
import { decide, type DecisionInput } from "../../src/policy/decide.ts";
import { explain, formatExplanation } from "../../src/policy/explain.ts";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";

const policy = compilePolicy(testPolicy);
const input = (claims: Record<string, unknown>, extra: Partial<DecisionInput> = {}): DecisionInput => ({
  issuerId: "github",
  claims: { ...githubClaims(), ...claims },
  role: undefined,
  durationSeconds: undefined,
  ...extra,
});
const outcomeOf = (claims: Record<string, unknown>, ruleId: string, extra: Partial<DecisionInput> = {}) =>
  explain(policy, input(claims, extra)).rules.find((trace) => trace.rule.id === ruleId)?.outcome;

describe("explain", () => {
  it("returns decide()'s decision and one trace per rule, in declaration order", () => {
    const claims = input({});
    const explanation = explain(policy, claims);
    expect(explanation.decision).toEqual(decide(policy, claims));
    expect(explanation.rules.map((trace) => trace.rule.id)).toEqual(policy.rules.map((rule) => rule.id));
  });

  it("says which conditions failed, with the claim value and the patterns", () => {
    expect(outcomeOf({ ref: "refs/heads/dev" }, "acme-app-main-deploy")).toEqual({
      kind: "condition_failed",
      failures: [{ claim: "ref", value: "refs/heads/dev", patterns: ["refs/heads/main"] }],
    });
    expect(outcomeOf({ repository_id: undefined }, "acme-app-main-deploy")).toMatchObject({
      kind: "condition_failed",
      failures: [{ claim: "repository_id", value: undefined }],
    });
  });

  it("names the guard that blocked a matched rule", () => {
    expect(outcomeOf({ ref_protected: "false" }, "acme-app-main-deploy")).toEqual({
      kind: "guarded",
      blocked: [{ alias: "deploy", reason: "guard_unprotected_ref" }],
    });
  });

  it("reports other issuers' rules, a false `when`, a deny that decided", () => {
    expect(outcomeOf({}, "gitlab-acme-app-deploy")).toEqual({ kind: "other_issuer", issuer: "gitlab" });
    expect(
      outcomeOf(
        {
          repository: "acme/docs",
          repository_id: "874563299",
          job_workflow_ref: "x/y/.github/workflows/z.yml@refs/heads/main",
        },
        "acme-docs-readonly",
      ),
    ).toEqual({ kind: "when_false" });
    expect(outcomeOf({ repository: "acme/legacy-x" }, "deny-archived-repositories")).toEqual({ kind: "denied" });
  });

  it("formats the decision, marks the deciding rule and explains the guard", () => {
    const text = formatExplanation(explain(policy, input({ ref_protected: "false" })), {
      issuerId: "github",
      role: undefined,
    }).join("\n");
    expect(text.split("\n")[0]).toBe("DENY   guard_unprotected_ref (rule acme-app-main-deploy)");
    expect(text).toMatch(/^=> allow acme-app-main-deploy +matched, but deploy blocked by guard_unprotected_ref$/m);
    expect(text).toMatch(/^ {3}allow ghes-platform-infra-deploy +not for this issuer \(rule is for "ghes"\)$/m);
    expect(text).toMatch(/^guard_unprotected_ref: .*\(opt-out: allowUnprotectedRefs\)$/m);
  });

  it("an allow names the role, its ARN and the duration (explain is for operators, never the wire)", () => {
    const [first] = formatExplanation(explain(policy, input({})), { issuerId: "github", role: undefined });
    expect(first).toBe(
      "ALLOW  rule acme-app-main-deploy grants deploy -> arn:aws:iam::111122223333:role/acme-app-deploy for 900 s (privileged)",
    );
  });

  it("cuts long claim values short", () => {
    const [failure] = formatExplanation(explain(policy, input({ repository: "x".repeat(500) })), {
      issuerId: "github",
      role: undefined,
    }).filter((line) => line.includes("acme-app-main-deploy"));
    expect(failure?.length).toBeLessThan(400);
  });
});

describe("explain output is safe to print", () => {
  it("escapes bidi overrides and zero-width characters in claim values", () => {
    const lines = formatExplanation(explain(policy, input({ repository: "acme/\u202eppa\u200b" })), {
      issuerId: "github",
      role: undefined,
    });
    const line = lines.find((text) => text.includes("acme-app-main-deploy")) ?? "";
    expect(line).toContain('"acme/\\u202eppa\\u200b"');
    expect(line).not.toMatch(/[\u202e\u200b]/u);
  });
});
