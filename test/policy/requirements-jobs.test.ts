// Jobs of workflow runs, judged purely: which run a job requirement is judged in, how its job's display name is
// matched, and what a check run that is no job of the run proves (nothing).
import { describe, expect, it } from "vitest";
import type { CheckRunFact, CompiledJobCheck, WorkflowRunFact } from "../../src/policy/requirements.ts";
import {
  evaluateJob,
  jobNameMatches,
  missingJob,
  ownRunHolds,
  pathNamesWorkflow,
  pinnedRunFor,
  workflowFileOfRef,
  type JobFact,
  type RunSubject,
} from "../../src/policy/requirements-jobs.ts";

const SHA = "a".repeat(40);
const SCAN = ".github/workflows/scan.yml";
const subject: RunSubject = {
  repository: "acme/app",
  repositoryId: 10,
  sha: SHA,
  ref: "refs/heads/main",
  workflowFile: ".github/workflows/ci.yml",
};
const pinned: CompiledJobCheck = {
  kind: "job",
  job: "scan",
  workflow: SCAN,
  events: ["push"],
  conclusions: ["success"],
  key: "k",
};
const own: CompiledJobCheck = { ...pinned, workflow: undefined, events: [] };
const run = (id: number, over: Partial<WorkflowRunFact> = {}): WorkflowRunFact => ({
  id,
  path: SCAN,
  event: "push",
  headSha: SHA,
  headBranch: "main",
  headRepositoryId: 10,
  repositoryId: 10,
  status: "completed",
  conclusion: "success",
  runAttempt: 1,
  ...over,
});
const job = (name: string, over: Partial<JobFact> = {}): JobFact => ({
  id: 1,
  runId: 1,
  name,
  status: "completed",
  conclusion: "success",
  ...over,
});

describe("workflow files", () => {
  it("reads the token's workflow file from workflow_ref, for its own repository and ref only", () => {
    expect(workflowFileOfRef("acme/app/.github/workflows/ci.yml@refs/heads/main", "acme/app", "refs/heads/main")).toBe(
      ".github/workflows/ci.yml",
    );
    expect(
      workflowFileOfRef("acme/app/.github/workflows/ci.yml@refs/pull/7/merge", "acme/app", "refs/pull/7/merge"),
    ).toBe(".github/workflows/ci.yml");
    expect(
      workflowFileOfRef("evil/x/.github/workflows/ci.yml@refs/heads/main", "acme/app", "refs/heads/main"),
    ).toBeUndefined();
    expect(
      workflowFileOfRef("acme/app/.github/workflows/ci.yml@refs/heads/dev", "acme/app", "refs/heads/main"),
    ).toBeUndefined();
    expect(workflowFileOfRef("acme/app/@refs/heads/main", "acme/app", "refs/heads/main")).toBeUndefined();
  });

  it.each([
    [SCAN, true],
    [`${SCAN}@main`, true],
    [`${SCAN}@refs/heads/main`, true],
    [`acme/app/${SCAN}@main`, true],
    [`ACME/App/${SCAN}@main`, true],
    [`${SCAN}@dev`, false],
    [`other/repo/${SCAN}@main`, false],
    [".github/workflows/scan.yml@x.yml", false],
    [".github/workflows/scan.yaml", false],
    ["dynamic/dependabot/dependabot-updates", false],
  ])("a run's path %s names %s: %s", (path, names) => {
    expect(pathNamesWorkflow(path, SCAN, "acme/app", ["main", "refs/heads/main"])).toBe(names);
  });

  it.each([
    ["scan", true],
    ["scan (ubuntu-latest, 20)", true],
    ["scan-extra", false],
    ["scan (", false],
    ["call / scan", false],
    ["Scan", false],
  ])("job display name %s matches `scan`: %s", (name, matches) => {
    expect(jobNameMatches("scan", name)).toBe(matches);
  });

  it("a reusable workflow's job is written as GitHub shows it: caller / callee", () => {
    expect(jobNameMatches("call-scan / scan", "call-scan / scan")).toBe(true);
    expect(jobNameMatches("call-scan / scan", "call-scan / scan (linux)")).toBe(true);
  });
});

