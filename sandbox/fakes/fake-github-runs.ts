// Workflow runs, their jobs and check runs of the fake GitHub API (fake-github-api.ts), as a test records them: ids
// that
// grow as GitHub assigns them, re-runs as new attempts, and check runs created through the API filed in the commit's
// newest Actions suite. Platform-neutral (workerd and Node).
import {
  GITHUB_ACTIONS_APP,
  type FakeCheckRun,
  type FakeWorkflowRun,
  type JobInput,
  latestJobs,
} from "./fake-github-actions.ts";
import { key, runsOf, type FakeState } from "./fake-github-routes.ts";
import type { FakeGitHub } from "./fake-github-types.ts";

type RunRecords = Pick<
  FakeGitHub,
  "addWorkflowRun" | "rerunWorkflowRun" | "setJob" | "addCheckRun" | "clearCheckRuns" | "clearWorkflowRuns"
>;

export function createRunRecords(state: FakeState): RunRecords {
  const { runs, createdCheckRuns } = state;
  let nextId = 1000;
  const repo = (fullName: string) => state.repositories.get(key(fullName));
  const makeJobs = (inputs: readonly JobInput[], runAttempt: number) =>
    inputs.map((job) => ({
      id: nextId++,
      name: job.name,
      status: job.status ?? "completed",
      conclusion:
        job.conclusion === undefined
          ? (job.status ?? "completed") === "completed"
            ? "success"
            : null
          : job.conclusion,
      runAttempt,
    }));

  return {
    addWorkflowRun(input) {
      // Ids grow as GitHub assigns them: a run added later is newer, whatever ids were given before.
      const id = input.id ?? nextId++;
      nextId = Math.max(nextId, id + 1);
      runs.push({
        repository: input.repository,
        id,
        event: input.event,
        headSha: input.headSha,
        headBranch: input.headBranch ?? "main",
        path: input.path ?? ".github/workflows/ci.yml",
        headRepository: input.headRepository,
        runAttempt: 1,
        checkSuiteId: nextId++,
        jobs: makeJobs(input.jobs ?? [], 1),
      });
      repo(input.repository)?.commits.add(input.headSha);
      return id;
    },
    rerunWorkflowRun(runId, jobs) {
      const run = runs.find((candidate) => candidate.id === runId);
      if (run === undefined) throw new Error(`no run ${runId}`);
      const again =
        jobs ?? latestJobs(run).map((job) => ({ name: job.name, status: "queued" as const, conclusion: null }));
      run.runAttempt += 1;
      run.jobs.push(...makeJobs(again, run.runAttempt));
    },
    setJob(runId, name, status, conclusion = null) {
      const run = runs.find((candidate) => candidate.id === runId);
      const job = run === undefined ? undefined : latestJobs(run).find((candidate) => candidate.name === name);
      if (job === undefined) throw new Error(`no job ${name} in run ${runId}`);
      job.status = status;
      job.conclusion = status === "completed" ? conclusion : null;
    },
    addCheckRun(input) {
      const id = nextId++;
      // GitHub files a check run created with a workflow's GITHUB_TOKEN in an Actions suite of the commit.
      const suite =
        input.app.id === GITHUB_ACTIONS_APP.id
          ? runsOf(state, input.repository)
              .filter((run) => run.headSha === input.sha)
              .at(-1)?.checkSuiteId
          : undefined;
      createdCheckRuns.push({ ...input, id, checkSuiteId: suite ?? nextId++ });
      repo(input.repository)?.commits.add(input.sha);
      return id;
    },
    clearCheckRuns(repository, sha, name) {
      const here = (candidate: { repository: string }) => key(candidate.repository) === key(repository);
      for (let i = createdCheckRuns.length - 1; i >= 0; i--) {
        const run = createdCheckRuns[i] as FakeCheckRun;
        if (here(run) && run.sha === sha && (name === undefined || run.name === name)) createdCheckRuns.splice(i, 1);
      }
    },
    clearWorkflowRuns(repository, sha, path) {
      for (let i = runs.length - 1; i >= 0; i--) {
        const run = runs[i] as FakeWorkflowRun;
        if (key(run.repository) === key(repository) && run.headSha === sha && (path === undefined || run.path === path))
          runs.splice(i, 1);
      }
    },
  };
}
