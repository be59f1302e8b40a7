// GitHub token grants: what compiles (GitHub's permission names and levels, one owner's named repositories, dangerous
// permissions only with a reason), and the grant decision (decideGithubToken): guards, deny rules, stable reasons.
import { describe, expect, it } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { compilePolicy, PolicyCompileError, type CompiledPolicy } from "../../src/policy/compile.ts";
import { decide, decideGithubToken, type GithubTokenDecisionInput } from "../../src/policy/decide.ts";
import { definePolicy } from "../../src/policy/define.ts";
import {
  DANGEROUS_PERMISSIONS,
  isOwnerWidePermission,
  REPOSITORY_PERMISSIONS,
} from "../../src/policy/github-permissions.ts";
import type { GithubTokenDefinition, PolicyDefinition } from "../../src/policy/types.ts";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";
import { gitlabClaims } from "../support/gitlab-claims.ts";
import { roles } from "./helpers.ts";

const TAP: GithubTokenDefinition = {
  owner: "acme",
  repositories: ["homebrew-tap"],
  permissions: { contents: "write", pull_requests: "write" },
};
const LIB: GithubTokenDefinition = { owner: "acme", repositories: ["private-lib"], permissions: { contents: "read" } };
const APP = { repository: "acme/app", repository_id: "874563210" };

function compileGrant(grant: unknown): CompiledPolicy {
  return compilePolicy({
    roles,
    githubTokens: { g: grant as GithubTokenDefinition },
    rules: [{ id: "r", match: APP, githubTokens: ["g"] }],
  });
}

function compileError(policy: unknown): { code: string; location: string } {
  try {
    compilePolicy(policy as PolicyDefinition);
  } catch (error) {
    if (error instanceof PolicyCompileError) return { code: error.code, location: error.location };
    throw error;
  }
  throw new Error("policy compiled, but a PolicyCompileError was expected");
}

const grantError = (grant: unknown) =>
  compileError({ roles, githubTokens: { g: grant }, rules: [{ id: "r", match: APP, githubTokens: ["g"] }] });

function ask(githubToken: string, claims: Record<string, unknown> = {}, issuerId = "github"): GithubTokenDecisionInput {
  const merged: Record<string, unknown> = { ...(issuerId === "gitlab" ? gitlabClaims() : githubClaims()), ...claims };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  return { issuerId, claims: merged, githubToken };
}

describe("GitHub's permission list (src/policy/github-permissions.ts)", () => {
  it("keeps repository and owner-wide permissions apart, and every dangerous one is a repository permission with write", () => {
    for (const name of Object.keys(REPOSITORY_PERMISSIONS)) expect(isOwnerWidePermission(name)).toBe(false);
    // The schema's organization, user and enterprise permissions (app-permissions, after `workflows`).
    for (const name of [
      "members",
      "organization_administration",
      "organization_self_hosted_runners",
      "custom_properties_for_organizations",
      "email_addresses",
      "profile",
      "starring",
      "enterprise_custom_properties_for_organizations",
    ]) {
      expect(isOwnerWidePermission(name)).toBe(true);
    }
    for (const name of DANGEROUS_PERMISSIONS) expect(REPOSITORY_PERMISSIONS[name]).toContain("write");
    // The five the design names, at least: each reaches beyond the repository's contents.
    for (const name of ["administration", "secrets", "workflows", "actions", "environments"] as const)
      expect(DANGEROUS_PERMISSIONS.has(name)).toBe(true);
  });
});

