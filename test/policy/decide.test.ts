// decide (src/policy/decide.ts) with the example policy, and its semantics: deny over allow, rule order, roles and
// durations, predicates that throw.
import { describe, expect, it } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { compilePolicy } from "../../src/policy/compile.ts";
import { decide, type DecisionInput } from "../../src/policy/decide.ts";
import { definePolicy } from "../../src/policy/define.ts";
import { githubClaims } from "../support/fake-issuer.ts";
import { input, policyOf, roles } from "./helpers.ts";

describe("decide with the example policy", () => {
  const policy = compilePolicy(testPolicy);

  it("grants deploy to acme/app main on push and workflow_dispatch", () => {
    for (const event_name of ["push", "workflow_dispatch"]) {
      const decision = decide(policy, input({ event_name }));
      expect(decision).toMatchObject({
        allowed: true,
        ruleId: "acme-app-main-deploy",
        alias: "deploy",
        durationSeconds: 900,
      });
      if (decision.allowed) expect(decision.grant.alias).toBe("deploy");
    }
  });

  it("grants readonly to acme/app pull requests, with its session policy", () => {
    const decision = decide(policy, input({ event_name: "pull_request", ref: "refs/pull/7/merge" }));
    expect(decision).toMatchObject({ allowed: true, ruleId: "acme-app-pull-request-readonly" });
    if (decision.allowed)
      expect(JSON.parse(decision.grant.sessionPolicyJson ?? "null")).toMatchObject({ Version: "2012-10-17" });
  });

  it("maps a client alias to a rule's own role: deploy means infra-deploy for acme/infra", () => {
    const decision = decide(
      policy,
      input({ repository: "acme/infra", repository_id: "874563300", environment: "production" }, { role: "deploy" }),
    );
    expect(decision).toMatchObject({
      allowed: true,
      alias: "deploy",
      ruleId: "acme-infra-production",
      rateLimit: { perMinute: 10, burst: 5 },
    });
    if (decision.allowed) expect(decision.grant.arn).toBe("arn:aws:iam::444455556666:role/ci/infra-deploy");
  });

  const denied: Array<[string, Record<string, unknown>, Partial<DecisionInput>, string]> = [
    ["other branch", { ref: "refs/heads/dev" }, {}, "no_matching_rule"],
    ["other event", { event_name: "schedule" }, {}, "no_matching_rule"],
    ["pull_request_target is not pull_request", { event_name: "pull_request_target" }, {}, "no_matching_rule"],
    ["missing claim", { repository: undefined }, {}, "no_matching_rule"],
    ["issuer the policy does not know", {}, { issuerId: "bitbucket" }, "no_matching_rule"],
    ["role not granted", {}, { role: "readonly" }, "role_not_granted"],
    ["unknown role __proto__", {}, { role: "__proto__" }, "role_not_granted"],
    ["unknown role constructor", {}, { role: "constructor" }, "role_not_granted"],
    ["duration over the role maximum", {}, { durationSeconds: 3601 }, "duration_exceeds_role"],
  ];
  it.each(denied)("denies: %s", (_name, claims, extra, reason) => {
    expect(decide(policy, input(claims, extra))).toMatchObject({ allowed: false, reason });
  });
});