describe("the run a pinned job is judged in", () => {
  it("is the newest run of the workflow on the commit, from a listed event, on the token's branch, of the token's repository", () => {
    expect(pinnedRunFor(pinned, [run(1), run(3), run(2)], subject)).toEqual({ run: run(3) });
  });

  it.each([
    ["another workflow", run(1, { path: ".github/workflows/other.yml" })],
    ["another commit", run(1, { headSha: "b".repeat(40) })],
    ["a pull_request run", run(1, { event: "pull_request" })],
    ["a workflow_dispatch run (not listed)", run(1, { event: "workflow_dispatch" })],
    ["another branch", run(1, { headBranch: "dev" })],
    ["a fork's run on its own branch named main", run(1, { headRepositoryId: 666 })],
    ["a deleted fork's run", run(1, { headRepositoryId: null })],
  ])("never %s", (_label, candidate) => {
    expect(pinnedRunFor(pinned, [candidate], subject)).toMatchObject({
      met: false,
      reason: "context_workflow_not_run",
    });
  });

  it("events the rule lists count; the fact says what was ignored", () => {
    expect(
      pinnedRunFor(
        { ...pinned, events: ["push", "workflow_dispatch"] },
        [run(4, { event: "workflow_dispatch" })],
        subject,
      ),
    ).toEqual({ run: run(4, { event: "workflow_dispatch" }) });
    const outcome = pinnedRunFor(pinned, [run(1, { headRepositoryId: 666 })], subject);
    expect("fact" in outcome && outcome.fact).toContain(
      "1 run(s) of it from another event, branch or repository ignored",
    );
  });

  it("a token whose ref is no branch has no pinned run", () => {
    expect(pinnedRunFor(pinned, [run(1)], { ...subject, ref: "refs/pull/7/merge" })).toMatchObject({
      met: false,
      reason: "context_workflow_not_run",
    });
    expect(pinnedRunFor(pinned, [run(1)], { ...subject, ref: "refs/tags/v1" })).toMatchObject({
      met: false,
      reason: "context_workflow_not_run",
    });
  });
});

describe("the token's own run", () => {
  const mine = run(7, { path: ".github/workflows/ci.yml", status: "in_progress", conclusion: null });

  it("must be of the token's workflow file, commit and repository", () => {
    expect(ownRunHolds(mine, subject).met).toBe(true);
    expect(ownRunHolds({ ...mine, path: SCAN }, subject)).toMatchObject({
      met: false,
      reason: "context_workflow_not_run",
    });
    expect(ownRunHolds({ ...mine, headRepositoryId: 666 }, subject)).toMatchObject({
      met: false,
      reason: "context_workflow_not_run",
    });
    expect(ownRunHolds({ ...mine, headSha: "b".repeat(40) }, subject)).toMatchObject({
      met: false,
      reason: "context_workflow_not_run",
    });
    expect(ownRunHolds(mine, { ...subject, workflowFile: undefined })).toMatchObject({
      met: false,
      reason: "context_workflow_not_run",
    });
  });
});

describe("the job", () => {
  it.each([
    ["passed", [job("scan")], true, undefined],
    ["failed", [job("scan", { conclusion: "failure" })], false, "context_check_failed"],
    ["skipped (not allowed by default)", [job("scan", { conclusion: "skipped" })], false, "context_check_failed"],
    ["running", [job("scan", { status: "in_progress", conclusion: null })], false, "context_check_pending"],
    ["every matrix leg passed", [job("scan (linux)"), job("scan (windows)")], true, undefined],
    [
      "one matrix leg failed",
      [job("scan (linux)"), job("scan (windows)", { conclusion: "failure" })],
      false,
      "context_check_failed",
    ],
    [
      "one matrix leg still running",
      [job("scan (linux)"), job("scan (windows)", { status: "queued", conclusion: null })],
      false,
      "context_check_pending",
    ],
    ["a job of another run", [job("scan", { runId: 2 })], undefined, undefined],
    ["no such job", [job("build")], undefined, undefined],
  ])("%s", (_label, jobs, met, reason) => {
    const outcome = evaluateJob(own, run(1), jobs);
    if (met === undefined) expect(outcome).toBeUndefined();
    else expect(outcome).toMatchObject(met ? { met: true } : { met: false, reason });
  });

  it("a pinned run still in progress without the job yet is pending, not missing; the own run without it is missing", () => {
    expect(evaluateJob(pinned, run(1, { status: "in_progress" }), [])).toMatchObject({
      met: false,
      reason: "context_check_pending",
    });
    expect(evaluateJob(own, run(1, { status: "in_progress" }), [])).toBeUndefined();
  });

  it("a check run of the job's name is no job of the run: context_check_not_a_job, whatever its app and conclusion", () => {
    const forged: CheckRunFact = {
      id: 99,
      name: "scan",
      appSlug: "github-actions",
      appId: 15368,
      status: "completed",
      conclusion: "success",
    };
    expect(missingJob(pinned, run(1), [forged])).toMatchObject({ met: false, reason: "context_check_not_a_job" });
    expect(missingJob(pinned, run(1), [])).toMatchObject({ met: false, reason: "context_check_missing" });
  });
});
