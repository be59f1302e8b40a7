// Requirements: compile-time validation (policy:check) and the pure evaluation the broker and policy:test share.
import { describe, expect, it } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { compilePolicy, PolicyCompileError } from "../../src/policy/compile.ts";
import { checkPolicy } from "../../src/policy/check.ts";
import {
  branchOfRef,
  CONTEXT_REASONS,
  evaluateCheck,
  jobCommitOfRun,
  judgedOnRunHead,
  mergedPullRequestFor,
  pullRequestTarget,
  type CompiledAppCheck,
  type PullRequestFact,
} from "../../src/policy/requirements.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";

const roles = { readonly: { arn: "arn:aws:iam::111122223333:role/ro" } };
function compileWith(require: unknown, extra: Record<string, unknown> = {}) {
  const policy = {
    issuers: { github: "github", gitlab: "gitlab" },
    roles,
    rules: [{ id: "r", match: { repository: "acme/app", repository_id: "1" }, roles: ["readonly"], require, ...extra }],
  };
  return compilePolicy(policy as unknown as PolicyDefinition);
}

describe("compile: require", () => {
  it("compiles the example policy's requirements: a job of the pinned scan workflow's push run, one approval", () => {
    const rule = compilePolicy(testPolicy).rules.find((r) => r.id === "acme-app-main-deploy");
    expect(rule?.requirements?.checks).toMatchObject([
      {
        kind: "job",
        job: "dependency-review",
        workflow: ".github/workflows/dependency-review.yml",
        events: ["push"],
        conclusions: ["success"],
      },
    ]);
    expect(rule?.requirements?.pullRequest).toMatchObject({ approvals: 1, allowStaleApprovals: false });
  });

  it("compiles both job forms and the rulesets fact", () => {
    const requirements = compileWith({
      checks: [
        { job: "scan" },
        {
          job: "scan",
          workflow: ".github/workflows/scan.yaml",
          events: ["workflow_dispatch", "push", "push"],
          conclusion: ["success", "skipped"],
        },
      ],
      rulesets: { approvals: 2, lastPushApproval: true },
    }).rules[0]?.requirements;
    expect(requirements?.checks).toMatchObject([
      { kind: "job", job: "scan", workflow: undefined, events: [] },
      {
        kind: "job",
        job: "scan",
        workflow: ".github/workflows/scan.yaml",
        events: ["push", "workflow_dispatch"],
        conclusions: ["skipped", "success"],
      },
    ]);
    expect(requirements?.rulesets).toMatchObject({ approvals: 2, lastPushApproval: true, dismissStaleReviews: false });
  });

  it.each([
    ["github-actions", { checks: [{ name: "dependency-review", app: "github-actions" }] }],
    ["its id 15368", { checks: [{ name: "dependency-review", app: 15368, conclusion: ["success"] }] }],
  ])("refuses a check run of GitHub Actions by %s (forgeable), showing both job forms", (_label, require) => {
    const error = (() => {
      try {
        compileWith(require);
      } catch (caught) {
        return caught as PolicyCompileError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PolicyCompileError);
    expect(error?.code).toBe("check_forgeable");
    expect(error?.location).toBe("rules[0] (r).require.checks[0].app");
    expect(error?.message).toContain('{ job: "dependency-review" }');
    expect(error?.message).toContain('{ workflow: ".github/workflows/<file>.yml", job: "dependency-review" }');
    // policy:check reports it as the policy's one error, with the same code.
    const policy = {
      issuers: { github: "github" },
      roles,
      rules: [{ id: "r", match: { repository: "acme/app", repository_id: "1" }, roles: ["readonly"], require }],
    };
    expect(checkPolicy(policy as unknown as PolicyDefinition).findings).toMatchObject([
      { severity: "error", code: "check_forgeable" },
    ]);
  });

  it.each([
    ["a check without app", { checks: [{ name: "scan" }] }],
    ["an app that is no slug", { checks: [{ name: "scan", app: "Not A Slug" }] }],
    ["an unknown conclusion", { checks: [{ name: "scan", app: "some-scanner", conclusion: ["passed"] }] }],
    ["a job with an app", { checks: [{ job: "scan", app: "some-scanner" }] }],
    ["a job with an empty name", { checks: [{ job: "" }] }],
    ["a job name with a line break", { checks: [{ job: "scan\nx" }] }],
    ["a workflow outside .github/workflows", { checks: [{ job: "scan", workflow: "ci/scan.yml" }] }],
    ["a workflow in a subfolder", { checks: [{ job: "scan", workflow: ".github/workflows/sub/scan.yml" }] }],
    ["a workflow that is not YAML", { checks: [{ job: "scan", workflow: ".github/workflows/scan.json" }] }],
    ["a workflow path with ..", { checks: [{ job: "scan", workflow: ".github/workflows/../../x.yml" }] }],
    ["a workflow name with @", { checks: [{ job: "scan", workflow: ".github/workflows/scan.yml@main.yml" }] }],
    ["events without a workflow", { checks: [{ job: "scan", events: ["push"] }] }],
    [
      "a pull_request run pinned",
      { checks: [{ job: "scan", workflow: ".github/workflows/scan.yml", events: ["pull_request"] }] },
    ],
    ["no events", { checks: [{ job: "scan", workflow: ".github/workflows/scan.yml", events: [] }] }],
    ["the same job twice", { checks: [{ job: "scan" }, { job: "scan" }] }],
    ["rulesets without approvals", { rulesets: {} }],
    ["rulesets with lastPushApproval false", { rulesets: { approvals: 1, lastPushApproval: false } }],
    ["an empty check list", { checks: [] }],
    [
      "the same check twice",
      {
        checks: [
          { name: "a", app: "x" },
          { name: "a", app: "x" },
        ],
      },
    ],
    ["zero approvals", { pullRequest: { approvals: 0 } }],
    ["allowStaleApprovals false", { pullRequest: { approvals: 1, allowStaleApprovals: false } }],
    ["an unknown field", { checks: [{ name: "a", app: "x" }], reviews: 2 }],
    ["nothing required", {}],
  ])("refuses %s", (_label, require) => {
    expect(() => compileWith(require)).toThrow(PolicyCompileError);
  });

  it("allows unknown third-party app slugs and numeric app ids", () => {
    expect(
      compileWith({
        checks: [
          { name: "scan", app: "some-app-we-never-heard-of" },
          { name: "lint", app: 57789 },
        ],
      }).rules[0]?.requirements?.checks,
    ).toHaveLength(2);
  });

  it("refuses requirements on deny rules and on GitLab rules", () => {
    expect(() => compileWith({ pullRequest: { approvals: 1 } }, { effect: "deny", roles: undefined })).toThrow(
      PolicyCompileError,
    );
    const gitlab = {
      issuers: { gitlab: "gitlab" },
      roles,
      rules: [
        {
          id: "g",
          issuer: "gitlab",
          match: { project_path: "a/b", project_id: "1" },
          roles: ["readonly"],
          require: { pullRequest: { approvals: 1 } },
        },
      ],
    };
    expect(() => compilePolicy(gitlab as unknown as PolicyDefinition)).toThrow(PolicyCompileError);
  });
});

const check: CompiledAppCheck = { kind: "app", name: "scan", app: "scanner", conclusions: ["success"], key: "k" };
const run = (
  id: number,
  over: Partial<{ appSlug: string; appId: number; status: string; conclusion: string | null; name: string }> = {},
) => ({
  id,
  name: "scan",
  appSlug: "scanner",
  appId: 57789,
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
    [
      "a newer run from another app does not hide ours",
      [run(1), run(2, { appSlug: "x", appId: 9, conclusion: "failure" })],
      true,
      undefined,
    ],
    ["another name only", [run(1, { name: "other" })], false, "context_check_missing"],
    ["nothing", [], false, "context_check_missing"],
  ])("%s", (_label, runs, met, reason) => {
    const outcome = evaluateCheck(check, runs);
    expect(outcome.met).toBe(met);
    if (!outcome.met) expect(outcome.reason).toBe(reason);
  });

  it("matches a numeric app by id, never by slug", () => {
    expect(evaluateCheck({ ...check, app: 57789 }, [run(1, { appSlug: "57789", appId: 1 })]).met).toBe(false);
    expect(evaluateCheck({ ...check, app: 57789 }, [run(1)]).met).toBe(true);
  });
});

