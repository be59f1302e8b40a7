import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/policy/compile.ts";
import { decide, type DecisionInput } from "../../src/policy/decide.ts";
import { definePolicy } from "../../src/policy/define.ts";
import examplePolicy from "../../policies/index.ts";

const policy = compilePolicy(examplePolicy, { issuerIds: ["github"] });

function input(claims: Record<string, unknown>, extra: Partial<DecisionInput> = {}): DecisionInput {
  return {
    issuerId: "github",
    claims: { repository: "acme/app", ref: "refs/heads/main", event_name: "push", ...claims },
    role: undefined,
    durationSeconds: undefined,
    ...extra,
  };
}

describe("decide with the example policy", () => {
  it("grants deploy to acme/app main on push and workflow_dispatch", () => {
    for (const event_name of ["push", "workflow_dispatch"]) {
      const decision = decide(policy, input({ event_name }));
      expect(decision).toMatchObject({ allowed: true, ruleId: "acme-app-main-deploy", durationSeconds: 900 });
      if (decision.allowed) expect(decision.grant.alias).toBe("deploy");
    }
  });

  it("grants readonly to acme/app pull requests, with its session policy", () => {
    const decision = decide(policy, input({ event_name: "pull_request", ref: "refs/pull/7/merge" }));
    expect(decision).toMatchObject({ allowed: true, ruleId: "acme-app-pull-request-readonly" });
    if (decision.allowed) {
      expect(decision.grant.alias).toBe("readonly");
      expect(JSON.parse(decision.grant.sessionPolicyJson ?? "null")).toMatchObject({ Version: "2012-10-17" });
    }
  });

  const denied: Array<[string, Record<string, unknown>, Partial<DecisionInput>, string]> = [
    ["other branch", { ref: "refs/heads/dev" }, {}, "no_matching_rule"],
    ["other event", { event_name: "schedule" }, {}, "no_matching_rule"],
    ["pull_request_target is not pull_request", { event_name: "pull_request_target" }, {}, "no_matching_rule"],
    ["look-alike repository", { repository: "acme/app-evil" }, {}, "no_matching_rule"],
    ["case variant", { repository: "ACME/APP" }, {}, "no_matching_rule"],
    ["prefix of the name", { repository: "acme/ap" }, {}, "no_matching_rule"],
    ["repository as array", { repository: ["acme/app"] }, {}, "no_matching_rule"],
    ["missing claim", { repository: undefined }, {}, "no_matching_rule"],
    ["other issuer", {}, { issuerId: "gitlab" }, "no_matching_rule"],
    ["role not granted", {}, { role: "readonly" }, "role_not_granted"],
    ["unknown role", {}, { role: "__proto__" }, "role_not_granted"],
    ["duration over the role maximum", {}, { durationSeconds: 3601 }, "duration_exceeds_role"],
  ];
  it.each(denied)("denies: %s", (_name, claims, extra, reason) => {
    const decision = decide(policy, input(claims, extra));
    expect(decision).toMatchObject({ allowed: false, reason });
  });

  it("accepts a duration up to the role maximum", () => {
    expect(decide(policy, input({}, { durationSeconds: 3600 }))).toMatchObject({ allowed: true, durationSeconds: 3600 });
  });
});

describe("decide semantics", () => {
  const roles = {
    a: { arn: "arn:aws:iam::111122223333:role/a" },
    b: { arn: "arn:aws:iam::111122223333:role/b" },
  };

  it("an explicit deny wins over an earlier allow", () => {
    const compiled = compilePolicy(
      definePolicy({
        roles,
        rules: [
          { id: "allow-all-acme", match: { repository: "acme/*" }, roles: ["a"] },
          { id: "deny-actor", effect: "deny", match: { actor: "mallory" } },
        ],
      }),
    );
    expect(decide(compiled, input({ actor: "mallory" }))).toEqual({ allowed: false, reason: "explicit_deny", ruleId: "deny-actor" });
    expect(decide(compiled, input({ actor: "alice" }))).toMatchObject({ allowed: true, ruleId: "allow-all-acme" });
  });

  it("asks for a role when several are granted, and names the first granting rule", () => {
    const compiled = compilePolicy(
      definePolicy({
        roles,
        rules: [
          { id: "r1", match: { repository: "acme/app" }, roles: ["a"] },
          { id: "r2", match: { ref: "refs/heads/*" }, roles: ["a", "b"] },
        ],
      }),
    );
    expect(decide(compiled, input({}))).toMatchObject({ allowed: false, reason: "role_ambiguous" });
    expect(decide(compiled, input({}, { role: "a" }))).toMatchObject({ allowed: true, ruleId: "r1" });
    expect(decide(compiled, input({}, { role: "b" }))).toMatchObject({ allowed: true, ruleId: "r2" });
  });

  it("a list matches any of its patterns", () => {
    const compiled = compilePolicy(definePolicy({ roles, rules: [{ id: "r", match: { environment: ["prod", "staging"] }, roles: ["a"] }] }));
    expect(decide(compiled, input({ environment: "staging" }))).toMatchObject({ allowed: true });
    expect(decide(compiled, input({ environment: "dev" }))).toMatchObject({ allowed: false });
  });

  it("claims are read as own properties only", () => {
    const compiled = compilePolicy(definePolicy({ roles, rules: [{ id: "r", match: { environment: "toString*" }, roles: ["a"] }] }));
    const claims = Object.create({ environment: "toStringX" }) as Record<string, unknown>;
    expect(decide(compiled, { issuerId: "github", claims, role: undefined, durationSeconds: undefined })).toMatchObject({ allowed: false });
  });
});