describe("compiling githubTokens", () => {
  it("keeps bare repository names, GitHub's permission names and levels, and marks any write privileged", () => {
    const compiled = compilePolicy({
      roles,
      githubTokens: { tap: { ...TAP, repositories: ["Acme/homebrew-tap", "formulae"] }, lib: LIB },
      rules: [{ id: "r", match: APP, githubTokens: ["tap", "lib"] }],
    });
    expect(compiled.githubTokens.get("tap")).toEqual({
      name: "tap",
      owner: "acme",
      repositories: ["homebrew-tap", "formulae"],
      permissions: { contents: "write", pull_requests: "write" },
      privileged: true,
      dangerousReason: undefined,
    });
    expect(compiled.githubTokens.get("lib")?.privileged).toBe(false);
    expect(compiled.rules[0]?.githubTokens).toEqual(["tap", "lib"]);
    expect(
      compileGrant({
        owner: "acme",
        repositories: ["x"],
        permissions: { repository_projects: "admin" },
      }).githubTokens.get("g")?.privileged,
    ).toBe(true);
  });

  it("accepts a dangerous permission with a reason, and keeps the reason", () => {
    const grant = compileGrant({
      ...TAP,
      permissions: { actions: "write" },
      dangerous: { reason: "the release dispatches publish.yml in the tap" },
    }).githubTokens.get("g");
    expect(grant).toMatchObject({ privileged: true, dangerousReason: "the release dispatches publish.yml in the tap" });
    // Read access to a dangerous permission is not dangerous.
    expect(
      compileGrant({ ...TAP, permissions: { actions: "read", administration: "read" } }).githubTokens.get("g")
        ?.privileged,
    ).toBe(false);
  });

  it.each([
    [
      "unknown permission name",
      { ...TAP, permissions: { content: "write" } },
      "permission_unknown",
      "githubTokens.g.permissions.content",
    ],
    [
      "unknown level",
      { ...TAP, permissions: { contents: "admin" } },
      "permission_unknown",
      "githubTokens.g.permissions.contents",
    ],
    [
      "a level GitHub does not offer for that permission (workflows is write-only)",
      { ...TAP, permissions: { workflows: "read" } },
      "permission_unknown",
      "githubTokens.g.permissions.workflows",
    ],
    [
      "a level in upper case",
      { ...TAP, permissions: { contents: "Read" } },
      "permission_unknown",
      "githubTokens.g.permissions.contents",
    ],
    [
      "__proto__ as a permission",
      { ...TAP, permissions: JSON.parse('{"__proto__": "read"}') as object },
      "permission_unknown",
      "githubTokens.g.permissions.__proto__",
    ],
    [
      "members (owner-wide)",
      { ...TAP, permissions: { members: "read" } },
      "permission_owner_wide",
      "githubTokens.g.permissions.members",
    ],
    [
      "organization_administration",
      { ...TAP, permissions: { organization_administration: "read" } },
      "permission_owner_wide",
      "githubTokens.g.permissions.organization_administration",
    ],
    [
      "organization_secrets",
      { ...TAP, permissions: { organization_secrets: "write" } },
      "permission_owner_wide",
      "githubTokens.g.permissions.organization_secrets",
    ],
    [
      "a user permission (email_addresses)",
      { ...TAP, permissions: { email_addresses: "read" } },
      "permission_owner_wide",
      "githubTokens.g.permissions.email_addresses",
    ],
    ["no permission at all", { ...TAP, permissions: {} }, "grant_invalid", "githubTokens.g.permissions"],
    ["no repository (owner-wide token)", { ...TAP, repositories: [] }, "grant_invalid", "githubTokens.g.repositories"],
    [
      "repositories left out",
      { owner: "acme", permissions: { contents: "read" } },
      "grant_invalid",
      "githubTokens.g.repositories",
    ],
    [
      "another owner's repository",
      { ...TAP, repositories: ["homebrew-tap", "evil/homebrew-tap"] },
      "grant_repository_foreign",
      "githubTokens.g.repositories[1]",
    ],
    ["a glob", { ...TAP, repositories: ["homebrew-*"] }, "grant_invalid", "githubTokens.g.repositories[0]"],
    [
      "acme/* (every repository of the owner)",
      { ...TAP, repositories: ["acme/*"] },
      "grant_invalid",
      "githubTokens.g.repositories[0]",
    ],
    [
      "a repository listed twice (GitHub names are case-insensitive)",
      { ...TAP, repositories: ["tap", "acme/TAP"] },
      "grant_invalid",
      "githubTokens.g.repositories[1]",
    ],
    [
      "a path for a name",
      { ...TAP, repositories: ["acme/tap/extra"] },
      "grant_invalid",
      "githubTokens.g.repositories[0]",
    ],
    ["..", { ...TAP, repositories: [".."] }, "grant_invalid", "githubTokens.g.repositories[0]"],
    [
      "more than GitHub's 500 repositories",
      { ...TAP, repositories: Array.from({ length: 501 }, (_, i) => `r${i}`) },
      "grant_invalid",
      "githubTokens.g.repositories",
    ],
    ["an owner that is no login", { ...TAP, owner: "acme/app" }, "grant_invalid", "githubTokens.g.owner"],
    ["an unknown field", { ...TAP, permission: {} }, "grant_invalid", "githubTokens.g.permission"],
    [
      "dangerous where nothing is",
      { ...LIB, dangerous: { reason: "just in case we ever need it" } },
      "grant_invalid",
      "githubTokens.g.dangerous",
    ],
    [
      "dangerous: true without a reason object",
      { ...TAP, permissions: { administration: "write" }, dangerous: true },
      "permission_dangerous",
      "githubTokens.g.dangerous",
    ],
    [
      "a reason that says nothing",
      { ...TAP, permissions: { administration: "write" }, dangerous: { reason: "needed" } },
      "permission_dangerous",
      "githubTokens.g.dangerous",
    ],
    [
      "a reason beside other fields",
      {
        ...TAP,
        permissions: { administration: "write" },
        dangerous: { reason: "rulesets are managed by it", ok: true },
      },
      "permission_dangerous",
      "githubTokens.g.dangerous",
    ],
  ])("refuses %s", (_name, grant, code, location) => {
    expect(grantError(grant)).toEqual({ code, location });
  });

  it.each([...DANGEROUS_PERMISSIONS])("refuses %s: write without dangerous { reason }", (name) => {
    expect(grantError({ ...TAP, permissions: { contents: "read", [name]: "write" } })).toEqual({
      code: "permission_dangerous",
      location: `githubTokens.g.permissions.${name}`,
    });
  });

  it("refuses a grant name clients could not send, a rule naming an undefined grant, and grants on deny rules", () => {
    expect(compileError({ roles, githubTokens: { "Homebrew Tap": TAP }, rules: [] })).toEqual({
      code: "grant_invalid",
      location: "githubTokens.Homebrew Tap",
    });
    expect(
      compileError({ roles, githubTokens: { tap: TAP }, rules: [{ id: "r", match: APP, githubTokens: ["tapp"] }] }),
    ).toEqual({ code: "grant_undefined", location: "rules[0] (r).githubTokens" });
    expect(
      compileError({
        roles,
        githubTokens: { tap: TAP },
        rules: [{ id: "r", match: APP, githubTokens: ["tap", "tap"] }],
      }),
    ).toMatchObject({ code: "rule_invalid" });
    expect(
      compileError({ roles, githubTokens: { tap: TAP }, rules: [{ id: "r", match: APP, githubTokens: [] }] }),
    ).toMatchObject({ code: "rule_invalid" });
    expect(
      compileError({
        roles,
        githubTokens: { tap: TAP },
        rules: [{ id: "r", effect: "deny", match: APP, githubTokens: ["tap"] }],
      }),
    ).toMatchObject({ code: "rule_invalid" });
    // An allow rule grants something: a role or a GitHub token.
    expect(compileError({ roles, rules: [{ id: "r", match: APP }] })).toMatchObject({
      code: "rule_invalid",
      location: "rules[0] (r)",
    });
    expect(compileError({ roles, githubTokens: [TAP], rules: [] })).toMatchObject({
      code: "policy_invalid",
      location: "githubTokens",
    });
  });

  it("types grants for authors: GitHub's names and levels only", () => {
    definePolicy({
      roles: {},
      githubTokens: {
        // @ts-expect-error: contents has no admin level
        a: { owner: "acme", repositories: ["x"], permissions: { contents: "admin" } },
        // @ts-expect-error: members is owner-wide, not a repository permission
        b: { owner: "acme", repositories: ["x"], permissions: { members: "read" } },
        c: {
          owner: "acme",
          repositories: ["x"],
          permissions: { repository_projects: "admin", workflows: "write" },
          dangerous: { reason: "rewrites CI for the migration" },
        },
      },
      rules: [],
    });
  });
});

