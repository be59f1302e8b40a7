// Requirements: compile-time validation (policy:check) and the pure evaluation the broker and policy:test share.
import { describe, expect, it } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { compilePolicy, PolicyCompileError } from "../../src/policy/compile.ts";
import {
  countApprovals,
  evaluateCheck,
  jobCommitOfRun,
  judgedOnRunHead,
  mergedPullRequestFor,
  pullRequestTarget,
  type CompiledCheck,
  type PullRequestFact,
} from "../../src/policy/requirements.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";

const roles = { readonly: { arn: "arn:aws:iam::111122223333:role/ro" } };
function compileWith(require: unknown, extra: Record<string, unknown> = {}) {
  const policy = { issuers: { github: "github", gitlab: "gitlab" }, roles, rules: [{ id: "r", match: { repository: "acme/app", repository_id: "1" }, roles: ["readonly"], require, ...extra }] };
  return compilePolicy(policy as unknown as PolicyDefinition);
}

describe("compile: require", () => {
  it("compiles the example policy's requirements", () => {
    const rule = compilePolicy(testPolicy).rules.find((r) => r.id === "acme-app-main-deploy");
    expect(rule?.requirements?.checks.map((check) => [check.name, check.app, check.conclusions])).toEqual([["dependency-review", "github-actions", ["success"]]]);
    expect(rule?.requirements?.pullRequest).toMatchObject({ approvals: 1, allowStaleApprovals: false });
  });

  it.each([
    ["a check without app", { checks: [{ name: "scan" }] }],
    ["an app that is no slug", { checks: [{ name: "scan", app: "Not A Slug" }] }],
    ["an unknown conclusion", { checks: [{ name: "scan", app: "github-actions", conclusion: ["passed"] }] }],
    ["an empty check list", { checks: [] }],
    ["the same check twice", { checks: [{ name: "a", app: "x" }, { name: "a", app: "x" }] }],
    ["zero approvals", { pullRequest: { approvals: 0 } }],
    ["allowStaleApprovals false", { pullRequest: { approvals: 1, allowStaleApprovals: false } }],
    ["an unknown field", { checks: [{ name: "a", app: "x" }], reviews: 2 }],
    ["nothing required", {}],
  ])("refuses %s", (_label, require) => {
    expect(() => compileWith(require)).toThrow(PolicyCompileError);
  });

  it("allows unknown app slugs and numeric app ids", () => {
    expect(compileWith({ checks: [{ name: "scan", app: "some-app-we-never-heard-of" }, { name: "lint", app: 15368 }] }).rules[0]?.requirements?.checks).toHaveLength(2);
  });

  it("refuses requirements on deny rules and on GitLab rules", () => {
    expect(() => compileWith({ pullRequest: { approvals: 1 } }, { effect: "deny", roles: undefined })).toThrow(PolicyCompileError);
    const gitlab = { issuers: { gitlab: "gitlab" }, roles, rules: [{ id: "g", issuer: "gitlab", match: { project_path: "a/b", project_id: "1" }, roles: ["readonly"], require: { pullRequest: { approvals: 1 } } }] };
    expect(() => compilePolicy(gitlab as unknown as PolicyDefinition)).toThrow(PolicyCompileError);
  });
});

const check: CompiledCheck = { name: "scan", app: "github-actions", conclusions: ["success"], key: "k" };
const run = (id: number, over: Partial<{ appSlug: string; appId: number; status: string; conclusion: string | null; name: string }> = {}) => ({
  id,
  name: "scan",
  appSlug: "github-actions",
  appId: 15368,
  status: "completed",
  conclusion: "success",
  ...over,
});

describe("evaluateCheck", () => {
  it.each([
    ["the latest run of the app succeeded", [run(1, { conclusion: "failure" }), run(2)], true, undefined],
    ["the latest run of the app failed", [run(2), run(3, { conclusion: "failure" })], false, "context_check_failed"],
    ["queued", [run(1, { status: "queued", conclusion: null })], false, "context_check_pending"],
    ["only another app's run", [run(1, { appSlug: "x", appId: 9 })], false, "context_check_wrong_app"],
    ["a newer run from another app does not hide ours", [run(1), run(2, { appSlug: "x", appId: 9, conclusion: "failure" })], true, undefined],
    ["another name only", [run(1, { name: "other" })], false, "context_check_missing"],
    ["nothing", [], false, "context_check_missing"],
  ])("%s", (_label, runs, met, reason) => {
    const outcome = evaluateCheck(check, runs);
    expect(outcome.met).toBe(met);
    if (!outcome.met) expect(outcome.reason).toBe(reason);
  });

  it("matches a numeric app by id, never by slug", () => {
    expect(evaluateCheck({ ...check, app: 15368 }, [run(1, { appSlug: "15368", appId: 1 })]).met).toBe(false);
    expect(evaluateCheck({ ...check, app: 15368 }, [run(1)]).met).toBe(true);
  });
});

