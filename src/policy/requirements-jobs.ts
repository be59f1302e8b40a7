// Jobs of GitHub Actions workflow runs (docs/github-facts.md, "Jobs of workflow runs"): which run a job requirement is
// judged in, and how its named job is judged there. Only jobs of runs count: a check run proves nothing, because any
// workflow's GITHUB_TOKEN with `checks: write` can create one with any name, and GitHub files it in an Actions suite.
// Pure; no I/O; no clock.
import type { CheckRunFact, CompiledJobCheck, RequirementOutcome, WorkflowRunFact } from "./requirements.ts";

/**
 * A workflow file a requirement may pin: directly in `.github/workflows/` (GitHub runs no other), `.yml` or `.yaml`.
 */
export const WORKFLOW_FILE_PATTERN = /^\.github\/workflows\/[A-Za-z0-9_.-]+\.ya?ml$/;

/** One job of a run as GET .../actions/runs/{run_id}/jobs lists it (only the fields used). */
export interface JobFact {
  id: number;
  runId: number;
  name: string;
  status: string;
  conclusion: string | null;
}

/** Where the token ran, as far as the run of a job requirement must agree with it. */
export interface RunSubject {
  /** `owner/name` (claim `repository`). */
  repository: string;
  repositoryId: number;
  /** The commit the job runs (the run head on pull_request, else the token's `sha`). */
  sha: string;
  /** The token's `ref`. */
  ref: string;
  /** The workflow file of the token's `workflow_ref` (undefined when it names none of the repository's). */
  workflowFile: string | undefined;
}

/**
 * `owner/repo/.github/workflows/ci.yml@refs/heads/main` -> `.github/workflows/ci.yml`, for the token's repository and
 * ref.
 */
export function workflowFileOfRef(workflowRef: string, repository: string, ref: string): string | undefined {
  const prefix = `${repository}/`;
  const suffix = `@${ref}`;
  if (
    !workflowRef.startsWith(prefix) ||
    !workflowRef.endsWith(suffix) ||
    workflowRef.length <= prefix.length + suffix.length
  )
    return undefined;
  return workflowRef.slice(prefix.length, -suffix.length);
}

/**
 * Whether a run's `path` names `file`. GitHub reports `.github/workflows/ci.yml`, and has documented
 * `owner/repo/.github/workflows/ci.yml@main`; only those shapes, with the given refs after `@`, are accepted, so a
 * file named `ci.yml@x.yml` is never taken for `ci.yml`.
 */
export function pathNamesWorkflow(path: string, file: string, repository: string, refs: readonly string[]): boolean {
  if (path === file) return true;
  const forms = [file, `${repository}/${file}`];
  return refs.some((ref) =>
    forms.some((form) => path === `${form}@${ref}` || path.toLowerCase() === `${form}@${ref}`.toLowerCase()),
  );
}

/** A job's display name matches the requirement's `job`: exactly, or as one leg of its matrix (`job (a, b)`). */
export function jobNameMatches(job: string, name: string): boolean {
  return name === job || (name.startsWith(`${job} (`) && name.endsWith(")"));
}

const short = (sha: string) => sha.slice(0, 12);
const notRun = (fact: string): RequirementOutcome => ({ met: false, reason: "context_workflow_not_run", fact });

/** How a run is named in facts: `run 42 attempt 2 (.github/workflows/x.yml push main)`. */
export function describeRun(run: WorkflowRunFact): string {
  return `run ${run.id} attempt ${run.runAttempt} (${run.path} ${run.event} ${run.headBranch ?? "-"})`;
}

/**
 * The run a pinned job requirement is judged in: a run of `check.workflow` on the token's commit, started by one of
 * `check.events` on the token's branch, from the token's repository (a fork's pull_request run can be on a branch
 * named "main" too). Of several (re-runs are one run; dispatches and pushes are several), the newest decides.
 */