describe("decideGithubToken with the example policy", () => {
  const policy = compilePolicy(testPolicy);
  const TAG = { ref: "refs/tags/v1.2.3", ref_type: "tag" };

  it("grants homebrew-tap for a protected v* tag, exactly as written, with the rule's id", () => {
    const decision = decideGithubToken(policy, ask("homebrew-tap", TAG));
    expect(decision).toMatchObject({
      allowed: true,
      ruleId: "acme-app-release-homebrew-tap",
      rateLimit: undefined,
      requirements: undefined,
    });
    if (decision.allowed)
      expect(decision.grant).toEqual({
        name: "homebrew-tap",
        owner: "acme",
        repositories: ["homebrew-tap"],
        permissions: { contents: "write", pull_requests: "write" },
        privileged: true,
        dangerousReason: undefined,
      });
  });

  it.each([
    [
      "an unprotected tag (homebrew-tap writes: privileged)",
      "homebrew-tap",
      { ...TAG, ref_protected: "false" },
      "guard_unprotected_ref",
      "acme-app-release-homebrew-tap",
    ],
    [
      "a self-hosted runner",
      "homebrew-tap",
      { ...TAG, runner_environment: "self-hosted" },
      "guard_self_hosted_runner",
      "acme-app-release-homebrew-tap",
    ],
    ["a branch instead of a tag", "homebrew-tap", {}, "grant_not_granted", undefined],
    [
      "a pull request",
      "homebrew-tap",
      { event_name: "pull_request", ref: "refs/pull/7/merge", ref_protected: "false" },
      "grant_not_granted",
      undefined,
    ],
    ["issue_comment", "homebrew-tap", { event_name: "issue_comment" }, "no_matching_rule", undefined],
    [
      "another repository's v* tag",
      "homebrew-tap",
      { ...TAG, repository: "acme/tools", repository_id: "5" },
      "grant_not_granted",
      undefined,
    ],
    ["an unknown name", "nope", {}, "grant_not_granted", undefined],
    ["__proto__", "__proto__", {}, "grant_not_granted", undefined],
    ["a role's alias", "deploy", {}, "grant_not_granted", undefined],
    [
      "an archived repository",
      "private-deps",
      { repository: "acme/legacy-billing", repository_id: "11" },
      "explicit_deny",
      "deny-archived-repositories",
    ],
    [
      "another owner",
      "private-deps",
      { repository: "evil/app", repository_owner: "evil", repository_owner_id: "666" },
      "no_matching_rule",
      undefined,
    ],
  ])("denies %s", (_name, name, claims, reason, ruleId) => {
    expect(decideGithubToken(policy, ask(name, claims))).toEqual({ allowed: false, reason, ruleId });
  });

  it("grants the read-only private-deps to pull requests (not privileged: refs/pull/* and unprotected refs pass)", () => {
    expect(
      decideGithubToken(
        policy,
        ask("private-deps", { event_name: "pull_request", ref: "refs/pull/7/merge", ref_protected: "false" }),
      ),
    ).toMatchObject({ allowed: true, ruleId: "acme-private-deps" });
  });

  it("leaves role decisions alone: a rule granting only GitHub tokens grants no role", () => {
    // acme/tools push on a feature branch matches acme-private-deps only.
    expect(
      decide(policy, {
        issuerId: "github",
        claims: ask("x", { repository: "acme/tools", repository_id: "5", ref: "refs/heads/f" }).claims,
        role: undefined,
        durationSeconds: undefined,
      }),
    ).toEqual({
      allowed: false,
      reason: "no_matching_rule",
      ruleId: undefined,
    });
    // acme/app main: deploy is still the only role, not ambiguous beside private-deps.
    expect(
      decide(policy, { issuerId: "github", claims: ask("x").claims, role: undefined, durationSeconds: undefined }),
    ).toMatchObject({ allowed: true, alias: "deploy" });
  });
});

