// GitHub Actions as the fake GitHub API serves it (docs.github.com REST "Workflow runs", "Workflow jobs", "Check
// runs", "Check suites"): a workflow run is one check suite of the GitHub Actions App (id 15368); every job of a run
// is also a check run of that App in the run's suite (same id, same name, status and conclusion); a re-run is a new
// attempt of the same run whose jobs replace the old ones in `filter=latest`. A check run created through the API with
// a workflow's GITHUB_TOKEN is filed in an existing Actions suite of the commit, as GitHub does, but is no job.
// A fork pull request's run lives in the base repository with the fork as `head_repository`. Platform-neutral.

export interface FakeApp {
  slug: string;
  id: number;
}

/** The GitHub Actions App as check runs name it. */
export const GITHUB_ACTIONS_APP: FakeApp = { slug: "github-actions", id: 15368 };

export type RunStatus = "queued" | "in_progress" | "completed";

export interface FakeJob {
  id: number;
  name: string;
  status: RunStatus;
  conclusion: string | null;
  runAttempt: number;
}

export interface FakeWorkflowRun {
  repository: string;
  id: number;
  event: string;
  headSha: string;
  headBranch: string;
  /** The workflow file, as `path` reports it: `.github/workflows/ci.yml`. */
  path: string;
  /** A fork's run: the fork (id, owner/name); undefined: the repository itself. */
  headRepository: { id: number; fullName: string } | undefined;
  runAttempt: number;
  checkSuiteId: number;
  /** Jobs of every attempt. */
  jobs: FakeJob[];
}

/** A check run created through the Checks API (jobs' check runs are derived from the jobs). */
export interface FakeCheckRun {
  id: number;
  repository: string;
  sha: string;
  name: string;
  app: FakeApp;
  status: RunStatus;
  conclusion: string | null;
  checkSuiteId: number;
}

export interface JobInput {
  name: string;
  status?: RunStatus;
  conclusion?: string | null;
}

export interface WorkflowRunInput {
  repository: string;
  /** Default: the next id. */
  id?: number;
  event: string;
  headSha: string;
  /** Default "main". */
  headBranch?: string;
  /** Default `.github/workflows/ci.yml`. */
  path?: string;
  headRepository?: { id: number; fullName: string };
  /** Completed with `success` unless given. */
  jobs?: readonly JobInput[];
}

/** A run's status and conclusion from its latest attempt's jobs (no job yet: queued). */
export function runState(run: FakeWorkflowRun): { status: RunStatus; conclusion: string | null } {
  const jobs = latestJobs(run);
  if (jobs.length === 0) return { status: "queued", conclusion: null };
  if (jobs.some((job) => job.status !== "completed")) return { status: "in_progress", conclusion: null };
  const failed = jobs.find(
    (job) => job.conclusion !== "success" && job.conclusion !== "skipped" && job.conclusion !== "neutral",
  );
  return { status: "completed", conclusion: failed?.conclusion ?? "success" };
}

export function latestJobs(run: FakeWorkflowRun): FakeJob[] {
  return run.jobs.filter((job) => job.runAttempt === run.runAttempt);
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** GET .../actions/runs/{run_id} and each item of GET .../actions/runs (the fields GitHub documents, abridged). */
export function workflowRunJson(
  run: FakeWorkflowRun,
  repository: { id: number; fullName: string },
  apiBase: string,
  now: number,
) {
  const { status, conclusion } = runState(run);
  const repo = (r: { id: number; fullName: string }) => ({
    id: r.id,
    name: r.fullName.split("/")[1],
    full_name: r.fullName,
    private: true,
    owner: { login: r.fullName.split("/")[0], type: "Organization" },
  });
  const url = `${apiBase}/repos/${repository.fullName}/actions/runs/${run.id}`;
  return {
    id: run.id,
    name: run.path.replace(/^.*\//, "").replace(/\.ya?ml$/, ""),
    node_id: `WFR_${run.id}`,
    head_branch: run.headBranch,
    head_sha: run.headSha,
    path: run.path,
    display_title: `run ${run.id}`,
    run_number: run.id % 1000,
    event: run.event,
    status,
    conclusion,
    workflow_id: run.path.length,
    check_suite_id: run.checkSuiteId,
    url,
    html_url: `https://github.com/${repository.fullName}/actions/runs/${run.id}`,
    jobs_url: `${url}/jobs`,
    pull_requests: [],
    created_at: iso(now),
    updated_at: iso(now),
    run_attempt: run.runAttempt,
    run_started_at: iso(now),
    repository: repo(repository),
    head_repository: repo(run.headRepository ?? repository),
  };
}

/** One item of GET .../actions/runs/{run_id}/jobs. */
export function jobJson(job: FakeJob, run: FakeWorkflowRun, repository: string, apiBase: string, now: number) {
  return {
    id: job.id,
    run_id: run.id,
    run_url: `${apiBase}/repos/${repository}/actions/runs/${run.id}`,
    run_attempt: job.runAttempt,
    node_id: `CR_${job.id}`,
    head_sha: run.headSha,
    head_branch: run.headBranch,
    url: `${apiBase}/repos/${repository}/actions/jobs/${job.id}`,
    html_url: `https://github.com/${repository}/actions/runs/${run.id}/job/${job.id}`,
    status: job.status,
    conclusion: job.conclusion,
    created_at: iso(now),
    started_at: iso(now),
    completed_at: job.status === "completed" ? iso(now) : null,
    name: job.name,
    steps: [],
    check_run_url: `${apiBase}/repos/${repository}/check-runs/${job.id}`,
    labels: ["ubuntu-latest"],
    runner_id: 1,
    runner_name: "GitHub Actions 1",
    workflow_name: run.path.replace(/^.*\//, "").replace(/\.ya?ml$/, ""),
  };
}

/** Check runs of a commit as the Checks API lists them: API-created ones, and one per job of every run on it. */
export function checkRunsOf(
  repository: string,
  sha: string,
  runs: readonly FakeWorkflowRun[],
  created: readonly FakeCheckRun[],
): FakeCheckRun[] {
  const same = (name: string) => name.toLowerCase() === repository.toLowerCase();
  const fromJobs = runs
    .filter((run) => same(run.repository) && run.headSha === sha)
    .flatMap((run) =>
      run.jobs.map(
        (job): FakeCheckRun => ({
          id: job.id,
          repository,
          sha,
          name: job.name,
          app: GITHUB_ACTIONS_APP,
          status: job.status,
          conclusion: job.conclusion,
          checkSuiteId: run.checkSuiteId,
        }),
      ),
    );
  return [...fromJobs, ...created.filter((run) => same(run.repository) && run.sha === sha)].sort((a, b) => a.id - b.id);
}

/** One item of GET .../commits/{ref}/check-runs. */
export function checkRunJson(run: FakeCheckRun) {
  return {
    id: run.id,
    name: run.name,
    head_sha: run.sha,
    status: run.status,
    conclusion: run.conclusion,
    check_suite: { id: run.checkSuiteId },
    app: {
      id: run.app.id,
      slug: run.app.slug,
      name: run.app.slug === GITHUB_ACTIONS_APP.slug ? "GitHub Actions" : run.app.slug,
    },
  };
}
