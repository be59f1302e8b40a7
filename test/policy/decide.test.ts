import { describe, expect, it } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { compilePolicy } from "../../src/policy/compile.ts";
import { decide, ruleMatches, type Decision, type DecisionInput } from "../../src/policy/decide.ts";
import { definePolicy } from "../../src/policy/define.ts";
import { GUARD_REASONS } from "../../src/policy/guards.ts";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";
import { gitlabClaims } from "../support/gitlab-claims.ts";
import { input, policyOf, roles } from "./helpers.ts";

const allowed = (decision: Decision) => decision.allowed;

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

describe("matchers: exact values, anchored globs, lists, ids (table)", () => {
  // Each row: a rule's match, a claim override, whether it matches.
  const table: Array<[string, Record<string, unknown>, Record<string, unknown>, boolean]> = [
    // Exact names: no prefixes, no suffixes, no case folding, no Unicode normalisation.
    ["exact name", { repository: "acme/api" }, { repository: "acme/api" }, true],
    ["exact vs acme/api-evil", { repository: "acme/api" }, { repository: "acme/api-evil" }, false],
    ["exact vs prefix acme/ap", { repository: "acme/api" }, { repository: "acme/ap" }, false],
    ["exact vs trailing dot acme/api.", { repository: "acme/api" }, { repository: "acme/api." }, false],
    ["exact vs case variant ACME/APP", { repository: "acme/app" }, { repository: "ACME/APP" }, false],
    ["exact vs case variant Acme/app", { repository: "acme/app" }, { repository: "Acme/app" }, false],
    ["exact vs dotless ı (U+0131)", { repository: "acme/kit" }, { repository: "acme/k\u0131t" }, false],
    ["exact vs Kelvin sign K (U+212A)", { repository: "acme/Kit" }, { repository: "acme/\u212Ait" }, false],
    ["exact vs Cyrillic а (U+0430)", { repository: "acme/app" }, { repository: "\u0430cme/app" }, false],
    [
      "exact vs NFD (e + combining acute) for é",
      { repository: "acme/caf\u00e9" },
      { repository: "acme/cafe\u0301" },
      false,
    ],
    ["exact vs trailing newline", { repository: "acme/app" }, { repository: "acme/app\n" }, false],
    ["exact vs zero-width space", { repository: "acme/app" }, { repository: "acme/app\u200b" }, false],
    [
      "__proto__ is just a string (match)",
      { repository: "acme/app", environment: "__proto__" },
      { environment: "__proto__" },
      true,
    ],
    [
      "__proto__ is just a string (no match)",
      { repository: "acme/app", environment: "__proto__" },
      { environment: "prod" },
      false,
    ],
    [
      "constructor is just a string",
      { repository: "acme/app", environment: "constructor" },
      { environment: "toString" },
      false,
    ],
    // Globs: `*` never crosses `/`; `**` does; anchored both ends.
    [
      "release/* vs release/1.2",
      { repository: "acme/app", ref: "refs/heads/release/*" },
      { ref: "refs/heads/release/1.2" },
      true,
    ],
    [
      "release/* vs release-x",
      { repository: "acme/app", ref: "refs/heads/release/*" },
      { ref: "refs/heads/release-x" },
      false,
    ],
    [
      "release/* vs refs/tags/release/1",
      { repository: "acme/app", ref: "refs/heads/release/*" },
      { ref: "refs/tags/release/1" },
      false,
    ],
    [
      "release/* vs refs/pull/1/merge",
      { repository: "acme/app", ref: "refs/heads/release/*" },
      { ref: "refs/pull/1/merge" },
      false,
    ],
    [
      "release/* vs release/a/b (* stays in its segment)",
      { repository: "acme/app", ref: "refs/heads/release/*" },
      { ref: "refs/heads/release/a/b" },
      false,
    ],
    [
      "release/** vs release/a/b",
      { repository: "acme/app", ref: "refs/heads/release/**" },
      { ref: "refs/heads/release/a/b" },
      true,
    ],
    ["acme/* vs acme/app", { repository: "acme/*" }, { repository: "acme/app" }, true],
    ["acme/* vs acme-evil/app", { repository: "acme/*" }, { repository: "acme-evil/app" }, false],
    [
      "acme/api* vs acme/api-evil (a glob means what it says)",
      { repository: "acme/api*" },
      { repository: "acme/api-evil" },
      true,
    ],
    [
      "glob dot is literal: v1.* vs v1x2",
      { repository: "acme/app", ref: "refs/tags/v1.*" },
      { ref: "refs/tags/v1x2" },
      false,
    ],
    // Lists: any of.
    ["list, second item", { repository: ["acme/api", "acme/app"] }, { repository: "acme/app" }, true],
    ["list, none", { repository: ["acme/api", "acme/web"] }, { repository: "acme/app" }, false],
    // Claims given as arrays, numbers, objects never match (the schema refuses them first; decide holds anyway).
    ["claim given as an array", { repository: "acme/app" }, { repository: ["acme/app"] }, false],
    [
      "claim given as an array of the list",
      { repository: ["acme/app", "acme/api"] },
      { repository: ["acme/app", "acme/api"] },
      false,
    ],
    [
      "claim given as a number",
      { repository: "acme/app", repository_id: "874563210" },
      { repository_id: 874563210 },
      false,
    ],
    [
      "claim given as an object with toString",
      { repository: "acme/app" },
      { repository: { toString: () => "acme/app" } },
      false,
    ],
    ["absent claim", { repository: "acme/app", environment: "prod" }, { environment: undefined }, false],
    // Ids: a right name with a wrong id inherits nothing.
    ["name and id both right", { repository: "acme/app", repository_id: "874563210" }, {}, true],
    [
      "right name, wrong repository_id (recycled name)",
      { repository: "acme/app", repository_id: "874563210" },
      { repository_id: "999" },
      false,
    ],
    [
      "right name, wrong repository_owner_id (transferred org)",
      { repository_owner: "acme", repository_owner_id: "51234567" },
      { repository_owner_id: "1" },
      false,
    ],
    [
      "renamed repository, same id, rule pins only the id",
      { repository_id: "874563210" },
      { repository: "acme/renamed" },
      true,
    ],
    ["id with a leading zero is another id", { repository_id: "874563210" }, { repository_id: "0874563210" }, false],
  ];
  it.each(table)("%s", (_name, match, claims, matches) => {
    const policy = policyOf([{ id: "r", match, roles: ["a"] }]);
    expect(allowed(decide(policy, input(claims)))).toBe(matches);
  });

  it("claims are read as own properties only (a prototype's value never matches)", () => {
    const policy = policyOf([{ id: "r", match: { repository: "acme/app", environment: "prod" }, roles: ["a"] }]);
    const claims = Object.assign(Object.create({ environment: "prod" }) as Record<string, unknown>, githubClaims());
    expect(decide(policy, { issuerId: "github", claims, role: undefined, durationSeconds: undefined })).toMatchObject({
      allowed: false,
      reason: "no_matching_rule",
    });
  });

  it("a claims object whose own __proto__ key came from JSON is matched as data", () => {
    const policy = policyOf([{ id: "r", match: { repository: "acme/app" }, roles: ["a"] }]);
    const claims = JSON.parse(
      `{"__proto__": {"repository": "acme/app"}, "repository": "acme/evil", "runner_environment": "github-hosted"}`,
    ) as Record<string, unknown>;
    expect(allowed(decide(policy, { issuerId: "github", claims, role: undefined, durationSeconds: undefined }))).toBe(
      false,
    );
  });
});

