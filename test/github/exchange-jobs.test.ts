// Scans are jobs of workflow runs (docs/github-facts.md, "Jobs of workflow runs"), through the whole Worker: a check
// run that any workflow with `checks: write` can create, as GitHub Actions and filed in an Actions suite, never
// counts; only the named job of the token's own run, or of the pinned workflow's newest push run on the commit and
// branch (its latest attempt, from the token's repository, not a fork's) does.
import { describe, expect, it } from "vitest";
import { createHarness, expectAudit } from "../support/broker-harness.ts";
import { EXAMPLE_FACTS, GITHUB_ACTIONS_APP, SCAN_WORKFLOW } from "../../sandbox/fakes/fake-github-api.ts";
import { SAMPLE_SHA } from "../../sandbox/fakes/fake-issuer.ts";
import {
  expectDenied,
  NO_FACT_CACHE,
  openPullRequest,
  OTHER_SHA,
  policyRequiring,
  PR_HEAD,
  repository,
  setScan,
} from "./helpers.ts";

/**
 * What any job with `checks: write` can do with its GITHUB_TOKEN: a check run of any name and conclusion, as GitHub
 * Actions.
 */
function forgeCheckRun(h: Awaited<ReturnType<typeof createHarness>>, conclusion = "success", sha = SAMPLE_SHA): number {
  return h.github.addCheckRun({
    repository,
    sha,
    name: "dependency-review",
    app: GITHUB_ACTIONS_APP,
    status: "completed",
    conclusion,
  });
}

describe("the pinned form: a job of the scan workflow's push run on the commit", () => {
  it("a forged check run (GitHub Actions, newest, in the Actions suite) never overrides the job's failure", async () => {
    const h = await createHarness();
    setScan(h, "failure");
    forgeCheckRun(h);
    const event = await expectDenied(h, "context_check_failed");
    expect(event.context_facts).toContain("job dependency-review=failure");
  });

  it("a forged check run where the run has no such job: context_check_not_a_job; without it, context_check_missing", async () => {
    const h = await createHarness();
    setScan(h, [{ name: "build" }]);
    // The token's own ci.yml run has a dependency-review job: a check run of that name, but no job of the pinned run.
    await expectDenied(h, "context_check_not_a_job");
    h.github.clearWorkflowRuns(repository, SAMPLE_SHA, ".github/workflows/ci.yml");
    await expectDenied(h, "context_check_missing");
    const forged = forgeCheckRun(h);
    const event = await expectDenied(h, "context_check_not_a_job");
    expect(event.context_facts).toContain(
      `check run ${forged} dependency-review by app github-actions(15368) is no job of it`,
    );
  });

  it("no run of the pinned workflow on the commit: context_workflow_not_run, whatever check runs and other workflows' jobs say", async () => {
    const h = await createHarness();
    h.github.clearWorkflowRuns(repository, SAMPLE_SHA, SCAN_WORKFLOW);
    forgeCheckRun(h);
    // A job of the same name in another workflow (the token's own ci.yml has one) is no job of the pinned workflow.
    await expectDenied(h, "context_workflow_not_run");
  });

  it.each([
    [
      "a fork's pull_request run on its branch named main",
      { event: "pull_request", headRepository: { id: 666, fullName: "mallory/app" } },
    ],
    ["a push run on another branch at the same commit", { headBranch: "dev" }],
    ["a workflow_dispatch run (the rule pins push)", { event: "workflow_dispatch" }],
    ["a run of another workflow file", { path: ".github/workflows/dependency-review-copy.yml" }],
  ])("%s never counts", async (_label, over) => {
    const h = await createHarness();
    h.github.clearWorkflowRuns(repository, SAMPLE_SHA, SCAN_WORKFLOW);
    h.github.addWorkflowRun({
      repository,
      event: "push",
      headSha: SAMPLE_SHA,
      headBranch: "main",
      path: SCAN_WORKFLOW,
      jobs: [{ name: "dependency-review" }],
      ...over,
    });
    await expectDenied(h, "context_workflow_not_run");
  });

  it("a scan still running in its own workflow: context_check_pending, never cached; the same token passes once it completes", async () => {
    const h = await createHarness();
    const run = setScan(h, "pending");
    const token = await h.mint();
    await expectDenied(h, "context_check_pending", token);
    h.github.setJob(run, "dependency-review", "completed", "success");
    expect((await h.request(token)).status).toBe(200);
  });

  it("a run queued before its jobs exist is pending, not missing", async () => {
    const h = await createHarness();
    setScan(h, []);
    await expectDenied(h, "context_check_pending");
  });

  it("the newest run's latest attempt decides", async () => {
    const h = await createHarness(NO_FACT_CACHE);
    const run = setScan(h, "success");
    h.github.rerunWorkflowRun(run, [{ name: "dependency-review", conclusion: "failure" }]);
    const event = await expectDenied(h, "context_check_failed");
    expect(event.context_facts).toContain(`in run ${run} attempt 2`);
    h.github.rerunWorkflowRun(run, [{ name: "dependency-review" }]);
    expect((await h.request(await h.mint())).status).toBe(200);
    // A newer push run (a re-push of the same commit) decides over the older.
    h.github.addWorkflowRun({
      repository,
      event: "push",
      headSha: SAMPLE_SHA,
      headBranch: "main",
      path: SCAN_WORKFLOW,
      jobs: [{ name: "dependency-review", conclusion: "cancelled" }],
    });
    await expectDenied(h, "context_check_failed");
  });

  it("events the rule pins count: a newer workflow_dispatch run decides when the rule lists it", async () => {
    const h = await createHarness({
      ...NO_FACT_CACHE,
      policy: policyRequiring(
        { checks: [{ workflow: SCAN_WORKFLOW, job: "dependency-review", events: ["push", "workflow_dispatch"] }] },
        "push",
      ),
    });
    expect((await h.request(await h.mint())).status).toBe(200);
    h.github.addWorkflowRun({
      repository,
      event: "workflow_dispatch",
      headSha: SAMPLE_SHA,
      headBranch: "main",
      path: SCAN_WORKFLOW,
      jobs: [{ name: "dependency-review", conclusion: "failure" }],
    });
    await expectDenied(h, "context_check_failed", undefined, "app-requirements");
  });

  it("a pinned workflow vouches for branch commits only: a pull_request token has no pinned run", async () => {
    const h = await createHarness({
      policy: policyRequiring({ checks: [{ workflow: SCAN_WORKFLOW, job: "dependency-review" }] }),
    });
    const token = openPullRequest(h, [{ name: "dependency-review" }]);
    await expectDenied(h, "context_workflow_not_run", await token(), "app-requirements");
  });
});

