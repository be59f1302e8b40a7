// Rules with GitHub requirements (issue #9, docs/github-facts.md), through the whole Worker inside workerd: the fake
// GitHub API verifies the App JWT and serves check runs, pull requests and reviews; the example policy's
// acme-app-main-deploy requires a successful dependency-review run by GitHub Actions and one approval.
import { describe, expect, it } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { GITHUB_FACT_CACHE_MS } from "../../src/constants.ts";
import { definePolicy } from "../../src/policy/define.ts";
import type { Requirements } from "../../src/policy/types.ts";
import { createHarness, expectAudit, expectNoLeak, type Harness } from "../support/broker-harness.ts";
import { EXAMPLE_FACTS, GITHUB_ACTIONS_APP, type Endpoint, type GitHubFault } from "../support/fake-github-api.ts";
import { SAMPLE_SHA } from "../support/fake-issuer.ts";

const { repository, pullNumber } = EXAMPLE_FACTS;
const OTHER_SHA = "0123456789abcdef0123456789abcdef01234567";

function setCheck(h: Harness, status: "queued" | "in_progress" | "completed", conclusion: string | null, app = GITHUB_ACTIONS_APP, sha = SAMPLE_SHA): void {
  h.github.clearCheckRuns(repository, sha, "dependency-review");
  h.github.addCheckRun({ repository, sha, name: "dependency-review", app, status, conclusion });
}

async function expectDenied(h: Harness, reason: string): Promise<void> {
  const response = await h.request(await h.mint());
  expect(response.status).toBe(403);
  expect((await expectNoLeak(response)).error).toBe("forbidden");
  expect(h.sts.assumeRoleCalls).toHaveLength(0);
  expectAudit(h, { outcome: "denied", code: "forbidden", reason, rule_id: "acme-app-main-deploy" });
}

/** The head commit of pull request #7 and the workflow run of the pull_request job on it. */
const PR_HEAD = "1111111111111111111111111111111111111111";
const PR_RUN_ID = "22233344455";

/** Pull request #7, open, its head PR_HEAD, and a pull_request run on it: returns a minter of that job's tokens. */
function openPullRequest(h: Harness): () => Promise<string> {
  h.github.addPullRequest({ repository, number: 7, authorId: 3, headSha: PR_HEAD, baseRef: "main", state: "open", mergedAt: null, mergeCommitSha: null, commits: [PR_HEAD] });
  h.github.addWorkflowRun({ repository, id: Number(PR_RUN_ID), event: "pull_request", headSha: PR_HEAD });
  // The token's sha is the test merge commit GitHub built for the run (refs/pull/7/merge), not the head.
  return () => h.mint({ event_name: "pull_request", ref: "refs/pull/7/merge", sha: OTHER_SHA, run_id: PR_RUN_ID });
}

/** A policy granting readonly to acme/app with these requirements (for pull_request events and variants). */
function policyRequiring(require: Requirements, event = "pull_request") {
  return definePolicy({
    roles: { readonly: testPolicy.roles.readonly as { arn: string } },
    rules: [{ id: "app-requirements", match: { repository: "acme/app", repository_id: "874563210", event_name: event }, roles: ["readonly"], require }],
  });
}

