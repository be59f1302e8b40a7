// policy:check, policy:explain, fixtures and shadow mode on GitHub token grants: unused grants, pushes that start a
// repository's privileged workflows, ids for privileged grants, shadowing, explanations and fixture cases.
import { describe, expect, it } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { checkPolicy, type Finding } from "../../src/policy/check.ts";
import { compilePolicy } from "../../src/policy/compile.ts";
import { decideGithubToken, type GithubTokenDecision } from "../../src/policy/decide.ts";
import { explain, formatExplanation } from "../../src/policy/explain.ts";
import { runFixtures } from "../../src/policy/fixtures.ts";
import { githubTokenShadowDiff } from "../../src/policy/shadow.ts";
import type { GithubTokenDefinition, PolicyDefinition } from "../../src/policy/types.ts";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";
import { roles } from "./helpers.ts";

const TAP: GithubTokenDefinition = {
  owner: "acme",
  repositories: ["homebrew-tap"],
  permissions: { contents: "write" },
};
const PINNED = { repository_owner: "acme", repository_owner_id: "51234567" };

const findings = (policy: PolicyDefinition, code: Finding["code"]) =>
  checkPolicy(policy)
    .findings.filter((finding) => finding.code === code)
    .map(({ severity, location }) => ({ severity, location }));

describe("policy:check on grants", () => {
  it("warns about a grant no rule grants", () => {
    expect(findings({ roles, githubTokens: { tap: TAP }, rules: [] }, "grant_unused")).toEqual([
      { severity: "warning", location: "githubTokens.tap" },
    ]);
  });

  it("warns when contents: write reaches a repository whose pushes the policy grants something privileged", () => {
    const policy: PolicyDefinition = {
      roles,
      githubTokens: { tap: TAP },
      rules: [
        { id: "writer", match: { repository: "acme/app", repository_id: "1" }, githubTokens: ["tap"] },
        {
          id: "tap-deploy",
          match: { repository: "acme/homebrew-tap", repository_id: "2", ref: "refs/heads/main" },
          roles: ["prod"],
        },
      ],
    };
    const [warning] = checkPolicy(policy).findings.filter((finding) => finding.code === "grant_push_starts_privileged");
    expect(warning).toMatchObject({ severity: "warning", location: "githubTokens.tap" });
    expect(warning?.message).toContain(
      "acme/homebrew-tap, where rules[1] (tap-deploy) may grant a privileged role on push",
    );
  });

  it.each([
    [
      "an owner-wide rule (names compare without case)",
      { repository_owner: "ACME", repository_owner_id: "1" },
      ["prod"],
      1,
    ],
    ["a glob over the owner's repositories", { repository: "acme/homebrew-*", repository_id: "2" }, ["prod"], 1],
    [
      "a rule for other events only",
      { repository: "acme/homebrew-tap", repository_id: "2", event_name: "workflow_dispatch" },
      ["prod"],
      0,
    ],
    ["a rule for another repository", { repository: "acme/other", repository_id: "2" }, ["prod"], 0],
    ["a rule granting nothing privileged", { repository: "acme/homebrew-tap", repository_id: "2" }, ["a"], 0],
  ])("push warning with %s", (_name, match, granted, count) => {
    const policy: PolicyDefinition = {
      roles,
      githubTokens: { tap: TAP },
      rules: [
        { id: "writer", match: PINNED, githubTokens: ["tap"] },
        { id: "other", match, roles: granted },
      ],
    };
    // The writer rule itself grants a privileged grant to every acme repository on push, homebrew-tap included.
    expect(findings(policy, "grant_push_starts_privileged")).toHaveLength(1 + count);
  });

  it("does not warn for read-only grants, nor about GitLab rules (GitLab pushes start no GitHub workflow)", () => {
    const read: PolicyDefinition = {
      roles,
      githubTokens: { lib: { ...TAP, permissions: { contents: "read" } } },
      rules: [{ id: "r", match: PINNED, githubTokens: ["lib"], roles: ["prod"] }],
    };
    expect(findings(read, "grant_push_starts_privileged")).toEqual([]);
    const gitlab: PolicyDefinition = {
      issuers: { github: "github", gitlab: "gitlab" },
      roles,
      githubTokens: { tap: TAP },
      rules: [
        {
          id: "gl",
          issuer: "gitlab",
          match: { project_path: "acme/homebrew-tap", project_id: "9" },
          githubTokens: ["tap"],
        },
      ],
    };
    expect(findings(gitlab, "grant_push_starts_privileged")).toEqual([]);
  });

  it("holds rules granting a privileged grant to id pins, and lists their opt-outs", () => {
    const policy: PolicyDefinition = {
      roles,
      githubTokens: { tap: TAP },
      rules: [{ id: "r", match: { repository: "acme/app" }, githubTokens: ["tap"], allowSelfHostedRunners: true }],
    };
    expect(findings(policy, "name_without_id")).toEqual([{ severity: "error", location: "rules[0] (r)" }]);
    expect(checkPolicy(policy).findings.find((finding) => finding.code === "guard_opted_out")?.message).toContain(
      "grants a privileged GitHub token with guards opted out",
    );
    const read: PolicyDefinition = { ...policy, githubTokens: { tap: { ...TAP, permissions: { contents: "read" } } } };
    expect(findings(read, "name_without_id")).toEqual([{ severity: "warning", location: "rules[0] (r)" }]);
  });

  it("a rule is shadowed only by one granting every GitHub token it grants", () => {
    const rules = (later: string[]): PolicyDefinition["rules"] => [
      { id: "all", match: { repository: "acme/*" }, githubTokens: ["tap"] },
      { id: "one", match: { repository: "acme/app" }, githubTokens: later },
    ];
    const grants = { tap: TAP, lib: { ...TAP, permissions: { contents: "read" as const } } };
    expect(findings({ roles, githubTokens: grants, rules: rules(["tap"]) }, "rule_shadowed")).toEqual([
      { severity: "error", location: "rules[1] (one)" },
    ]);
    expect(findings({ roles, githubTokens: grants, rules: rules(["tap", "lib"]) }, "rule_shadowed")).toEqual([]);
  });

  it("the example policy's grants raise no finding", () => {
    const codes = checkPolicy(testPolicy).findings.map((finding) => finding.code);
    expect(codes.filter((code) => code.startsWith("grant_") || code.startsWith("permission_"))).toEqual([]);
  });
});