describe("the in-run form: a job of the token's own run", () => {
  const inRun = (job = "dependency-review") => policyRequiring({ checks: [{ job }] }, "push");

  it("passes on the job of the token's run, never on a forged check run; the run must be the token's workflow", async () => {
    const h = await createHarness({ policy: inRun() });
    expect((await h.request(await h.mint())).status).toBe(200);
    const { event } = expectAudit(h, { outcome: "issued" });
    expect(event.context_facts).toContain(
      `job dependency-review=success in run ${EXAMPLE_FACTS.runId} attempt 1 (.github/workflows/ci.yml push main)`,
    );
    // The token says it ran another workflow than its run's: refused.
    await expectDenied(
      h,
      "context_workflow_not_run",
      await h.mint({ workflow_ref: "acme/app/.github/workflows/release.yml@refs/heads/main" }),
      "app-requirements",
    );
  });

  it("a failed job in the run: denied even with a forged passing check run", async () => {
    const h = await createHarness({ policy: inRun() });
    h.github.rerunWorkflowRun(EXAMPLE_FACTS.runId, [
      { name: "dependency-review", conclusion: "failure" },
      { name: "deploy", status: "in_progress" },
    ]);
    forgeCheckRun(h);
    await expectDenied(h, "context_check_failed", undefined, "app-requirements");
  });

  it("no such job in the run, a forged check run of the name: context_check_not_a_job", async () => {
    const h = await createHarness({ policy: inRun("lint") });
    await expectDenied(h, "context_check_missing", undefined, "app-requirements");
    h.github.addCheckRun({
      repository,
      sha: SAMPLE_SHA,
      name: "lint",
      app: GITHUB_ACTIONS_APP,
      status: "completed",
      conclusion: "success",
    });
    await expectDenied(h, "context_check_not_a_job", undefined, "app-requirements");
  });

  it("a fork pull request's own run (its head repository is the fork) vouches for nothing", async () => {
    const h = await createHarness({ policy: policyRequiring({ checks: [{ job: "dependency-review" }] }) });
    // The fork's branch is named main; its run lives in acme/app, its head repository is the fork.
    h.github.addWorkflowRun({
      repository,
      id: 22233344456,
      event: "pull_request",
      headSha: PR_HEAD,
      headBranch: "main",
      headRepository: { id: 666, fullName: "mallory/app" },
      jobs: [{ name: "dependency-review" }],
    });
    const forkToken = await h.mint({
      event_name: "pull_request",
      ref: "refs/pull/7/merge",
      sha: OTHER_SHA,
      run_id: "22233344456",
      workflow_ref: "acme/app/.github/workflows/ci.yml@refs/pull/7/merge",
    });
    const event = await expectDenied(h, "context_workflow_not_run", forkToken, "app-requirements");
    expect(event.context_facts).toContain("a fork's run");
  });

  it.each([
    [
      "every matrix leg passed",
      "scan",
      [{ name: "scan (ubuntu-latest, 20)" }, { name: "scan (windows-latest, 20)" }],
      200,
    ],
    [
      "one matrix leg failed",
      "scan",
      [{ name: "scan (ubuntu-latest, 20)" }, { name: "scan (windows-latest, 20)", conclusion: "failure" }],
      403,
    ],
    ["a reusable workflow's job, as caller / callee", "call-scan / scan", [{ name: "call-scan / scan" }], 200],
    ["the callee's bare name is not the reusable job", "scan", [{ name: "call-scan / scan" }], 403],
  ] as const)("job names as the jobs API shows them: %s", async (_label, job, jobs, status) => {
    const h = await createHarness({ policy: inRun(job) });
    h.github.rerunWorkflowRun(EXAMPLE_FACTS.runId, [...jobs, { name: "deploy", status: "in_progress" }]);
    expect((await h.request(await h.mint())).status).toBe(status);
  });
});

describe("third-party App check runs", () => {
  const sonar = policyRequiring({ checks: [{ name: "SonarCloud Code Analysis", app: "sonarcloud" }] }, "push");

  it("count only from the named App: a run of the same name as GitHub Actions or another App is context_check_wrong_app", async () => {
    const h = await createHarness({ policy: sonar });
    h.github.addCheckRun({
      repository,
      sha: SAMPLE_SHA,
      name: "SonarCloud Code Analysis",
      app: GITHUB_ACTIONS_APP,
      status: "completed",
      conclusion: "success",
    });
    await expectDenied(h, "context_check_wrong_app", undefined, "app-requirements");
    h.github.addCheckRun({
      repository,
      sha: SAMPLE_SHA,
      name: "SonarCloud Code Analysis",
      app: { slug: "sonarcloud", id: 57789 },
      status: "completed",
      conclusion: "success",
    });
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.github.calls.check_runs).toBe(2);
  });
});
