// decideGithubToken (src/policy/decide.ts): the example policy's token grants, and the guards, requirements, limits and
// issuers a token grant is held to.
import { describe, expect, it } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { compilePolicy } from "../../src/policy/compile.ts";
import { decide, decideGithubToken, type GithubTokenDecisionInput } from "../../src/policy/decide.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";
import { githubClaims } from "../support/fake-issuer.ts";
import { gitlabClaims } from "../support/gitlab-claims.ts";
import { roles } from "./helpers.ts";
import { TAP, LIB, APP } from "./github-token-helpers.ts";

function ask(githubToken: string, claims: Record<string, unknown> = {}, issuerId = "github"): GithubTokenDecisionInput {
  const merged: Record<string, unknown> = { ...(issuerId === "gitlab" ? gitlabClaims() : githubClaims()), ...claims };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  return { issuerId, claims: merged, githubToken };
}

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
