// Jobs of workflow runs and third-party App check runs, read from the GitHub API for the context stage
// (docs/github-facts.md, "Jobs of workflow runs"). The judgement is pure (src/policy/requirements-jobs.ts); this file
// fetches: the token's own run, the runs of a pinned workflow on a commit, a run's jobs (its latest attempt), and
// check runs by name. Lookups are single flight; a run found by id is kept like a met fact (the fields judged never
// change); lists of runs and jobs never are (a newer run, a finished job must be seen).
import { GITHUB_CACHE_MAX_ENTRIES, GITHUB_PAGE_SIZE } from "./constants.ts";
import type { Clock } from "../deps.ts";
import {
  branchOfRef,
  evaluateCheck,
  type CheckRunFact,
  type CompiledAppCheck,
  type CompiledJobCheck,
  type RequirementOutcome,
  type WorkflowRunFact,
} from "../policy/requirements.ts";
import {
  evaluateJob,
  missingJob,
  ownRunHolds,
  pinnedRunFor,
  type JobFact,
  type RunSubject,
} from "../policy/requirements-jobs.ts";
import { parseAnswer, repositoryPath, type CallContext, type GitHubClient, type RepositoryRef } from "./client.ts";
import { createMemo, type Memo } from "./memo.ts";
import { CheckRunsSchema, JobListSchema, WorkflowRunListSchema, WorkflowRunSchema } from "./schemas.ts";

/** A workflow run id as GitHub assigns them (a positive integer): checked before it goes into a URL. */
export const RUN_ID = /^[1-9]\d{0,19}$/;

export interface FactDeps {
  client: GitHubClient;
  now: Clock;
  /** Until when a positive fact is kept (undefined: never). */
  keepUntil: () => number | undefined;
}

/** Runs of one commit fetched during one exchange, by URL: several pinned jobs of one rule share one list. */
export type RunLists = Map<string, Promise<WorkflowRunFact[] | undefined>>;

type RunJson = {
  id: number;
  path: string;
  event: string;
  status: string | null;
  conclusion: string | null;
  head_sha: string;
  head_branch: string | null;
  run_attempt?: number | undefined;
  repository: { id: number };
  head_repository: { id: number } | null;
};

export const toRun = (run: RunJson): WorkflowRunFact => ({
  id: run.id,
  path: run.path,
  event: run.event,
  headSha: run.head_sha,
  headBranch: run.head_branch,
  headRepositoryId: run.head_repository?.id ?? null,
  repositoryId: run.repository.id,
  status: run.status ?? "unknown",
  conclusion: run.conclusion,
  runAttempt: run.run_attempt ?? 1,
});

const toCheckRun = (run: {
  id: number;
  name: string;
  status: string;
  conclusion: string | null;
  app: { id: number; slug?: string | undefined } | null;
}): CheckRunFact[] =>
  run.app === null
    ? []
    : [
        {
          id: run.id,
          name: run.name,
          status: run.status,
          conclusion: run.conclusion,
          appId: run.app.id,
          appSlug: run.app.slug ?? "",
        },
      ];

const notRun = (fact: string): RequirementOutcome => ({ met: false, reason: "context_workflow_not_run", fact });

/** The job facts' deps and memos: runs found by id are kept like a met fact; lists of runs are single flight only. */
interface JobFactState extends FactDeps {
  runs: Memo<WorkflowRunFact | undefined>;
  lists: Memo<WorkflowRunFact[] | undefined>;
}

const never = () => undefined;

export function createJobFacts(deps: FactDeps) {
  const state: JobFactState = {
    ...deps,
    runs: createMemo<WorkflowRunFact | undefined>(deps.now, GITHUB_CACHE_MAX_ENTRIES),
    // Shared by concurrent exchanges only (single flight), never kept.
    lists: createMemo<WorkflowRunFact[] | undefined>(deps.now, GITHUB_CACHE_MAX_ENTRIES),
  };
  return {
    /** GET .../actions/runs/{run_id}; undefined when GitHub knows no such run in the repository. */
    runById: (context: CallContext, repo: RepositoryRef, runId: string) => runById(state, context, repo, runId),
    /** A job of the token's own run (`run_id`), which must be of the token's workflow, commit and repository. */
    ownRunJob: (
      context: CallContext,
      repo: RepositoryRef,
      subject: RunSubject,
      runId: string,
      check: CompiledJobCheck,
    ) => ownRunJob(state, context, repo, subject, runId, check),
    /**
     * A job of the pinned workflow's newest run on the commit and branch (server-side filtered by branch and event).
     */
    pinnedJob: (
      context: CallContext,
      repo: RepositoryRef,
      subject: RunSubject,
      check: CompiledJobCheck,
      shared: RunLists,
    ) => pinnedJob(state, context, repo, subject, check, shared),
    /** A third-party App's latest check run of the name on the commit. */
    appCheck: (context: CallContext, repo: RepositoryRef, sha: string, check: CompiledAppCheck) =>
      appCheck(state, context, repo, sha, check),
  };
}

