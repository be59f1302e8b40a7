// Rules with GitHub requirements (docs/github-facts.md), through the whole Worker inside workerd: the fake GitHub API
// verifies the App JWT and serves workflow runs, jobs, pull requests, reviews and permissions; the example policy's
// acme-app-main-deploy requires a successful dependency-review job of the pinned scan workflow's push run and one
// approval by a writer. Jobs: exchange-jobs.test.ts; reviews: exchange-reviews.test.ts; tokens: tokens.test.ts.
import { describe, expect, it } from "vitest";
import { GITHUB_FACT_CACHE_MS } from "../../src/github/constants.ts";
import { createHarness, expectAudit, expectNoLeak } from "../support/broker-harness.ts";
import { EXAMPLE_FACTS, SCAN_WORKFLOW, type Endpoint, type GitHubFault } from "../support/fake-github-api.ts";
import {
  expectDenied,
  openPullRequest,
  OTHER_SHA,
  PR_HEAD,
  PR_RUN_ID,
  policyRequiring,
  pullNumber,
  repository,
  setScan,
} from "./helpers.ts";

describe("requirements met", () => {
  it("issues credentials and records the facts used in the audit event", async () => {
    const h = await createHarness();
    const response = await h.request(await h.mint());
    expect(response.status).toBe(200);
    expect(h.sts.assumeRoleCalls).toHaveLength(1);
    const { event } = expectAudit(h, { outcome: "issued", rule_id: "acme-app-main-deploy" });
    expect(event.context_facts).toMatch(
      new RegExp(
        `job dependency-review=success in run \\d+ attempt 1 \\(${SCAN_WORKFLOW.replaceAll(".", "\\.")} push main\\)`,
      ),
    );
    expect(event.context_facts).toContain(`pr #${pullNumber} approvals 1/1`);
    expect(event.github_rate_remaining).toBeTypeOf("number");
    // The App authenticated once and read only what requirements need: no check run is read at all.
    expect(h.github.calls).toMatchObject({
      installation: 1,
      access_tokens: 1,
      repository: 1,
      workflow_runs: 1,
      jobs: 1,
      commit_pulls: 1,
      reviews: 1,
      collaborator_permission: 1,
      pull: 0,
      check_runs: 0,
    });
  });

  it("accepts the App key as PKCS#8 too", async () => {
    const h = await createHarness();
    h.env.GITHUB_APP_PRIVATE_KEY = h.appKey.pkcs8Pem;
    expect((await h.request(await h.mint())).status).toBe(200);
  });

  it("counts approvals across Link-paginated review pages", async () => {
    const h = await createHarness({ githubPageSize: 1 });
    h.github.clearReviews(repository, pullNumber);
    h.github.addReview(repository, pullNumber, { userId: 5, state: "COMMENTED", commitId: EXAMPLE_FACTS.headSha });
    h.github.addReview(repository, pullNumber, { userId: 6, state: "COMMENTED", commitId: EXAMPLE_FACTS.headSha });
    h.github.setPermission(repository, 7, "write");
    h.github.addReview(repository, pullNumber, { userId: 7, state: "APPROVED", commitId: EXAMPLE_FACTS.headSha });
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.github.calls.reviews).toBe(3);
  });

  it("judges a pull_request token on the open pull request its ref names", async () => {
    const h = await createHarness({ policy: policyRequiring({ pullRequest: { approvals: 1 } }) });
    const token = openPullRequest(h);
    const unapproved = await h.request(await token());
    expect(unapproved.status).toBe(403);
    expectAudit(h, { reason: "context_pr_not_approved" });
    h.github.setPermission(repository, 4, "write");
    h.github.addReview(repository, 7, { userId: 4, state: "APPROVED", commitId: PR_HEAD });
    expect((await h.request(await token())).status).toBe(200);
    expect(h.github.calls.pull).toBe(2);
  });

  it("judges a pull_request token's jobs in its own run, on its head commit, not on the test merge commit its sha names", async () => {
    const h = await createHarness({ policy: policyRequiring({ checks: [{ job: "dependency-review" }] }) });
    const token = openPullRequest(h, [{ name: "dependency-review" }, { name: "deploy", status: "in_progress" }]);
    const response = await h.request(await token());
    expect(response.status).toBe(200);
    const { event } = expectAudit(h, { outcome: "issued" });
    expect(event.context_facts).toContain(`run ${PR_RUN_ID} head ${PR_HEAD.slice(0, 12)}`);
    expect(event.context_facts).toContain(`job dependency-review=success in run ${PR_RUN_ID}`);
    // The run is read once (its head, then its workflow), its jobs once.
    expect(h.github.calls).toMatchObject({ workflow_run: 1, jobs: 1, check_runs: 0 });
  });

  it("a pull request that moved on: approvals and a run of its new head do not vouch for a job of the old one", async () => {
    const h = await createHarness({
      policy: policyRequiring({ checks: [{ job: "dependency-review" }], pullRequest: { approvals: 1 } }),
    });
    const token = openPullRequest(h, [{ name: "dependency-review", conclusion: "failure" }]);
    const newHead = "2222222222222222222222222222222222222222";
    h.github.addWorkflowRun({
      repository,
      event: "pull_request",
      headSha: newHead,
      headBranch: "feature",
      jobs: [{ name: "dependency-review" }],
    });
    h.github.addPullRequest({
      repository,
      number: 7,
      authorId: 3,
      headSha: newHead,
      baseRef: "main",
      state: "open",
      mergedAt: null,
      mergeCommitSha: null,
      commits: [PR_HEAD, newHead],
    });
    h.github.setPermission(repository, 4, "write");
    h.github.addReview(repository, 7, { userId: 4, state: "APPROVED", commitId: newHead });
    await expectDenied(h, "context_check_failed", await token(), "app-requirements");
    h.github.rerunWorkflowRun(Number(PR_RUN_ID), [{ name: "dependency-review" }]);
    await expectDenied(h, "context_pr_not_approved", await token(), "app-requirements");
    h.github.addReview(repository, 7, { userId: 2, state: "APPROVED", commitId: PR_HEAD });
    expect((await h.request(await token())).status).toBe(200);
  });

  it.each([
    ["no such run", () => undefined, "context_commit_unknown"],
    [
      "a run of another event",
      (h: Parameters<typeof openPullRequest>[0]) =>
        h.github.addWorkflowRun({
          repository,
          id: Number(PR_RUN_ID),
          event: "push",
          headSha: PR_HEAD,
          jobs: [{ name: "dependency-review" }],
        }),
      "context_commit_unknown",
    ],
  ] as const)("a pull_request token whose run is unknown to GitHub (%s) is denied", async (_label, seed, reason) => {
    const h = await createHarness({ policy: policyRequiring({ checks: [{ job: "dependency-review" }] }) });
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
    seed(h);
    const response = await h.request(
      await h.mint({ event_name: "pull_request", ref: "refs/pull/7/merge", sha: OTHER_SHA, run_id: PR_RUN_ID }),
    );
    expect(response.status).toBe(403);
    expect((await expectNoLeak(response)).error).toBe("forbidden");
    expectAudit(h, { outcome: "denied", reason });
    expect(h.github.calls.jobs).toBe(0);
  });

  it("lets stale approvals count only when the rule allows them", async () => {
    const h = await createHarness({
      policy: policyRequiring({ pullRequest: { approvals: 1, allowStaleApprovals: true } }, "push"),
    });
    h.github.clearReviews(repository, pullNumber);
    h.github.addReview(repository, pullNumber, { userId: 2, state: "APPROVED", commitId: OTHER_SHA });
    expect((await h.request(await h.mint())).status).toBe(200);
  });
});

