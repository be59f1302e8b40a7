// policy:check catches each listed mistake, each in its own test: undefined role alias, malformed ARN, a pattern that
// matches every repository of every owner, a rule shadowed by an earlier one, two allow rules granting different
// roles under the same alias for the same claims, a session policy too large (plus names without ids).
import { describe, expect, it } from "vitest";
import candidatePolicy from "../fixtures/policies/candidate.ts";
import testPolicy from "../fixtures/policies/index.ts";
import { checkPolicy, type Finding } from "../../src/policy/check.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";

const roles = {
  app: { arn: "arn:aws:iam::111122223333:role/app" },
  other: { arn: "arn:aws:iam::111122223333:role/other" },
  prod: { arn: "arn:aws:iam::111122223333:role/prod", privileged: true },
};

function errors(policy: PolicyDefinition): Array<Pick<Finding, "code" | "location">> {
  return checkPolicy(policy)
    .findings.filter((finding) => finding.severity === "error")
    .map(({ code, location }) => ({ code, location }));
}

describe("policy:check on the shipped policies", () => {
  it.each([
    ["policies/index.ts", testPolicy],
    ["policies/candidate.ts", candidatePolicy],
  ])("%s has no errors", (_file, policy) => {
    const { compiled, findings } = checkPolicy(policy);
    expect(compiled).toBeDefined();
    expect(findings.filter((finding) => finding.severity === "error")).toEqual([]);
  });
});