describe("issuers: a token from one issuer never matches a rule for another", () => {
  const policy = policyOf(
    [
      { id: "gh", match: { repository: "acme/app" }, roles: ["a"] },
      { id: "ghes", issuer: "ghes", match: { repository: "acme/app" }, roles: ["b"], allowSelfHostedRunners: true },
      { id: "gl", issuer: "gitlab", match: { project_path: "acme/app" }, roles: ["b"] },
    ],
    { github: "github", ghes: "github", gitlab: "gitlab" },
  );

  it.each([
    ["github", "gh", "a"],
    ["ghes", "ghes", "b"],
  ])("identical GitHub claims from %s match only rule %s", (issuerId, ruleId, alias) => {
    expect(decide(policy, input({}, { issuerId }))).toMatchObject({ allowed: true, ruleId, alias });
  });

  it("GitLab claims match the GitLab rule only; the same claims under a GitHub issuer match nothing", () => {
    const claims = gitlabClaims();
    expect(decide(policy, { issuerId: "gitlab", claims, role: undefined, durationSeconds: undefined })).toMatchObject({
      allowed: true,
      ruleId: "gl",
    });
    expect(decide(policy, { issuerId: "github", claims, role: undefined, durationSeconds: undefined })).toMatchObject({
      allowed: false,
      reason: "no_matching_rule",
    });
  });

  it("GitHub claims presented as the gitlab issuer's match no GitLab rule (and production's schema refuses them first)", () => {
    expect(decide(policy, input({}, { issuerId: "gitlab" }))).toMatchObject({
      allowed: false,
      reason: "no_matching_rule",
    });
  });

  it("ruleMatches checks the issuer first", () => {
    const gh = policy.rules.find((rule) => rule.id === "gh");
    expect(gh !== undefined && ruleMatches(gh, "ghes", input().claims)).toBe(false);
  });
});

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
