// compilePolicy's refusals (src/policy/compile-rule.ts, compile-match.ts, roles.ts): each mistake points at the culprit
// with a stable code (tables in compile-role-mistakes.ts and compile-rule-mistakes.ts); what stays allowed.
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/policy/compile.ts";
import { ROLE_MISTAKES } from "./compile-role-mistakes.ts";
import { RULE_MISTAKES } from "./compile-rule-mistakes.ts";
import { role, rule, compileError } from "./compile-helpers.ts";

describe("compilePolicy: mistakes, each pointing at the culprit with a stable code", () => {
  const mistakes = [...ROLE_MISTAKES, ...RULE_MISTAKES];
  it.each(mistakes)("refuses %s", (_name, policy, location, code) => {
    const error = compileError(policy);
    expect({ location: error.location, code: error.code }).toEqual({ location, code });
  });

  it("a deny rule may be as broad as it likes", () => {
    expect(() =>
      compilePolicy({ roles: { app: role }, rules: [rule, { id: "d", effect: "deny", match: { repository: "**" } }] }),
    ).not.toThrow();
  });

  it("globs workflow_ref (the caller's own workflow file), never job_workflow_ref (the reusable one)", () => {
    const callerGlob = { repository: "acme/app", workflow_ref: "acme/app/.github/workflows/*.yml@refs/heads/main" };
    expect(() => compilePolicy({ roles: { app: role }, rules: [{ ...rule, match: callerGlob }] })).not.toThrow();
    const reusableOnAnyRef = {
      repository_owner_id: "1",
      job_workflow_ref: "acme/wf/.github/workflows/release.yml@refs/heads/*",
    };
    expect(compileError({ roles: { app: role }, rules: [{ ...rule, match: reusableOnAnyRef }] }).code).toBe(
      "workflow_ref_glob",
    );
  });

  it("allowAnyWorkflowCaller opts out of the caller pin, explicitly", () => {
    const match = { repository_owner: "acme", job_workflow_ref: "acme/wf/.github/workflows/x.yml@refs/heads/main" };
    expect(() =>
      compilePolicy({ roles: { app: role }, rules: [{ ...rule, match, allowAnyWorkflowCaller: true }] }),
    ).not.toThrow();
  });

  it("accepts a session policy of exactly 2048 characters", () => {
    const base = JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "" }] }).length;
    const sessionPolicy = { Version: "2012-10-17", Statement: [{ Sid: "x".repeat(2048 - base) }] };
    expect(() => compilePolicy({ roles: { app: { ...role, sessionPolicy } }, rules: [rule] })).not.toThrow();
  });

  it("accepts ten managed policies, AWS-managed and the account's own", () => {
    const managedPolicyArns = [
      ...Array.from({ length: 9 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`),
      "arn:aws-us-gov:iam::111122223333:policy/path/Own",
    ];
    expect(() => compilePolicy({ roles: { app: { ...role, managedPolicyArns } }, rules: [rule] })).not.toThrow();
  });
});