const pull: PullRequestFact = {
  number: 5,
  state: "closed",
  authorId: 1,
  headSha: "h",
  baseRef: "main",
  baseRepositoryId: 10,
  mergedAt: "t",
  mergeCommitSha: "s",
};

describe("pull requests", () => {
  it("the merged pull request must have produced this sha on this ref in this repository", () => {
    expect(mergedPullRequestFor([pull], "s", "refs/heads/main", 10)).toBe(pull);
    expect(mergedPullRequestFor([pull], "s", "refs/heads/dev", 10)).toBeUndefined();
    expect(mergedPullRequestFor([pull], "s", "refs/heads/main", 11)).toBeUndefined();
    expect(mergedPullRequestFor([{ ...pull, mergedAt: null }], "s", "refs/heads/main", 10)).toBeUndefined();
    expect(mergedPullRequestFor([{ ...pull, mergeCommitSha: "other" }], "s", "refs/heads/main", 10)).toBeUndefined();
  });

  it("targets: an open pull request by its ref, a merged one on a branch, none otherwise", () => {
    expect(pullRequestTarget("pull_request", "refs/pull/7/merge")).toEqual({ kind: "open", number: 7 });
    expect(pullRequestTarget("push", "refs/heads/main")).toEqual({ kind: "merged" });
    expect(pullRequestTarget("push", "refs/tags/v1")).toEqual({ kind: "none" });
    expect(pullRequestTarget("pull_request_target", "refs/heads/main")).toEqual({ kind: "none" });
  });

  it("branches: refs/heads/X only", () => {
    expect(branchOfRef("refs/heads/release/1.2")).toBe("release/1.2");
    for (const ref of ["refs/heads/", "refs/tags/v1", "refs/pull/7/merge", "main"])
      expect(branchOfRef(ref)).toBeUndefined();
  });
});

