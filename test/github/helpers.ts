// Shared by the GitHub facts tests: the example policy's scan run, pull_request set-ups, policies with given
// requirements, and the shape of a denial through the whole Worker.
import { expect } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { definePolicy } from "../../src/policy/define.ts";
import type { Requirements } from "../../src/policy/types.ts";
import { expectAudit, expectNoLeak, type Harness } from "../support/broker-harness.ts";
import { EXAMPLE_FACTS, SCAN_WORKFLOW, type JobInput } from "../../sandbox/fakes/fake-github-api.ts";
import { SAMPLE_SHA } from "../../sandbox/fakes/fake-issuer.ts";

export const { repository, pullNumber } = EXAMPLE_FACTS;
/** A broker that reuses no met fact (as the sandbox's): each change shows on the next exchange. */
export const NO_FACT_CACHE = { env: { GITHUB_FACT_CACHE_SECONDS: "0" } };
export const OTHER_SHA = "0123456789abcdef0123456789abcdef01234567";
/** The head commit of pull request #7 and the workflow run of the pull_request job on it. */
export const PR_HEAD = "1111111111111111111111111111111111111111";
export const PR_RUN_ID = "22233344455";

/** The scan workflow's push runs on `sha` replaced by one whose dependency-review job is so (or the given jobs). */
export function setScan(
  h: Harness,
  result: "success" | "failure" | "pending" | readonly JobInput[],
  sha = SAMPLE_SHA,
): number {
  h.github.clearWorkflowRuns(repository, sha, SCAN_WORKFLOW);
  const jobs =
    typeof result !== "string"
      ? result
      : [
          result === "pending"
            ? { name: "dependency-review", status: "in_progress" as const, conclusion: null }
            : { name: "dependency-review", conclusion: result },
        ];
  return h.github.addWorkflowRun({
    repository,
    event: "push",
    headSha: sha,
    headBranch: "main",
    path: SCAN_WORKFLOW,
    jobs,
  });
}

export async function expectDenied(
  h: Harness,
  reason: string,
  token?: string,
  rule = "acme-app-main-deploy",
): Promise<Record<string, unknown>> {
  const issued = h.sts.assumeRoleCalls.length;
  const response = await h.request(token ?? (await h.mint()));
  expect(response.status).toBe(403);
  expect((await expectNoLeak(response)).error).toBe("forbidden");
  expect(h.sts.assumeRoleCalls).toHaveLength(issued);
  return expectAudit(h, { outcome: "denied", code: "forbidden", reason, rule_id: rule }).event;
}

/**
 * Pull request #7, open, its head PR_HEAD, and a pull_request run on it (jobs as given): returns a minter of that job's
 * tokens.
 */
export function openPullRequest(h: Harness, jobs: readonly JobInput[] = []): () => Promise<string> {
  h.github.addPullRequest({
    repository,
    number: 7,
    authorId: 3,
    headSha: PR_HEAD,
    baseRef: "main",
    state: "open",
    mergedAt: null,
    mergeCommitSha: null,
    commits: [PR_HEAD],
  });
  h.github.addWorkflowRun({
    repository,
    id: Number(PR_RUN_ID),
    event: "pull_request",
    headSha: PR_HEAD,
    headBranch: "feature",
    path: ".github/workflows/ci.yml",
    jobs,
  });
  // The token's sha is the test merge commit GitHub built for the run (refs/pull/7/merge), not the head.
  return () =>
    h.mint({
      event_name: "pull_request",
      ref: "refs/pull/7/merge",
      sha: OTHER_SHA,
      run_id: PR_RUN_ID,
      base_ref: "main",
      head_ref: "feature",
      workflow_ref: "acme/app/.github/workflows/ci.yml@refs/pull/7/merge",
    });
}

/** A policy granting readonly to acme/app with these requirements (for pull_request events and variants). */
export function policyRequiring(require: Requirements, event: string | string[] = "pull_request") {
  return definePolicy({
    roles: { readonly: testPolicy.roles.readonly as { arn: string } },
    rules: [
      {
        id: "app-requirements",
        match: { repository: "acme/app", repository_id: "874563210", event_name: event },
        roles: ["readonly"],
        require,
      },
    ],
  });
}