const pull: PullRequestFact = { number: 5, state: "closed", authorId: 1, headSha: "h", baseRef: "main", baseRepositoryId: 10, mergedAt: "t", mergeCommitSha: "s" };

describe("pull requests", () => {
  it("the merged pull request must have produced this sha on this ref in this repository", () => {
    expect(mergedPullRequestFor([pull], "s", "refs/heads/main", 10)).toBe(pull);
    expect(mergedPullRequestFor([pull], "s", "refs/heads/dev", 10)).toBeUndefined();
    expect(mergedPullRequestFor([pull], "s", "refs/heads/main", 11)).toBeUndefined();
    expect(mergedPullRequestFor([{ ...pull, mergedAt: null }], "s", "refs/heads/main", 10)).toBeUndefined();
    expect(mergedPullRequestFor([{ ...pull, mergeCommitSha: "other" }], "s", "refs/heads/main", 10)).toBeUndefined();
  });

  it.each([
    ["one approval on the head", [{ userId: 2, state: "APPROVED", commitId: "h" }], false, 1],
    ["the author's own approval", [{ userId: 1, state: "APPROVED", commitId: "h" }], false, 0],
    ["a stale approval", [{ userId: 2, state: "APPROVED", commitId: "old" }], false, 0],
    ["a stale approval when allowed", [{ userId: 2, state: "APPROVED", commitId: "old" }], true, 1],
    ["approval then changes requested", [{ userId: 2, state: "APPROVED", commitId: "h" }, { userId: 2, state: "CHANGES_REQUESTED", commitId: "h" }], false, 0],
    ["approval then a comment", [{ userId: 2, state: "APPROVED", commitId: "h" }, { userId: 2, state: "COMMENTED", commitId: "h" }], false, 1],
    ["approval dismissed", [{ userId: 2, state: "APPROVED", commitId: "h" }, { userId: 2, state: "DISMISSED", commitId: "h" }], false, 0],
    ["two reviewers, one reviewer twice", [{ userId: 2, state: "APPROVED", commitId: "h" }, { userId: 3, state: "APPROVED", commitId: "h" }, { userId: 2, state: "APPROVED", commitId: "h" }], false, 2],
  ])("counts %s", (_label, reviews, stale, count) => {
    expect(countApprovals(pull, reviews, stale)).toBe(count);
  });

  it("targets: an open pull request by its ref, a merged one on a branch, none otherwise", () => {
    expect(pullRequestTarget("pull_request", "refs/pull/7/merge")).toEqual({ kind: "open", number: 7 });
    expect(pullRequestTarget("push", "refs/heads/main")).toEqual({ kind: "merged" });
    expect(pullRequestTarget("push", "refs/tags/v1")).toEqual({ kind: "none" });
    expect(pullRequestTarget("pull_request_target", "refs/heads/main")).toEqual({ kind: "none" });
  });
});

describe("the commit a job runs", () => {
  const run = { id: 5, event: "pull_request", headSha: "a".repeat(40), repositoryId: 10 };

  it("only pull_request tokens name a test merge commit rather than the commit their checks are on", () => {
    expect(judgedOnRunHead("pull_request")).toBe(true);
    for (const event of ["push", "workflow_dispatch", "merge_group", "pull_request_target", "schedule"]) expect(judgedOnRunHead(event)).toBe(false);
  });

  it("is the run's head, when the run is the token's repository's and event's", () => {
    expect(jobCommitOfRun(run, "pull_request", 10)).toEqual({ met: true, sha: run.headSha, fact: "run 5 head aaaaaaaaaaaa" });
    expect(jobCommitOfRun(run, "pull_request", 11)).toMatchObject({ met: false, reason: "context_repository_mismatch" });
    expect(jobCommitOfRun({ ...run, event: "push" }, "pull_request", 10)).toMatchObject({ met: false, reason: "context_commit_unknown" });
  });
});