function runById(
  state: JobFactState,
  context: CallContext,
  repo: RepositoryRef,
  runId: string,
): Promise<WorkflowRunFact | undefined> {
  return state.runs.get(
    `${repo.apiUrl}|${repo.id}|${runId}`,
    async () => {
      const answer = await state.client.get(context, repo, `${repositoryPath(repo)}/actions/runs/${runId}`);
      return answer.status === 200
        ? toRun(parseAnswer(WorkflowRunSchema, answer.body, "actions/runs/{run_id}"))
        : undefined;
    },
    (run) => (run === undefined ? undefined : state.keepUntil()),
  );
}

async function runList(
  state: JobFactState,
  context: CallContext,
  repo: RepositoryRef,
  path: string,
): Promise<WorkflowRunFact[] | undefined> {
  const answer = await state.client.getPages(
    context,
    repo,
    path,
    (body) => parseAnswer(WorkflowRunListSchema, body, "actions/runs").workflow_runs,
  );
  return answer.status === 200 ? (answer.items as RunJson[]).map(toRun) : undefined;
}

/** Check runs of that name on the commit (the latest per app), from any app. */
async function checkRunsNamed(
  state: JobFactState,
  context: CallContext,
  repo: RepositoryRef,
  sha: string,
  name: string,
): Promise<CheckRunFact[] | undefined> {
  const query = new URLSearchParams({ check_name: name, filter: "latest", per_page: String(GITHUB_PAGE_SIZE) });
  const answer = await state.client.getPages(
    context,
    repo,
    `${repositoryPath(repo)}/commits/${sha}/check-runs?${query}`,
    (body) => parseAnswer(CheckRunsSchema, body, "check-runs").check_runs,
  );
  return answer.status === 200 ? (answer.items as Parameters<typeof toCheckRun>[0][]).flatMap(toCheckRun) : undefined;
}

/** The named job in the run's latest attempt; when it has none, whether a check run pretends to be it. */
async function judgeJobIn(
  state: JobFactState,
  context: CallContext,
  repo: RepositoryRef,
  check: CompiledJobCheck,
  run: WorkflowRunFact,
): Promise<RequirementOutcome> {
  const path = `${repositoryPath(repo)}/actions/runs/${run.id}/jobs?filter=latest&per_page=${GITHUB_PAGE_SIZE}`;
  const answer = await state.client.getPages(
    context,
    repo,
    path,
    (body) => parseAnswer(JobListSchema, body, "actions/runs/{run_id}/jobs").jobs,
  );
  if (answer.status !== 200) return notRun(`run ${run.id}: jobs not found`);
  const jobs: JobFact[] = (
    answer.items as Array<{ id: number; run_id: number; name: string; status: string; conclusion: string | null }>
  ).map((job) => ({
    id: job.id,
    runId: job.run_id,
    name: job.name,
    status: job.status,
    conclusion: job.conclusion,
  }));
  const outcome = evaluateJob(check, run, jobs);
  if (outcome !== undefined) return outcome;
  return missingJob(check, run, (await checkRunsNamed(state, context, repo, run.headSha, check.job)) ?? []);
}

async function ownRunJob(
  state: JobFactState,
  context: CallContext,
  repo: RepositoryRef,
  subject: RunSubject,
  runId: string,
  check: CompiledJobCheck,
): Promise<RequirementOutcome> {
  if (!RUN_ID.test(runId)) return notRun("run: no run_id claim");
  const run = await runById(state, context, repo, runId);
  if (run === undefined) return notRun(`run ${runId}: not found`);
  const holds = ownRunHolds(run, subject);
  return holds.met ? judgeJobIn(state, context, repo, check, run) : holds;
}

async function pinnedJob(
  state: JobFactState,
  context: CallContext,
  repo: RepositoryRef,
  subject: RunSubject,
  check: CompiledJobCheck,
  shared: RunLists,
): Promise<RequirementOutcome> {
  const branch = branchOfRef(subject.ref);
  let runsOfCommit: WorkflowRunFact[] | undefined = [];
  if (branch !== undefined) {
    const query = new URLSearchParams({
      head_sha: subject.sha,
      branch,
      ...(check.events.length === 1 ? { event: check.events[0] as string } : {}),
      exclude_pull_requests: "true",
      per_page: String(GITHUB_PAGE_SIZE),
    });
    const path = `${repositoryPath(repo)}/actions/runs?${query}`;
    let list = shared.get(path);
    if (list === undefined) {
      list = state.lists.get(`${repo.apiUrl}|${repo.id}|${path}`, () => runList(state, context, repo, path), never);
      shared.set(path, list);
    }
    runsOfCommit = await list;
    if (runsOfCommit === undefined) return notRun(`workflow runs at ${subject.sha.slice(0, 12)}: not found`);
  }
  const found = pinnedRunFor(check, runsOfCommit, subject);
  return "met" in found ? found : judgeJobIn(state, context, repo, check, found.run);
}

async function appCheck(
  state: JobFactState,
  context: CallContext,
  repo: RepositoryRef,
  sha: string,
  check: CompiledAppCheck,
): Promise<RequirementOutcome> {
  const checkRuns = await checkRunsNamed(state, context, repo, sha, check.name);
  if (checkRuns === undefined)
    return { met: false, reason: "context_commit_unknown", fact: `commit ${sha}: not found` };
  return evaluateCheck(check, checkRuns);
}

export type JobFacts = ReturnType<typeof createJobFacts>;