describe("requirements not met: 403 forbidden with the reason in the audit, STS never called", () => {
  it("an approval only by the author", async () => {
    const h = await createHarness();
    h.github.clearReviews(repository, pullNumber);
    h.github.addReview(repository, pullNumber, {
      userId: EXAMPLE_FACTS.authorId,
      state: "APPROVED",
      commitId: EXAMPLE_FACTS.headSha,
    });
    await expectDenied(h, "context_pr_not_approved");
  });

  it("a stale approval (given on an earlier head)", async () => {
    const h = await createHarness();
    h.github.clearReviews(repository, pullNumber);
    h.github.addReview(repository, pullNumber, { userId: 2, state: "APPROVED", commitId: OTHER_SHA });
    await expectDenied(h, "context_pr_not_approved");
  });

  it("a commit that did not come from a merged pull request", async () => {
    const h = await createHarness();
    setScan(h, "success", OTHER_SHA);
    const response = await h.request(await h.mint({ sha: OTHER_SHA }));
    expect(response.status).toBe(403);
    expectAudit(h, { outcome: "denied", reason: "context_pr_not_merged" });
  });

  it("a repository id that is not the token's (renamed or recycled name)", async () => {
    const h = await createHarness();
    h.github.addRepository(repository, 31337);
    await expectDenied(h, "context_repository_mismatch");
  });

  it("a repository the App is not installed on: forbidden, and a config_invalid log line names the repository", async () => {
    const h = await createHarness();
    h.github.setInstalled(repository, false);
    await expectDenied(h, "github_app_not_installed");
    expect(h.logs).toContainEqual(
      expect.objectContaining({ message: "config_invalid", reason: "github_app_not_installed", repository }),
    );
  });

  it("the App removed from the repository after its installation was looked up: github_app_not_installed and its config_invalid line, not a repository mismatch", async () => {
    const h = await createHarness();
    expect((await h.request(await h.mint())).status).toBe(200);
    h.github.setInstalled(repository, false);
    h.advance(GITHUB_FACT_CACHE_MS + 1);
    const response = await h.request(await h.mint());
    expect(response.status).toBe(403);
    expect((await expectNoLeak(response)).error).toBe("forbidden");
    expect(h.sts.assumeRoleCalls).toHaveLength(1);
    expectAudit(h, {
      outcome: "denied",
      code: "forbidden",
      reason: "github_app_not_installed",
      rule_id: "acme-app-main-deploy",
    });
    expect(h.logs).toContainEqual(
      expect.objectContaining({ message: "config_invalid", reason: "github_app_not_installed", repository }),
    );
  });

  it("the App installed anew (a new installation id) after the old one was looked up: the exchange goes through on the new installation", async () => {
    const h = await createHarness();
    expect((await h.request(await h.mint())).status).toBe(200);
    h.github.reinstall(repository);
    h.advance(GITHUB_FACT_CACHE_MS + 1);
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.github.calls).toMatchObject({ installation: 2, access_tokens: 2 });
  });

  it("a 404 for what does not exist (a workflow run) makes the broker look the installation up once more, then deny as before", async () => {
    const h = await createHarness({ policy: policyRequiring({ checks: [{ job: "dependency-review" }] }) });
    const response = await h.request(
      await h.mint({ event_name: "pull_request", ref: "refs/pull/7/merge", sha: OTHER_SHA, run_id: "999" }),
    );
    expect(response.status).toBe(403);
    expectAudit(h, { outcome: "denied", reason: "context_commit_unknown", rule_id: "app-requirements" });
    expect(h.github.calls).toMatchObject({ installation: 2, access_tokens: 1, workflow_run: 1, jobs: 0 });
  });

  it("an App without a permission the broker asks for (Actions: read): forbidden, and a config_invalid log line", async () => {
    const h = await createHarness({
      githubAppPermissions: { checks: "read", pull_requests: "read", metadata: "read" },
    });
    await expectDenied(h, "github_app_permissions_missing");
    expect(h.logs).toContainEqual(
      expect.objectContaining({
        message: "config_invalid",
        reason: "github_app_permissions_missing",
        repository,
        status: 422,
      }),
    );
  });

  it("a denial spends neither the token nor the repository's budget: the same token succeeds once facts are fixed", async () => {
    const h = await createHarness();
    const run = setScan(h, "pending");
    const token = await h.mint();
    expect((await h.request(token)).status).toBe(403);
    h.github.setJob(run, "dependency-review", "completed", "success");
    // Pending is never cached: the next request asks GitHub again.
    expect((await h.request(token)).status).toBe(200);
  });
});