describe("policy:explain on a GitHub token request", () => {
  const policy = compilePolicy(testPolicy);
  const lineOf = (lines: string[], ruleId: string) =>
    lines.find((line) => line.slice(3).startsWith(`allow ${ruleId} `));
  const claims = { ...githubClaims(), ref: "refs/tags/v1.2.3", ref_type: "tag" };

  it("prints the grant the decision allows, and the rules that grant GitHub tokens", () => {
    const input = { issuerId: "github", claims, githubToken: "homebrew-tap" };
    const explanation = explain(policy, input);
    expect(explanation.decision).toEqual(decideGithubToken(policy, input));
    const lines = formatExplanation(explanation, input);
    expect(lines[0]).toBe(
      "ALLOW  rule acme-app-release-homebrew-tap grants GitHub token homebrew-tap -> acme: homebrew-tap (contents: write, pull_requests: write) (privileged)",
    );
    expect(lines[1]).toBe("issuer github, GitHub token requested: homebrew-tap");
    expect(lineOf(lines, "acme-app-release-homebrew-tap")).toMatch(
      /^=> allow acme-app-release-homebrew-tap +MATCHED, grants GitHub token homebrew-tap$/,
    );
    expect(lineOf(lines, "acme-private-deps")).toMatch(
      /^ {3}allow acme-private-deps +MATCHED, grants GitHub token private-deps$/,
    );
    // A rule granting roles only says so as before.
    expect(lineOf(lines, "acme-app-main-deploy")).toMatch(
      /ref: "refs\/tags\/v1.2.3" does not match "refs\/heads\/main"$/,
    );
  });

  it("names the guard that blocked a grant", () => {
    const input = { issuerId: "github", claims: { ...claims, ref_protected: "false" }, githubToken: "homebrew-tap" };
    const lines = formatExplanation(explain(policy, input), input);
    expect(lines[0]).toBe("DENY   guard_unprotected_ref (rule acme-app-release-homebrew-tap)");
    expect(lineOf(lines, "acme-app-release-homebrew-tap")).toMatch(
      /^=> allow acme-app-release-homebrew-tap +matched, but GitHub token homebrew-tap blocked by guard_unprotected_ref$/,
    );
    expect(lines.at(-1)).toMatch(/^guard_unprotected_ref: /);
  });
});

describe("fixtures and shadow mode on grants", () => {
  it("a fixture asking for a GitHub token and a role at once is a broken case, not a pass", () => {
    const [result] = runFixtures({
      policy: testPolicy,
      cases: [
        {
          name: "both",
          claims: githubClaims(),
          githubToken: "private-deps",
          role: "readonly",
          expect: { allow: "private-deps" },
        },
      ],
    });
    expect(result).toMatchObject({
      pass: false,
      actual: "invalid case: a githubToken case asks for no role and no duration",
    });
  });

  it("logs a difference in the grant decided, never the grant's repositories or permissions", () => {
    const live = compilePolicy(testPolicy);
    const candidate = compilePolicy({
      ...testPolicy,
      githubTokens: {
        ...testPolicy.githubTokens,
        "private-deps": {
          owner: "acme",
          repositories: ["private-lib", "secrets-lib"],
          permissions: { contents: "read" },
        },
      },
    });
    const input = { issuerId: "github", claims: githubClaims(), githubToken: "private-deps" };
    const [a, b] = [decideGithubToken(live, input), decideGithubToken(candidate, input)];
    const diff = githubTokenShadowDiff(a, b);
    expect(diff).toEqual({
      live: { allowed: true, reason: undefined, rule_id: "acme-private-deps", github_token: "private-deps" },
      candidate: { allowed: true, reason: undefined, rule_id: "acme-private-deps", github_token: "private-deps" },
      grant_differs: true,
    });
    expect(JSON.stringify(diff)).not.toContain("lib");
    expect(githubTokenShadowDiff(a, a)).toBeUndefined();
    const denied: GithubTokenDecision = { allowed: false, reason: "grant_not_granted", ruleId: undefined };
    expect(githubTokenShadowDiff(a, denied)?.candidate).toEqual({
      allowed: false,
      reason: "grant_not_granted",
      rule_id: undefined,
      github_token: undefined,
    });
  });
});
