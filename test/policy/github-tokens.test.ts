// Compiling githubTokens (src/policy/github-tokens.ts): owner, repositories, permissions and levels, the dangerous
// reason, and rules granting tokens by name.
import { describe, expect, it } from "vitest";
import { compilePolicy, PolicyCompileError, type CompiledPolicy } from "../../src/policy/compile.ts";
import { definePolicy } from "../../src/policy/define.ts";
import { DANGEROUS_PERMISSIONS } from "../../src/policy/github-permissions.ts";
import type { GithubTokenDefinition, PolicyDefinition } from "../../src/policy/types.ts";
import { roles } from "./helpers.ts";
import { TAP, LIB, APP } from "./github-token-helpers.ts";

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