describe("policy:check: each listed mistake", () => {
  it("an undefined role alias", () => {
    expect(errors({ roles, rules: [{ id: "r", match: { repository: "acme/app" }, roles: ["deploy"] }] })).toEqual([
      { code: "role_undefined", location: "rules[0] (r)" },
    ]);
  });

  it("a malformed ARN", () => {
    expect(
      errors({
        roles: { app: { arn: "arn:aws:iam::111122223333:role/" } },
        rules: [{ id: "r", match: { repository: "acme/app" }, roles: ["app"] }],
      }),
    ).toEqual([{ code: "arn_invalid", location: "roles.app" }]);
  });

  it.each([
    ["*/*", { repository: "*/*" }, "rules[0] (r).match.repository", "pattern_too_broad"],
    ["**", { repository: "**" }, "rules[0] (r).match.repository", "pattern_too_broad"],
    ["*/** ", { repository: "*/**" }, "rules[0] (r).match.repository", "pattern_too_broad"],
    ["owner *", { repository_owner: "*" }, "rules[0] (r).match.repository_owner", "pattern_too_broad"],
    ["no repository condition at all", { ref: "refs/heads/main", event_name: "push" }, "rules[0] (r)", "rule_unscoped"],
    ["only a sub pattern", { sub: "repo:*" }, "rules[0] (r)", "rule_unscoped"],
  ])("a pattern that matches every repository of every owner: %s", (_name, match, location, code) => {
    expect(errors({ roles, rules: [{ id: "r", match, roles: ["app"] }] })).toEqual([{ code, location }]);
  });

  it("a rule shadowed by an earlier one (same effect, covering conditions, same grants)", () => {
    const policy: PolicyDefinition = {
      roles,
      rules: [
        { id: "all-acme", match: { repository: "acme/*" }, roles: ["app"] },
        { id: "one-repo", match: { repository: "acme/app", ref: "refs/heads/main" }, roles: ["app"] },
      ],
    };
    expect(errors(policy)).toEqual([{ code: "rule_shadowed", location: "rules[1] (one-repo)" }]);
  });

  it("a deny rule shadowed by an earlier deny", () => {
    const policy: PolicyDefinition = {
      roles,
      rules: [
        { id: "app", match: { repository: "acme/app" }, roles: ["app"] },
        { id: "deny-forks", effect: "deny", match: { repository: "acme/**" } },
        { id: "deny-legacy", effect: "deny", match: { repository: "acme/legacy-*" } },
      ],
    };
    // acme/app is also denied by deny-forks: that allow rule is dead too.
    expect(errors(policy)).toEqual([
      { code: "rule_shadowed", location: "rules[0] (app)" },
      { code: "rule_shadowed", location: "rules[2] (deny-legacy)" },
    ]);
  });

  it("is not fooled into calling a rule shadowed when it is not", () => {
    const policy: PolicyDefinition = {
      roles,
      rules: [
        // Different claims constrained: a later rule with fewer conditions is wider, not shadowed.
        { id: "main", match: { repository: "acme/app", ref: "refs/heads/main" }, roles: ["app"] },
        { id: "any-ref", match: { repository: "acme/app" }, roles: ["app"] },
        // Same conditions, but it grants another role too.
        { id: "more-roles", match: { repository: "acme/web" }, roles: ["app"] },
        { id: "more-roles-2", match: { repository: "acme/web" }, roles: ["app", "other"] },
        // The later rule opts out of a guard the earlier one keeps: it grants where the earlier one is blocked.
        { id: "hosted", match: { repository: "acme/api" }, roles: ["app"] },
        { id: "self-hosted", match: { repository: "acme/api" }, roles: ["app"], allowSelfHostedRunners: true },
        // The earlier rule has a predicate: coverage cannot be proved.
        { id: "pred", match: { repository: "acme/svc" }, when: () => false, roles: ["app"] },
        { id: "after-pred", match: { repository: "acme/svc" }, roles: ["app"] },
      ],
    };
    expect(checkPolicy(policy).findings.filter((finding) => finding.code === "rule_shadowed")).toEqual([]);
  });

  it("two allow rules granting different roles under the same alias for the same claims", () => {
    const policy: PolicyDefinition = {
      roles,
      rules: [
        { id: "app-deploy", match: { repository: "acme/app" }, roles: { deploy: "app" } },
        { id: "acme-deploy", match: { repository: "acme/*", ref: "refs/heads/main" }, roles: { deploy: "other" } },
      ],
    };
    expect(errors(policy)).toEqual([{ code: "alias_conflict", location: "rules[1] (acme-deploy)" }]);
  });

  it("one alias as different roles for claims that cannot overlap is fine", () => {
    const policy: PolicyDefinition = {
      roles,
      rules: [
        { id: "app-deploy", match: { repository: "acme/app" }, roles: { deploy: "app" } },
        { id: "web-deploy", match: { repository: "acme/web-*" }, roles: { deploy: "other" } },
      ],
    };
    expect(errors(policy)).toEqual([]);
  });

  it("a session policy too large", () => {
    const sessionPolicy = {
      Version: "2012-10-17",
      Statement: Array.from({ length: 40 }, (_, i) => ({
        Effect: "Allow",
        Action: `s3:GetObject${i}`,
        Resource: `arn:aws:s3:::bucket-${i}/*`,
      })),
    };
    expect(
      errors({
        roles: { app: { ...roles.app, sessionPolicy } },
        rules: [{ id: "r", match: { repository: "acme/app" }, roles: ["app"] }],
      }),
    ).toEqual([{ code: "session_policy_too_large", location: "roles.app.sessionPolicy" }]);
  });

  it("a privileged rule matching by name without an id is an error; a plain one, a warning", () => {
    const { findings } = checkPolicy({
      roles,
      rules: [
        { id: "prod-by-name", match: { repository: "acme/app" }, roles: ["prod"] },
        { id: "prod-by-id", match: { repository: "acme/app", repository_id: "1" }, roles: ["prod"] },
        { id: "owner-by-name", match: { repository_owner: "acme", ref: "refs/heads/main" }, roles: ["app"] },
        { id: "owner-pinned-by-repo-id", match: { repository_owner: "acme", repository_id: "2" }, roles: ["prod"] },
      ],
    });
    expect(
      findings
        .filter((finding) => finding.code === "name_without_id")
        .map(({ severity, location }) => ({ severity, location })),
    ).toEqual([
      { severity: "error", location: "rules[0] (prod-by-name)" },
      { severity: "warning", location: "rules[2] (owner-by-name)" },
    ]);
  });

  it("GitLab rules: project_path without project_id on a privileged role", () => {
    const findings = errors({
      issuers: { gitlab: "gitlab" },
      roles,
      rules: [{ id: "gl", issuer: "gitlab", match: { project_path: "acme/app" }, roles: ["prod"] }],
    });
    expect(findings).toEqual([{ code: "name_without_id", location: "rules[0] (gl)" }]);
  });

  it("an unused role is a warning", () => {
    const { findings } = checkPolicy({
      roles,
      rules: [{ id: "r", match: { repository: "acme/app" }, roles: ["app"] }],
    });
    expect(findings.filter((finding) => finding.code === "role_unused").map((finding) => finding.location)).toEqual([
      "roles.other",
      "roles.prod",
    ]);
  });
});