describe("requirements met", () => {
  it("issues credentials and records the facts used in the audit event", async () => {
    const h = await createHarness();
    const response = await h.request(await h.mint());
    expect(response.status).toBe(200);
    expect(h.sts.assumeRoleCalls).toHaveLength(1);
    const { event } = expectAudit(h, { outcome: "issued", rule_id: "acme-app-main-deploy" });
    expect(event.context_facts).toContain("check dependency-review=success app github-actions(15368)");
    expect(event.context_facts).toContain(`pr #${pullNumber} approvals 1/1`);
    expect(event.github_rate_remaining).toBeTypeOf("number");
    // The App authenticated once and read only what requirements need.
    expect(h.github.calls).toMatchObject({ installation: 1, access_tokens: 1, repository: 1, check_runs: 1, commit_pulls: 1, reviews: 1, pull: 0 });
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
    h.github.addReview(repository, 7, { userId: 4, state: "APPROVED", commitId: PR_HEAD });
    expect((await h.request(await token())).status).toBe(200);
    expect(h.github.calls.pull).toBe(2);
  });

  it("judges a pull_request token's checks on its run's head commit, not on the test merge commit its sha names", async () => {
    const h = await createHarness({ policy: policyRequiring({ checks: [{ name: "dependency-review", app: "github-actions" }] }) });
    const token = openPullRequest(h);
    // GitHub reports a pull_request run's checks on the pull request's head; the merge commit (the token's sha) has none.
    h.github.addCheckRun({ repository, sha: PR_HEAD, name: "dependency-review", app: GITHUB_ACTIONS_APP, status: "completed", conclusion: "success" });
    const response = await h.request(await token());
    expect(response.status).toBe(200);
    const { event } = expectAudit(h, { outcome: "issued" });
    expect(event.context_facts).toContain(`run ${PR_RUN_ID} head ${PR_HEAD.slice(0, 12)}`);
    expect(event.context_facts).toContain("check dependency-review=success");
    expect(h.github.calls).toMatchObject({ workflow_run: 1, check_runs: 1 });
  });

  it("a pull request that moved on: approvals and checks of its new head do not vouch for a job of the old one", async () => {
    const h = await createHarness({ policy: policyRequiring({ checks: [{ name: "dependency-review", app: "github-actions" }], pullRequest: { approvals: 1 } }) });
    const token = openPullRequest(h);
    const newHead = "2222222222222222222222222222222222222222";
    h.github.addCheckRun({ repository, sha: newHead, name: "dependency-review", app: GITHUB_ACTIONS_APP, status: "completed", conclusion: "success" });
    h.github.addPullRequest({ repository, number: 7, authorId: 3, headSha: newHead, baseRef: "main", state: "open", mergedAt: null, mergeCommitSha: null, commits: [PR_HEAD, newHead] });
    h.github.addReview(repository, 7, { userId: 4, state: "APPROVED", commitId: newHead });
    expect((await h.request(await token())).status).toBe(403);
    expectAudit(h, { outcome: "denied", reason: "context_check_missing" });
    h.github.addCheckRun({ repository, sha: PR_HEAD, name: "dependency-review", app: GITHUB_ACTIONS_APP, status: "completed", conclusion: "success" });
    expect((await h.request(await token())).status).toBe(403);
    expectAudit(h, { outcome: "denied", reason: "context_pr_not_approved" });
    h.github.addReview(repository, 7, { userId: 5, state: "APPROVED", commitId: PR_HEAD });
    expect((await h.request(await token())).status).toBe(200);
  });

  it.each([
    ["no such run", () => undefined, "context_commit_unknown"],
    ["a run of another event", (h: Harness) => h.github.addWorkflowRun({ repository, id: Number(PR_RUN_ID), event: "push", headSha: PR_HEAD }), "context_commit_unknown"],
  ] as const)("a pull_request token whose run is unknown to GitHub (%s) is denied", async (_label, seed, reason) => {
    const h = await createHarness({ policy: policyRequiring({ checks: [{ name: "dependency-review", app: "github-actions" }] }) });
    h.github.addPullRequest({ repository, number: 7, authorId: 3, headSha: PR_HEAD, baseRef: "main", state: "open", mergedAt: null, mergeCommitSha: null, commits: [PR_HEAD] });
    seed(h);
    h.github.addCheckRun({ repository, sha: PR_HEAD, name: "dependency-review", app: GITHUB_ACTIONS_APP, status: "completed", conclusion: "success" });
    const response = await h.request(await h.mint({ event_name: "pull_request", ref: "refs/pull/7/merge", sha: OTHER_SHA, run_id: PR_RUN_ID }));
    expect(response.status).toBe(403);
    expect((await expectNoLeak(response)).error).toBe("forbidden");
    expectAudit(h, { outcome: "denied", reason });
    expect(h.github.calls.check_runs).toBe(0);
  });

  it("lets stale approvals count only when the rule allows them", async () => {
    const h = await createHarness({ policy: policyRequiring({ pullRequest: { approvals: 1, allowStaleApprovals: true } }, "push") });
    h.github.clearReviews(repository, pullNumber);
    h.github.addReview(repository, pullNumber, { userId: 2, state: "APPROVED", commitId: OTHER_SHA });
    expect((await h.request(await h.mint())).status).toBe(200);
  });
});