describe("the commit a job runs", () => {
  const run = { id: 5, event: "pull_request", headSha: "a".repeat(40), repositoryId: 10 };

  it("only pull_request tokens name a test merge commit rather than the commit their checks are on", () => {
    expect(judgedOnRunHead("pull_request")).toBe(true);
    for (const event of ["push", "workflow_dispatch", "merge_group", "pull_request_target", "schedule"])
      expect(judgedOnRunHead(event)).toBe(false);
  });

  it("is the run's head, when the run is the token's repository's and event's", () => {
    expect(jobCommitOfRun(run, "pull_request", 10)).toEqual({
      met: true,
      sha: run.headSha,
      fact: "run 5 head aaaaaaaaaaaa",
    });
    expect(jobCommitOfRun(run, "pull_request", 11)).toMatchObject({
      met: false,
      reason: "context_repository_mismatch",
    });
    expect(jobCommitOfRun({ ...run, event: "push" }, "pull_request", 10)).toMatchObject({
      met: false,
      reason: "context_commit_unknown",
    });
  });
});

describe("reasons", () => {
  it("are distinct and each documented in docs/api.md's list (checked by test/e2e/docs.test.ts)", () => {
    expect(new Set(CONTEXT_REASONS).size).toBe(CONTEXT_REASONS.length);
    for (const reason of CONTEXT_REASONS) expect(reason).toMatch(/^context_[a-z_]+$/);
  });
});