describe("GitHub failures fail closed: 503 upstream_unavailable with Retry-After, STS never called", () => {
  const cases: Array<[string, GitHubFault, string, Endpoint | undefined]> = [
    ["HTTP 500", { kind: "status", status: 500 }, "github_api_unavailable", "jobs"],
    ["a timeout", { kind: "hang" }, "github_api_unavailable", "commit_pulls"],
    ["malformed JSON", { kind: "malformed" }, "github_api_unavailable", "reviews"],
    ["a primary rate limit", { kind: "rate_limited" }, "github_api_rate_limited", "workflow_runs"],
    [
      "HTTP 502 from the permission lookup",
      { kind: "status", status: 502 },
      "github_api_unavailable",
      "collaborator_permission",
    ],
    [
      "a secondary rate limit",
      { kind: "rate_limited", secondary: true, retryAfterSeconds: 42 },
      "github_api_rate_limited",
      undefined,
    ],
  ];
  it.each(cases)("%s", async (_label, fault, reason, endpoint) => {
    const h = await createHarness({ github: { callTimeoutMs: 50 } });
    h.github.fail(fault, endpoint === undefined ? {} : { endpoint });
    const token = await h.mint();
    const response = await h.request(token);
    expect(response.status).toBe(503);
    expect((await expectNoLeak(response)).error).toBe("upstream_unavailable");
    const retryAfter = Number(response.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    if (fault.kind === "rate_limited" && fault.retryAfterSeconds !== undefined)
      expect(retryAfter).toBe(fault.retryAfterSeconds);
    expect(h.sts.assumeRoleCalls).toHaveLength(0);
    expectAudit(h, { outcome: "error", code: "upstream_unavailable", reason });
    if (fault.kind !== "rate_limited") {
      // The single use was not spent: the same token succeeds once GitHub recovers.
      h.github.fail(null);
      expect((await h.request(token)).status).toBe(200);
    }
  });

  it("after a rate limit, no call is made until the wait is over", async () => {
    const h = await createHarness();
    h.github.fail({ kind: "rate_limited", secondary: true, retryAfterSeconds: 30 }, { endpoint: "jobs", times: 1 });
    expect((await h.request(await h.mint())).status).toBe(503);
    const before = { ...h.github.calls };
    expect((await h.request(await h.mint())).status).toBe(503);
    expect(h.github.calls).toEqual(before);
    h.advance(31_000);
    expect((await h.request(await h.mint())).status).toBe(200);
  });
});

describe("caching", () => {
  it("reuses positive facts for a minute, and the installation token until 5 minutes before it expires", async () => {
    const h = await createHarness();
    expect((await h.request(await h.mint())).status).toBe(200);
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.github.calls).toMatchObject({ workflow_runs: 1, jobs: 1, collaborator_permission: 1 });
    h.advance(GITHUB_FACT_CACHE_MS + 1);
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.github.calls).toMatchObject({ workflow_runs: 2, jobs: 2, collaborator_permission: 2 });
    // Tokens live one hour: still reused at 54 minutes, replaced past 55.
    h.advance(53 * 60_000);
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.github.tokensIssued).toBe(1);
    h.advance(2 * 60_000);
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.github.tokensIssued).toBe(2);
  });
});

