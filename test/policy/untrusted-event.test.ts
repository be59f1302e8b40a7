// privileged roles only for events the repository's writers start (guard_untrusted_event).
// The reproduction through the whole Worker, the per-rule widening (`allowEvents`), its compile rules, and the
// policy:check finding for a widened privileged rule.
import { describe, expect, it } from "vitest";
import { checkPolicy } from "../../src/policy/check.ts";
import { compilePolicy, PolicyCompileError } from "../../src/policy/compile.ts";
import { decide, type DecisionInput } from "../../src/policy/decide.ts";
import { TRUSTED_EVENTS } from "../../src/policy/guards.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";
import { createHarness, expectAudit, expectNoLeak } from "../support/broker-harness.ts";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";
import { gitlabClaims } from "../support/gitlab-claims.ts";

const ARN = "arn:aws:iam::111122223333:role/";
const roles = { prod: { arn: `${ARN}prod`, privileged: true }, read: { arn: `${ARN}read` } };
const MATCH = { repository: "acme/app", repository_id: "874563210" };

function input(claims: Record<string, unknown>, issuerId = "github"): DecisionInput {
  return { issuerId, claims, role: undefined, durationSeconds: undefined };
}

function compileError(policy: PolicyDefinition): string | undefined {
  try {
    compilePolicy(policy);
    return undefined;
  } catch (error) {
    return error instanceof PolicyCompileError ? error.code : "unexpected";
  }
}

describe("through the Worker: the issue's reproduction", () => {
  it("acme/infra, environment production, issue_comment: 403 forbidden, guard_untrusted_event, STS never called", async () => {
    const h = await createHarness();
    const claims = githubClaims({
      repository: "acme/infra",
      repository_id: "874563300",
      environment: "production",
      event_name: "issue_comment",
    });
    const response = await h.request(await h.mint(claims));
    expect(response.status).toBe(403);
    expect((await expectNoLeak(response, ["guard_untrusted_event", "infra-deploy"])).error).toBe("forbidden");
    expectAudit(h, {
      outcome: "denied",
      code: "forbidden",
      reason: "guard_untrusted_event",
      rule_id: "acme-infra-production",
      status: 403,
    });
    expect(h.sts.requestCount).toBe(0);
  });

  it("the same token on a push still gets infra-deploy", async () => {
    const h = await createHarness();
    const claims = githubClaims({
      repository: "acme/infra",
      repository_id: "874563300",
      environment: "production",
      event_name: "push",
    });
    const response = await h.request(await h.mint(claims));
    expect(response.status, await response.clone().text()).toBe(200);
    expect(h.sts.assumeRoleCalls[0]?.roleArn).toBe("arn:aws:iam::444455556666:role/ci/infra-deploy");
  });
});

describe("the allowlist", () => {
  const policy = compilePolicy({ roles, rules: [{ id: "prod", match: MATCH, roles: ["prod"] }] });

  it.each([...TRUSTED_EVENTS.github])("GitHub %s reaches a privileged role", (event) => {
    expect(decide(policy, input(githubClaims({ event_name: event })))).toMatchObject({ allowed: true, ruleId: "prod" });
  });

  it.each([
    "issue_comment",
    "issues",
    "workflow_run",
    "repository_dispatch",
    "pull_request_review",
    "pull_request_review_comment",
    "discussion",
    "watch",
    "check_run",
    "status",
    "create",
  ])("GitHub %s does not", (event) => {
    expect(decide(policy, input(githubClaims({ event_name: event })))).toEqual({
      allowed: false,
      reason: "guard_untrusted_event",
      ruleId: "prod",
    });
  });

  it("a non-privileged role is not held by it", () => {
    const readonly = compilePolicy({ roles, rules: [{ id: "read", match: MATCH, roles: ["read"] }] });
    expect(decide(readonly, input(githubClaims({ event_name: "issue_comment" })))).toMatchObject({ allowed: true });
  });

  it("GitLab: push, web, api and schedule reach a privileged role; trigger, pipeline, parent_pipeline, chat do not", () => {
    const gitlab = compilePolicy({
      issuers: { gitlab: "gitlab" },
      roles,
      rules: [{ id: "gl", issuer: "gitlab", match: { project_path: "acme/app", project_id: "4242" }, roles: ["prod"] }],
    });
    for (const source of ["push", "web", "api", "schedule"])
      expect(decide(gitlab, input(gitlabClaims({ pipeline_source: source }), "gitlab")).allowed).toBe(true);
    for (const source of [
      "trigger",
      "pipeline",
      "parent_pipeline",
      "chat",
      "webide",
      "external",
      "ondemand_dast_scan",
    ]) {
      expect(decide(gitlab, input(gitlabClaims({ pipeline_source: source }), "gitlab"))).toEqual({
        allowed: false,
        reason: "guard_untrusted_event",
        ruleId: "gl",
      });
    }
  });
});

describe("allowEvents: a rule widens only by naming each event", () => {
  const widened: PolicyDefinition = {
    roles,
    rules: [{ id: "prod", match: MATCH, roles: ["prod"], allowEvents: ["workflow_run"] }],
  };

  it("the named event passes, any other untrusted one still fails", () => {
    const policy = compilePolicy(widened);
    expect(decide(policy, input(githubClaims({ event_name: "workflow_run" })))).toMatchObject({ allowed: true });
    expect(decide(policy, input(githubClaims({ event_name: "issue_comment" })))).toMatchObject({
      allowed: false,
      reason: "guard_untrusted_event",
    });
  });

  it.each([
    ["a glob", ["workflow_*"]],
    ["everything", ["*"]],
    ["an empty list", []],
    ["a string instead of a list", "workflow_run"],
    ["an event that is trusted already", ["push"]],
  ])("refuses %s", (_what, allowEvents) => {
    expect(
      compileError({
        roles,
        rules: [{ id: "prod", match: MATCH, roles: ["prod"], allowEvents: allowEvents as string[] }],
      }),
    ).toBe("rule_invalid");
  });

  it("refuses it on a deny rule (guards never apply there)", () => {
    expect(
      compileError({ roles, rules: [{ id: "d", effect: "deny", match: MATCH, allowEvents: ["workflow_run"] }] }),
    ).toBe("rule_invalid");
  });

  it("policy:check flags a privileged rule that widens the allowlist, and only that", () => {
    const findings = checkPolicy(widened).findings.filter((finding) => finding.code !== "role_unused");
    expect(findings).toEqual([
      expect.objectContaining({ severity: "warning", code: "event_allowlist_widened", location: "rules[0] (prod)" }),
    ]);
    const plain = checkPolicy({
      roles,
      rules: [{ id: "read", match: MATCH, roles: ["read"], allowEvents: ["workflow_run"] }],
    }).findings;
    expect(plain.map((finding) => finding.code)).not.toContain("event_allowlist_widened");
  });

  it("an earlier rule without the widening does not shadow a later one with it", () => {
    const policy: PolicyDefinition = {
      roles,
      rules: [
        { id: "narrow", match: MATCH, roles: ["prod"] },
        { id: "wide", match: { ...MATCH, ref: "refs/heads/main" }, roles: ["prod"], allowEvents: ["workflow_run"] },
      ],
    };
    expect(checkPolicy(policy).findings.map((finding) => finding.code)).not.toContain("rule_shadowed");
  });
});