describe("decideGithubToken: guards, requirements, limits, issuers", () => {
  const policyWith = (rules: PolicyDefinition["rules"], issuers?: PolicyDefinition["issuers"]) =>
    compilePolicy({
      ...(issuers === undefined ? {} : { issuers }),
      roles,
      githubTokens: { tap: TAP, lib: LIB },
      rules,
    });

  it("holds a write grant to every privileged guard, a read grant to the rule guards only", () => {
    const policy = policyWith([{ id: "r", match: APP, githubTokens: ["tap", "lib"] }]);
    for (const [claims, reason] of [
      [{ ref: "refs/pull/3/merge", event_name: "pull_request" }, "guard_pull_request_ref"],
      [{ ref_protected: "false" }, "guard_unprotected_ref"],
      [{ event_name: "issue_comment" }, "guard_untrusted_event"],
      [{ event_name: "workflow_run" }, "guard_untrusted_event"],
    ] as const) {
      expect(decideGithubToken(policy, ask("tap", claims))).toEqual({ allowed: false, reason, ruleId: "r" });
      expect(decideGithubToken(policy, ask("lib", claims))).toMatchObject({ allowed: true });
    }
    for (const [claims, reason] of [
      [{ event_name: "pull_request_target" }, "guard_pull_request_target"],
      [{ runner_environment: "self-hosted" }, "guard_self_hosted_runner"],
    ] as const) {
      expect(decideGithubToken(policy, ask("lib", claims))).toEqual({ allowed: false, reason, ruleId: "r" });
    }
  });

  it("honours a rule's opt-outs and allowEvents for grants as for roles", () => {
    const policy = policyWith([
      { id: "r", match: APP, githubTokens: ["tap"], allowSelfHostedRunners: true, allowEvents: ["issue_comment"] },
    ]);
    expect(
      decideGithubToken(policy, ask("tap", { runner_environment: "self-hosted", event_name: "issue_comment" })),
    ).toMatchObject({ allowed: true, ruleId: "r" });
  });

  it("returns the rule's requirements and rate limit, the first granting rule's", () => {
    const policy = policyWith([
      {
        id: "first",
        match: APP,
        githubTokens: ["lib"],
        rateLimit: { perMinute: 5, burst: 2 },
        require: { pullRequest: { approvals: 1 } },
      },
      { id: "second", match: { repository: "acme/*" }, githubTokens: ["lib", "tap"] },
    ]);
    const decision = decideGithubToken(policy, ask("lib"));
    expect(decision).toMatchObject({ allowed: true, ruleId: "first", rateLimit: { perMinute: 5, burst: 2 } });
    if (decision.allowed) expect(decision.requirements?.pullRequest?.approvals).toBe(1);
    expect(decideGithubToken(policy, ask("tap"))).toMatchObject({ allowed: true, ruleId: "second" });
  });

  it("a guard on one rule does not hide a later rule granting the same name", () => {
    const policy = policyWith([
      { id: "guarded", match: APP, githubTokens: ["tap"] },
      { id: "env", match: { ...APP, environment: "release" }, githubTokens: ["tap"] },
    ]);
    expect(decideGithubToken(policy, ask("tap", { ref_protected: "false", environment: "release" }))).toMatchObject({
      allowed: true,
      ruleId: "env",
    });
    expect(decideGithubToken(policy, ask("tap", { ref_protected: "false" }))).toEqual({
      allowed: false,
      reason: "guard_unprotected_ref",
      ruleId: "guarded",
    });
  });

  it("grants a GitLab pipeline a GitHub token (the grant names GitHub repositories, the rule the GitLab project)", () => {
    const policy = policyWith(
      [{ id: "gl", issuer: "gitlab", match: { project_path: "acme/app", project_id: "4242" }, githubTokens: ["tap"] }],
      { github: "github", gitlab: "gitlab" },
    );
    expect(decideGithubToken(policy, ask("tap", {}, "gitlab"))).toMatchObject({ allowed: true, ruleId: "gl" });
    expect(decideGithubToken(policy, ask("tap", { pipeline_source: "merge_request_event" }, "gitlab"))).toEqual({
      allowed: false,
      reason: "guard_pull_request_ref",
      ruleId: "gl",
    });
    expect(decideGithubToken(policy, ask("tap", {}, "unknown-issuer"))).toEqual({
      allowed: false,
      reason: "no_matching_rule",
      ruleId: undefined,
    });
  });
});
