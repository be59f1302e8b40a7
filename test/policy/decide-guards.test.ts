// decide's guards (src/policy/guards.ts): on by default, one stable reason each, one named opt-out each.
import { describe, expect, it } from "vitest";
import { decide } from "../../src/policy/decide.ts";
import { GUARD_REASONS } from "../../src/policy/guards.ts";
import { gitlabClaims } from "../support/gitlab-claims.ts";
import { input, policyOf } from "./helpers.ts";

describe("guards (table): on by default, one stable reason each, one named opt-out each", () => {
  type Row = [name: string, rule: Record<string, unknown>, claims: Record<string, unknown>, expected: string];
  const base = { id: "r", match: { repository: "acme/app" } };
  const github: Row[] = [
    [
      "pull_request_target denied",
      { ...base, roles: ["a"] },
      { event_name: "pull_request_target" },
      "guard_pull_request_target",
    ],
    [
      "pull_request_target with allowPullRequestTarget",
      { ...base, roles: ["a"], allowPullRequestTarget: true },
      { event_name: "pull_request_target" },
      "allow",
    ],
    [
      "self-hosted runner denied",
      { ...base, roles: ["a"] },
      { runner_environment: "self-hosted" },
      "guard_self_hosted_runner",
    ],
    [
      "runner_environment absent denied",
      { ...base, roles: ["a"] },
      { runner_environment: undefined },
      "guard_self_hosted_runner",
    ],
    [
      "runner_environment GitHub-Hosted (case) denied",
      { ...base, roles: ["a"] },
      { runner_environment: "GitHub-Hosted" },
      "guard_self_hosted_runner",
    ],
    [
      "self-hosted with allowSelfHostedRunners",
      { ...base, roles: ["a"], allowSelfHostedRunners: true },
      { runner_environment: "self-hosted" },
      "allow",
    ],
    [
      "privileged: refs/pull/* denied",
      { ...base, roles: ["prod"] },
      { ref: "refs/pull/1/merge" },
      "guard_pull_request_ref",
    ],
    [
      "privileged: refs/pull/* with allowPullRequestRefs",
      { ...base, roles: ["prod"], allowPullRequestRefs: true },
      { ref: "refs/pull/1/merge" },
      "allow",
    ],
    [
      "not privileged: refs/pull/* is fine",
      { ...base, roles: ["a"] },
      { ref: "refs/pull/1/merge", ref_protected: "false" },
      "allow",
    ],
    [
      "privileged: unprotected ref denied",
      { ...base, roles: ["prod"] },
      { ref_protected: "false" },
      "guard_unprotected_ref",
    ],
    [
      "privileged: ref_protected absent denied",
      { ...base, roles: ["prod"] },
      { ref_protected: undefined },
      "guard_unprotected_ref",
    ],
    [
      "privileged: ref_protected TRUE (case) denied",
      { ...base, roles: ["prod"] },
      { ref_protected: "TRUE" },
      "guard_unprotected_ref",
    ],
    ["privileged: protected ref passes", { ...base, roles: ["prod"] }, { ref_protected: "true" }, "allow"],
    [
      "privileged: unprotected ref with an environment the rule does NOT name is denied",
      { ...base, roles: ["prod"] },
      { ref_protected: "false", environment: "production" },
      "guard_unprotected_ref",
    ],
    [
      "privileged: unprotected ref with the environment the rule names passes",
      { id: "r", match: { repository: "acme/app", environment: "production" }, roles: ["prod"] },
      { ref_protected: "false", environment: "production" },
      "allow",
    ],
    [
      "privileged: an environment glob does not count as naming one (prod* on an unprotected ref is denied)",
      { id: "r", match: { repository: "acme/app", environment: "prod*" }, roles: ["prod"] },
      { ref_protected: "false", environment: "prod-made-up-by-a-branch" },
      "guard_unprotected_ref",
    ],
    [
      "privileged: a list of exact environments counts as naming them",
      { id: "r", match: { repository: "acme/app", environment: ["production", "staging"] }, roles: ["prod"] },
      { ref_protected: "false", environment: "staging" },
      "allow",
    ],
    [
      "privileged: unprotected with allowUnprotectedRefs",
      { ...base, roles: ["prod"], allowUnprotectedRefs: true },
      { ref_protected: "false" },
      "allow",
    ],
    [
      "privileged: issue_comment denied",
      { ...base, roles: ["prod"] },
      { event_name: "issue_comment" },
      "guard_untrusted_event",
    ],
    [
      "privileged: workflow_run with allowEvents naming it",
      { ...base, roles: ["prod"], allowEvents: ["workflow_run"] },
      { event_name: "workflow_run" },
      "allow",
    ],
    ["not privileged: issue_comment is fine", { ...base, roles: ["a"] }, { event_name: "issue_comment" }, "allow"],
    [
      "guards run in order: pull_request_target first",
      { ...base, roles: ["prod"] },
      { event_name: "pull_request_target", runner_environment: "self-hosted", ref_protected: "false" },
      "guard_pull_request_target",
    ],
  ];
  it.each(github)("GitHub: %s", (_name, rule, claims, expected) => {
    const decision = decide(policyOf([rule as never]), input(claims));
    if (expected === "allow") expect(decision).toMatchObject({ allowed: true });
    else expect(decision).toEqual({ allowed: false, reason: expected, ruleId: "r" });
  });

  const glBase = { id: "r", issuer: "gitlab", match: { project_path: "acme/app" } };
  const gitlab: Row[] = [
    ["protected main passes", { ...glBase, roles: ["prod"] }, {}, "allow"],
    [
      "self-hosted runner denied",
      { ...glBase, roles: ["a"] },
      { runner_environment: "self-hosted" },
      "guard_self_hosted_runner",
    ],
    [
      "github-hosted is not gitlab-hosted",
      { ...glBase, roles: ["a"] },
      { runner_environment: "github-hosted" },
      "guard_self_hosted_runner",
    ],
    [
      "self-hosted with allowSelfHostedRunners",
      { ...glBase, roles: ["a"], allowSelfHostedRunners: true },
      { runner_environment: "self-hosted" },
      "allow",
    ],
    [
      "privileged: merge_request_event denied",
      { ...glBase, roles: ["prod"] },
      { pipeline_source: "merge_request_event" },
      "guard_pull_request_ref",
    ],
    [
      "privileged: external_pull_request_event denied",
      { ...glBase, roles: ["prod"] },
      { pipeline_source: "external_pull_request_event" },
      "guard_pull_request_ref",
    ],
    // Opting out of the ref guard does not widen the event allowlist: the rule must name the event too.
    [
      "privileged: merge request with allowPullRequestRefs only",
      { ...glBase, roles: ["prod"], allowPullRequestRefs: true },
      { pipeline_source: "merge_request_event" },
      "guard_untrusted_event",
    ],
    [
      "privileged: merge request with allowPullRequestRefs and allowEvents",
      { ...glBase, roles: ["prod"], allowPullRequestRefs: true, allowEvents: ["merge_request_event"] },
      { pipeline_source: "merge_request_event" },
      "allow",
    ],
    [
      "privileged: trigger-token pipeline denied",
      { ...glBase, roles: ["prod"] },
      { pipeline_source: "trigger" },
      "guard_untrusted_event",
    ],
    [
      "privileged: unprotected ref denied",
      { ...glBase, roles: ["prod"] },
      { ref_protected: "false" },
      "guard_unprotected_ref",
    ],
    [
      "privileged: unprotected ref, protected environment passes",
      { ...glBase, roles: ["prod"] },
      { ref_protected: "false", environment: "prod", environment_protected: "true" },
      "allow",
    ],
    [
      "privileged: unprotected ref, unprotected environment denied",
      { ...glBase, roles: ["prod"] },
      { ref_protected: "false", environment: "prod", environment_protected: "false" },
      "guard_unprotected_ref",
    ],
    [
      "pull_request_target means nothing to GitLab",
      { ...glBase, roles: ["a"] },
      { event_name: "pull_request_target" },
      "allow",
    ],
  ];
  it.each(gitlab)("GitLab: %s", (_name, rule, claims, expected) => {
    const policy = policyOf([rule as never], { gitlab: "gitlab" });
    const claimSet: Record<string, unknown> = gitlabClaims(claims);
    for (const [key, value] of Object.entries(claimSet)) if (value === undefined) delete claimSet[key];
    const decision = decide(policy, {
      issuerId: "gitlab",
      claims: claimSet,
      role: undefined,
      durationSeconds: undefined,
    });
    if (expected === "allow") expect(decision).toMatchObject({ allowed: true });
    else expect(decision).toEqual({ allowed: false, reason: expected, ruleId: "r" });
  });

  it("every guard reason appears in these tables", () => {
    const seen = new Set([...github, ...gitlab].map((row) => row[3]));
    for (const reason of GUARD_REASONS) expect(seen).toContain(reason);
  });

  it("a guard blocks only the privileged alias of a rule; the other alias is still granted", () => {
    const policy = policyOf([{ id: "r", match: { repository: "acme/app" }, roles: ["a", "prod"] }]);
    expect(decide(policy, input({ ref_protected: "false" }))).toMatchObject({ allowed: true, alias: "a" });
    expect(decide(policy, input({ ref_protected: "false" }, { role: "prod" }))).toEqual({
      allowed: false,
      reason: "guard_unprotected_ref",
      ruleId: "r",
    });
  });

  it("a later unguarded rule still grants what an earlier rule's guard refused", () => {
    const policy = policyOf([
      { id: "strict", match: { repository: "acme/app" }, roles: ["a"] },
      {
        id: "self-hosted-ok",
        match: { repository: "acme/app", environment: "ci" },
        roles: ["a"],
        allowSelfHostedRunners: true,
      },
    ]);
    expect(decide(policy, input({ runner_environment: "self-hosted", environment: "ci" }))).toMatchObject({
      allowed: true,
      ruleId: "self-hosted-ok",
    });
    expect(decide(policy, input({ runner_environment: "self-hosted" }))).toMatchObject({
      allowed: false,
      reason: "guard_self_hosted_runner",
      ruleId: "strict",
    });
  });
});