describe("decision semantics", () => {
  it("an explicit deny wins over an earlier allow, whatever the order", () => {
    const compiled = policyOf([
      { id: "allow-all-acme", match: { repository: "acme/*" }, roles: ["a"] },
      { id: "deny-actor", effect: "deny", match: { actor: "mallory" } },
    ]);
    expect(decide(compiled, input({ actor: "mallory" }))).toEqual({
      allowed: false,
      reason: "explicit_deny",
      ruleId: "deny-actor",
    });
    expect(decide(compiled, input({ actor: "alice" }))).toMatchObject({ allowed: true, ruleId: "allow-all-acme" });
  });

  it("deny rules match names without case (GitHub names are case-insensitive); allow rules never fold", () => {
    const compiled = policyOf([
      { id: "deny-legacy", effect: "deny", match: { repository: ["acme/legacy-*", "acme/old"] } },
      { id: "deny-actor", effect: "deny", match: { actor: "Mallory" } },
      { id: "allow-by-id", match: { repository_owner: "Acme", repository_id: "874563210" }, roles: ["a"] },
    ]);
    for (const repository of ["Acme/Legacy-Billing", "ACME/OLD", "acme/legacy-x"]) {
      expect(decide(compiled, input({ repository, repository_owner: "Acme" })), repository).toMatchObject({
        allowed: false,
        reason: "explicit_deny",
        ruleId: "deny-legacy",
      });
    }
    expect(
      decide(compiled, input({ repository: "Acme/app", repository_owner: "Acme", actor: "mallory" })),
    ).toMatchObject({ reason: "explicit_deny", ruleId: "deny-actor" });
    expect(decide(compiled, input({ repository: "Acme/app", repository_owner: "Acme" }))).toMatchObject({
      allowed: true,
      ruleId: "allow-by-id",
    });
    expect(decide(compiled, input({ repository: "acme/app", repository_owner: "acme" }))).toMatchObject({
      allowed: false,
      reason: "no_matching_rule",
    });
  });

  it("a deny rule for another issuer does not deny", () => {
    const compiled = policyOf(
      [
        { id: "a", match: { repository: "acme/app" }, roles: ["a"] },
        { id: "d", effect: "deny", issuer: "ghes", match: { repository: "acme/app" } },
      ],
      { github: "github", ghes: "github" },
    );
    expect(decide(compiled, input())).toMatchObject({ allowed: true });
    expect(decide(compiled, input({}, { issuerId: "ghes" }))).toMatchObject({
      allowed: false,
      reason: "explicit_deny",
    });
  });

  it("asks for a role when several are granted, and names the first granting rule", () => {
    const compiled = policyOf([
      { id: "r1", match: { repository: "acme/app" }, roles: ["a"] },
      { id: "r2", match: { repository: "acme/*", ref: "refs/heads/*" }, roles: ["a", "b"] },
    ]);
    expect(decide(compiled, input())).toMatchObject({ allowed: false, reason: "role_ambiguous" });
    expect(decide(compiled, input({}, { role: "a" }))).toMatchObject({ allowed: true, ruleId: "r1" });
    expect(decide(compiled, input({}, { role: "b" }))).toMatchObject({ allowed: true, ruleId: "r2" });
  });

  it("one alias granted as two different roles by two matching rules is refused (role_conflict)", () => {
    const compiled = policyOf([
      { id: "r1", match: { repository: "acme/app" }, roles: { deploy: "a" } },
      { id: "r2", match: { repository: "acme/*" }, roles: { deploy: "b" } },
    ]);
    expect(decide(compiled, input({}, { role: "deploy" }))).toEqual({
      allowed: false,
      reason: "role_conflict",
      ruleId: "r1",
    });
    expect(decide(compiled, input({ repository: "acme/web" }, { role: "deploy" }))).toMatchObject({
      allowed: true,
      ruleId: "r2",
    });
  });

  it("`when` is consulted after the matchers; throwing fails closed (allow: no match; deny: denies)", () => {
    const boom = () => {
      throw new Error("boom");
    };
    const compiled = compilePolicy(
      definePolicy({
        roles,
        rules: [
          {
            id: "own-workflow",
            match: { repository: "acme/app" },
            when: (c) => c.job_workflow_ref?.startsWith(`${c.repository}/`) === true,
            roles: ["a"],
          },
          { id: "throws", match: { repository: "acme/web" }, when: boom, roles: ["a"] },
          { id: "deny-throws", effect: "deny", match: { repository: "acme/locked" }, when: boom },
          { id: "locked", match: { repository: "acme/locked" }, roles: ["a"] },
        ],
      }),
    );
    expect(decide(compiled, input())).toMatchObject({ allowed: true, ruleId: "own-workflow" });
    expect(
      decide(compiled, input({ job_workflow_ref: "evil/x/.github/workflows/y.yml@refs/heads/main" })),
    ).toMatchObject({ allowed: false, reason: "no_matching_rule" });
    expect(decide(compiled, input({ repository: "acme/web" }))).toMatchObject({
      allowed: false,
      reason: "no_matching_rule",
    });
    expect(decide(compiled, input({ repository: "acme/locked" }))).toEqual({
      allowed: false,
      reason: "explicit_deny",
      ruleId: "deny-throws",
    });
  });

  it("`when` receives the claims and cannot rewrite them when they are frozen (as exchange.ts passes them)", () => {
    const compiled = compilePolicy(
      definePolicy({
        roles,
        rules: [
          {
            id: "mutator",
            match: { repository: "acme/app" },
            when: (c) => {
              (c as { repository: string }).repository = "acme/other";
              return true;
            },
            roles: ["a"],
          },
        ],
      }),
    );
    const frozen = Object.freeze({ ...githubClaims() });
    expect(
      decide(compiled, { issuerId: "github", claims: frozen, role: undefined, durationSeconds: undefined }),
    ).toMatchObject({ allowed: false });
    expect(frozen.repository).toBe("acme/app");
  });
});