describe("requirements not met: 403 forbidden with the reason in the audit, STS never called", () => {
  it("a check of the right name from another app", async () => {
    const h = await createHarness();
    setCheck(h, "completed", "success", { slug: "imposter", id: 999 });
    await expectDenied(h, "context_check_wrong_app");
    expect(h.events()[0]?.context_facts).toContain("imposter(999)");
  });

  it.each([
    ["failed", "completed", "failure", "context_check_failed"],
    ["pending", "in_progress", null, "context_check_pending"],
  ] as const)("a %s check", async (_label, status, conclusion, reason) => {
    const h = await createHarness();
    setCheck(h, status, conclusion);
    await expectDenied(h, reason);
  });

  it("a missing check", async () => {
    const h = await createHarness();
    h.github.clearCheckRuns(repository, SAMPLE_SHA);
    await expectDenied(h, "context_check_missing");
  });

  it("the latest run decides: a later failure after a success denies", async () => {
    const h = await createHarness();
    h.github.addCheckRun({ repository, sha: SAMPLE_SHA, name: "dependency-review", app: GITHUB_ACTIONS_APP, status: "completed", conclusion: "failure" });
    await expectDenied(h, "context_check_failed");
  });

  it("an approval only by the author", async () => {
    const h = await createHarness();
    h.github.clearReviews(repository, pullNumber);
    h.github.addReview(repository, pullNumber, { userId: EXAMPLE_FACTS.authorId, state: "APPROVED", commitId: EXAMPLE_FACTS.headSha });
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
    setCheck(h, "completed", "success", GITHUB_ACTIONS_APP, OTHER_SHA);
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
    expect(h.logs).toContainEqual(expect.objectContaining({ message: "config_invalid", reason: "github_app_not_installed", repository }));
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
    expectAudit(h, { outcome: "denied", code: "forbidden", reason: "github_app_not_installed", rule_id: "acme-app-main-deploy" });
    expect(h.logs).toContainEqual(expect.objectContaining({ message: "config_invalid", reason: "github_app_not_installed", repository }));
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
    const h = await createHarness({ policy: policyRequiring({ checks: [{ name: "dependency-review", app: "github-actions" }] }) });
    const response = await h.request(await h.mint({ event_name: "pull_request", ref: "refs/pull/7/merge", sha: OTHER_SHA, run_id: "999" }));
    expect(response.status).toBe(403);
    expectAudit(h, { outcome: "denied", reason: "context_commit_unknown", rule_id: "app-requirements" });
    expect(h.github.calls).toMatchObject({ installation: 2, access_tokens: 1, workflow_run: 1 });
  });

  it("an App without a permission the broker asks for (Actions: read): forbidden, and a config_invalid log line", async () => {
    const h = await createHarness({ githubAppPermissions: { checks: "read", pull_requests: "read", metadata: "read" } });
    await expectDenied(h, "github_app_permissions_missing");
    expect(h.logs).toContainEqual(expect.objectContaining({ message: "config_invalid", reason: "github_app_permissions_missing", repository, status: 422 }));
  });

  it("a denial spends neither the token nor the repository's budget: the same token succeeds once facts are fixed", async () => {
    const h = await createHarness();
    setCheck(h, "in_progress", null);
    const token = await h.mint();
    expect((await h.request(token)).status).toBe(403);
    setCheck(h, "completed", "success");
    // Pending is never cached: the next request asks GitHub again.
    expect((await h.request(token)).status).toBe(200);
  });
});

describe("GitHub failures fail closed: 503 upstream_unavailable with Retry-After, STS never called", () => {
  const cases: Array<[string, GitHubFault, string, Endpoint | undefined]> = [
    ["HTTP 500", { kind: "status", status: 500 }, "github_api_unavailable", "check_runs"],
    ["a timeout", { kind: "hang" }, "github_api_unavailable", "commit_pulls"],
    ["malformed JSON", { kind: "malformed" }, "github_api_unavailable", "reviews"],
    ["a primary rate limit", { kind: "rate_limited" }, "github_api_rate_limited", "check_runs"],
    ["a secondary rate limit", { kind: "rate_limited", secondary: true, retryAfterSeconds: 42 }, "github_api_rate_limited", undefined],
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
    if (fault.kind === "rate_limited" && fault.retryAfterSeconds !== undefined) expect(retryAfter).toBe(fault.retryAfterSeconds);
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
    h.github.fail({ kind: "rate_limited", secondary: true, retryAfterSeconds: 30 }, { endpoint: "check_runs", times: 1 });
    expect((await h.request(await h.mint())).status).toBe(503);
    const before = { ...h.github.calls };
    expect((await h.request(await h.mint())).status).toBe(503);
    expect(h.github.calls).toEqual(before);
    h.advance(31_000);
    expect((await h.request(await h.mint())).status).toBe(200);
  });
});

describe("cost at fleet scale", () => {
  it("256 concurrent exchanges for one commit cost at most 3 calls per endpoint", async () => {
    const h = await createHarness({ admission: { repositoryLimit: { perMinute: 6000, burst: 1000 }, addressLimit: 1000 } });
    const tokens = await Promise.all(Array.from({ length: 256 }, () => h.mint()));
    const responses = await Promise.all(tokens.map((token) => h.request(token)));
    expect(responses.map((response) => response.status)).toEqual(Array(256).fill(200));
    for (const [endpoint, count] of Object.entries(h.github.calls)) expect(count, endpoint).toBeLessThanOrEqual(3);
    expect(h.github.tokensIssued).toBe(1);
  }, 120_000);

  it("reuses positive facts for a minute, and the installation token until 5 minutes before it expires", async () => {
    const h = await createHarness();
    expect((await h.request(await h.mint())).status).toBe(200);
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.github.calls.check_runs).toBe(1);
    h.advance(GITHUB_FACT_CACHE_MS + 1);
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.github.calls.check_runs).toBe(2);
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
    const h = await createHarness({ env: { GITHUB_APP_PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\nnot-a-key\n-----END RSA PRIVATE KEY-----" } });
    const response = await h.request(await h.mint());
    expect(response.status).toBe(500);
    expect(JSON.stringify(h.logs)).not.toContain("not-a-key");
  });

  it("a rule without requirements never calls GitHub", async () => {
    const h = await createHarness();
    const response = await h.request(await h.mint({ event_name: "pull_request", ref: "refs/pull/7/merge", ref_protected: "false" }));
    expect(response.status).toBe(200);
    expect(Object.values(h.github.calls).every((count) => count === 0)).toBe(true);
  });
});
