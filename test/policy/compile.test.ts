import { describe, expect, it } from "vitest";
import examplePolicy from "../../policies/index.ts";
import { compilePolicy, PolicyCompileError } from "../../src/policy/compile.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";

const role = { arn: "arn:aws:iam::111122223333:role/app" };
const rule = { id: "r1", match: { repository: "acme/app" }, roles: ["app"] };

function compileError(policy: PolicyDefinition, issuerIds?: string[]): PolicyCompileError {
  try {
    compilePolicy(policy, issuerIds === undefined ? {} : { issuerIds });
  } catch (error) {
    if (error instanceof PolicyCompileError) return error;
    throw error;
  }
  throw new Error("policy compiled, but a PolicyCompileError was expected");
}

describe("compilePolicy", () => {
  it("compiles the shipped policy against the default issuer", () => {
    const compiled = compilePolicy(examplePolicy, { issuerIds: ["github"] });
    expect(compiled.allowRules.map((r) => r.id)).toEqual(["acme-app-main-deploy", "acme-app-pull-request-readonly"]);
    expect([...compiled.roles.keys()]).toEqual(["deploy", "readonly"]);
  });

  const mistakes: Array<[string, PolicyDefinition, string]> = [
    ["undefined role alias", { roles: { app: role }, rules: [{ ...rule, roles: ["missing"] }] }, "rules[0] (r1)"],
    ["malformed ARN", { roles: { app: { arn: "arn:aws:iam::1234:role/app" } }, rules: [rule] }, "roles.app"],
    ["user ARN instead of role", { roles: { app: { arn: "arn:aws:iam::111122223333:user/app" } }, rules: [rule] }, "roles.app"],
    ["duration below STS minimum", { roles: { app: { ...role, maxDurationSeconds: 899 } }, rules: [rule] }, "roles.app"],
    ["duration above STS maximum", { roles: { app: { ...role, maxDurationSeconds: 43_201 } }, rules: [rule] }, "roles.app"],
    [
      "session policy over 2048 characters",
      { roles: { app: { ...role, sessionPolicy: { Version: "2012-10-17", Statement: [{ Sid: "x".repeat(2048) }] } } }, rules: [rule] },
      "roles.app",
    ],
    ["aws: tag key", { roles: { app: { ...role, sessionTags: { "aws:x": "1" } } }, rules: [rule] }, "roles.app.sessionTags.aws:x"],
    ["tag value with bad characters", { roles: { app: { ...role, sessionTags: { Team: "a;b" } } }, rules: [rule] }, "roles.app.sessionTags.Team"],
    ["duplicate rule id", { roles: { app: role }, rules: [rule, rule] }, "rules[1] (r1)"],
    ["rule with no conditions", { roles: { app: role }, rules: [{ ...rule, match: {} }] }, "rules[0] (r1)"],
    ["empty pattern list", { roles: { app: role }, rules: [{ ...rule, match: { repository: [] } }] }, "rules[0] (r1).match.repository"],
    ["unknown claim", { roles: { app: role }, rules: [{ ...rule, match: { repo: "acme/app" } as never }] }, "rules[0] (r1).match.repo"],
    ["ambiguous glob", { roles: { app: role }, rules: [{ ...rule, match: { ref: "refs/***" } }] }, "rules[0] (r1).match.ref"],
    ["allow rule without roles", { roles: { app: role }, rules: [{ id: "r1", match: { repository: "acme/app" } }] }, "rules[0] (r1)"],
    ["deny rule with roles", { roles: { app: role }, rules: [{ ...rule, effect: "deny" }] }, "rules[0] (r1)"],
  ];
  it.each(mistakes)("refuses %s, pointing at the culprit", (_name, policy, location) => {
    expect(compileError(policy).location).toBe(location);
  });

  it("refuses a rule for an issuer the deployment does not trust", () => {
    expect(compileError({ roles: { app: role }, rules: [{ ...rule, issuer: "gitlab" }] }, ["github"]).location).toBe("rules[0] (r1)");
  });

  it("accepts a session policy of exactly 2048 characters", () => {
    const base = JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "" }] }).length;
    const sessionPolicy = { Version: "2012-10-17", Statement: [{ Sid: "x".repeat(2048 - base) }] };
    expect(() => compilePolicy({ roles: { app: { ...role, sessionPolicy } }, rules: [rule] })).not.toThrow();
  });
});