describe("configuration", () => {
  it("rules with requirements and no GitHub App refuse to start (500 config_invalid)", async () => {
    const h = await createHarness({ env: { GITHUB_APP_ID: "", GITHUB_APP_PRIVATE_KEY: "" } });
    const response = await h.request(await h.mint({ repository: "acme/docs", repository_id: "874563299" }));
    expect(response.status).toBe(500);
    expect((await expectNoLeak(response)).error).toBe("config_invalid");
    expect(h.logs).toContainEqual(expect.objectContaining({ message: "config_invalid", reason: "github_app_missing" }));
    expect(h.github.calls.installation).toBe(0);
  });

  it("a malformed App key refuses to start, without echoing it", async () => {
    const h = await createHarness({
      env: { GITHUB_APP_PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\nnot-a-key\n-----END RSA PRIVATE KEY-----" },
    });
    const response = await h.request(await h.mint());
    expect(response.status).toBe(500);
    expect(JSON.stringify(h.logs)).not.toContain("not-a-key");
  });

  it("a rule without requirements never calls GitHub", async () => {
    const h = await createHarness();
    const response = await h.request(
      await h.mint({ event_name: "pull_request", ref: "refs/pull/7/merge", ref_protected: "false" }),
    );
    expect(response.status).toBe(200);
    expect(Object.values(h.github.calls).every((count) => count === 0)).toBe(true);
  });
});