export function pinnedRunFor(
  check: CompiledJobCheck,
  runs: readonly WorkflowRunFact[],
  subject: RunSubject,
): { run: WorkflowRunFact } | RequirementOutcome {
  const file = check.workflow as string;
  const branch = subject.ref.startsWith("refs/heads/") ? subject.ref.slice("refs/heads/".length) : undefined;
  if (branch === undefined)
    return notRun(
      `workflow ${file}: the token's ref ${subject.ref} is not a branch (a pinned workflow vouches for branch commits)`,
    );
  const ofFile = runs.filter((run) =>
    pathNamesWorkflow(run.path, file, subject.repository, [branch, `refs/heads/${branch}`]),
  );
  const candidates = ofFile.filter(
    (run) =>
      run.headSha === subject.sha &&
      (check.events as readonly string[]).includes(run.event) &&
      run.headBranch === branch &&
      run.headRepositoryId === subject.repositoryId &&
      run.repositoryId === subject.repositoryId,
  );
  if (candidates.length === 0) {
    const ignored =
      ofFile.length === 0 ? "" : ` (${ofFile.length} run(s) of it from another event, branch or repository ignored)`;
    return notRun(`workflow ${file}: no ${check.events.join("/")} run on ${branch} at ${short(subject.sha)}${ignored}`);
  }
  return { run: candidates.reduce((a, b) => (b.id > a.id ? b : a)) };
}

/** The token's own run (`run_id`) must be of the token's workflow file, on its commit, from its repository. */
export function ownRunHolds(run: WorkflowRunFact, subject: RunSubject): RequirementOutcome {
  const file = subject.workflowFile;
  if (file === undefined)
    return notRun(`run ${run.id}: the token's workflow_ref names no workflow of ${subject.repository}`);
  const branch = subject.ref.startsWith("refs/heads/") ? [subject.ref.slice("refs/heads/".length)] : [];
  if (!pathNamesWorkflow(run.path, file, subject.repository, [subject.ref, ...branch]))
    return notRun(`run ${run.id}: workflow ${run.path}, the token's is ${file}`);
  if (run.headRepositoryId !== subject.repositoryId || run.repositoryId !== subject.repositoryId) {
    return notRun(
      `run ${run.id}: head repository ${run.headRepositoryId ?? "none"} is not ${subject.repositoryId} (a fork's run)`,
    );
  }
  if (run.headSha !== subject.sha)
    return notRun(`run ${run.id}: head ${short(run.headSha)}, the token's ${short(subject.sha)}`);
  return { met: true, fact: describeRun(run) };
}

/**
 * The named job in the run's jobs (its latest attempt): every matching job (every matrix leg) completed with an
 * allowed conclusion. Undefined when the run has no such job (the caller tells a forged check run from none). A
 * pinned run still in progress may not have created the job yet: pending, not missing.
 */
export function evaluateJob(
  check: CompiledJobCheck,
  run: WorkflowRunFact,
  jobs: readonly JobFact[],
): RequirementOutcome | undefined {
  const where = `in ${describeRun(run)}`;
  const named = jobs.filter((job) => job.runId === run.id && jobNameMatches(check.job, job.name));
  if (named.length === 0) {
    if (check.workflow !== undefined && run.status !== "completed")
      return {
        met: false,
        reason: "context_check_pending",
        fact: `job ${check.job}: not started ${where}, run ${run.status}`,
      };
    return undefined;
  }
  const open = named.find((job) => job.status !== "completed");
  if (open !== undefined)
    return { met: false, reason: "context_check_pending", fact: `job ${open.name}=${open.status} ${where}` };
  const failed = named.find((job) => !(check.conclusions as readonly string[]).includes(job.conclusion ?? "none"));
  if (failed !== undefined)
    return {
      met: false,
      reason: "context_check_failed",
      fact: `job ${failed.name}=${failed.conclusion ?? "none"} ${where}`,
    };
  const results = [...new Set(named.map((job) => job.conclusion))].join("|");
  return {
    met: true,
    fact: `job ${check.job}=${results}${named.length > 1 ? ` (${named.length} jobs)` : ""} ${where}`,
  };
}

/**
 * The run has no job of that name. A check run of the name on the commit (any app, GitHub Actions included) is then
 * no job of the run: `context_check_not_a_job`, so the audit shows the attempt; else the job is missing.
 */
export function missingJob(
  check: CompiledJobCheck,
  run: WorkflowRunFact,
  checkRuns: readonly CheckRunFact[],
): RequirementOutcome {
  const where = `in ${describeRun(run)}`;
  const impostor = checkRuns.filter((candidate) => jobNameMatches(check.job, candidate.name)).at(-1);
  if (impostor === undefined)
    return { met: false, reason: "context_check_missing", fact: `job ${check.job}: none ${where}` };
  return {
    met: false,
    reason: "context_check_not_a_job",
    fact: `job ${check.job}: none ${where}; check run ${impostor.id} ${impostor.name} by app ${impostor.appSlug}(${impostor.appId}) is no job of it`,
  };
}
