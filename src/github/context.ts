// The exchange's context stage (docs/github-facts.md): gathers the facts a rule's requirements need from the GitHub
// API and evaluates them with the pure functions of src/policy/requirements*.ts. A met requirement is remembered per
// (API, repository id, commit, ref or run, requirement) for GITHUB_FACT_CACHE_MS; unmet, pending or failed ones never
// are.
// A pull_request token is judged on its workflow run's head commit, not its sha (the test merge commit).
// Concurrent exchanges for one commit share each lookup (single flight): a matrix of 256 jobs costs a few calls.
import { GITHUB_BUDGET_MS, GITHUB_CACHE_MAX_ENTRIES, GITHUB_FACT_CACHE_MS } from "./constants.ts";
import type { Clock } from "../deps.ts";
import { startDeadline, type StartTimer } from "../http/deadline.ts";
import {
  jobCommitOfRun,
  judgedOnRunHead,
  type CompiledRequirements,
  type ContextReason,
  type JobCommitOutcome,
  type RequirementOutcome,
} from "../policy/requirements.ts";
import { workflowFileOfRef, type RunSubject } from "../policy/requirements-jobs.ts";
import { parseAnswer, repositoryPath, type CallContext, type GitHubClient, type RepositoryRef } from "./client.ts";
import { createJobFacts, RUN_ID, type RunLists } from "./facts-jobs.ts";
import { createReviewFacts, type ReviewSubject } from "./facts-reviews.ts";
import { createMemo } from "./memo.ts";
import { RepositorySchema } from "./schemas.ts";

/** What the token says about where it ran: the claims the requirements are checked against. */
export interface ContextSubject {
  /** REST API base of the token's issuer (ISSUERS `api_url`). */
  apiUrl: string;
  /** `owner/name` (claim `repository`). */
  repository: string;
  /** Claim `repository_id`: the API's id must equal it, and every installation token is scoped to it. */
  repositoryId: string;
  sha: string;
  ref: string;
  eventName: string;
  /** Claim `run_id`: the token's own workflow run (its jobs; a pull_request job's head commit). */
  runId: string;
  /** Claim `workflow_ref`: the workflow file the token's own run must be of. */
  workflowRef: string;
  /** Claim `base_ref`: a pull_request event's base branch (whose rulesets apply). */
  baseRef: string;
}

/** A repository id as GitHub assigns them: checked before it scopes a token. */
const REPOSITORY_ID = /^[1-9]\d{0,15}$/;

export type ContextVerdict = { met: true; facts: string[] } | { met: false; reason: ContextReason; facts: string[] };

export interface ContextReport {
  verdict: ContextVerdict;
  /** Lowest `x-ratelimit-remaining` seen by this exchange's calls (undefined when every fact came from the cache). */
  rateRemaining: number | undefined;
  calls: number;
}

export interface GitHubContext {
  /**
   * Evaluates every requirement (in order: repository, checks, pull request, rulesets); throws BrokerError on API
   * failure.
   */
  evaluate(subject: ContextSubject, requirements: CompiledRequirements): Promise<ContextReport>;
}

export interface GitHubContextOptions {
  client: GitHubClient;
  now: Clock;
  /** All API calls of one exchange together (default GITHUB_BUDGET_MS). */
  budgetMs?: number;
  /** How long a met requirement is reused (default GITHUB_FACT_CACHE_MS; 0 never reuses). */
  factCacheMs?: number;
  /** Starts the budget's timer; default the real timer. Injected so a test spends the budget without waiting. */
  startTimer?: StartTimer;
}

type JobFacts = ReturnType<typeof createJobFacts>;
type ReviewFacts = ReturnType<typeof createReviewFacts>;

/** Where the requirements are judged: the repository, the commit its jobs ran on, and the subjects of each kind. */
interface Judged {
  context: CallContext;
  repo: RepositoryRef;
  subject: ContextSubject;
  jobSha: string;
  /** The cache key's prefix of this repository (API, id, name). */
  base: string;
  runSubject: RunSubject;
  reviewSubject: ReviewSubject;
}

/** The requirement checks in order (checks, pull request, rulesets), each with its memo key. */
function requirementSteps(
  jobs: JobFacts,
  reviews: ReviewFacts,
  judged: Judged,
  requirements: CompiledRequirements,
): Array<[string, () => Promise<RequirementOutcome>]> {
  const { context, repo, subject, jobSha, base, runSubject, reviewSubject } = judged;
  const runLists: RunLists = new Map();
  const commit = `${base}|${jobSha}`;
  const steps: Array<[string, () => Promise<RequirementOutcome>]> = [];
  for (const check of requirements.checks) {
    if (check.kind === "app") steps.push([`${commit}|${check.key}`, () => jobs.appCheck(context, repo, jobSha, check)]);
    else if (check.workflow === undefined)
      steps.push([
        `${commit}|run ${subject.runId}|${subject.workflowRef}|${check.key}`,
        () => jobs.ownRunJob(context, repo, runSubject, subject.runId, check),
      ]);
    // The same commit can be on several branches: the branch is part of what was judged.
    else
      steps.push([
        `${commit}|${subject.ref}|${check.key}`,
        () => jobs.pinnedJob(context, repo, runSubject, check, runLists),
      ]);
  }
  const pr = requirements.pullRequest;
  if (pr !== undefined) {
    // The same commit can be judged differently per ref and event (merged into main vs an open pull request).
    steps.push([
      `${commit}|${subject.sha}|${subject.eventName}|${subject.ref}|${pr.key}`,
      () => reviews.judgePullRequest(context, repo, reviewSubject, jobSha, pr),
    ]);
  }
  const rulesets = requirements.rulesets;
  if (rulesets !== undefined)
    steps.push([
      `${base}|${subject.eventName}|${subject.ref}|${subject.baseRef}|${rulesets.key}`,
      () => reviews.judgeRulesets(context, repo, reviewSubject, rulesets),
    ]);
  return steps;
}

/**
 * The repository the token names, by the id the API answers for its name (after GitHub's 301 for a moved repository,
 * the moved one's): a renamed or recycled name must never lend another repository's facts to this token.
 */
async function checkRepository(
  client: GitHubClient,
  context: CallContext,
  repo: RepositoryRef,
  subject: ContextSubject,
): Promise<RequirementOutcome> {
  const answer = await client.get(context, repo, repositoryPath(repo));
  if (answer.status !== 200)
    return { met: false, reason: "context_repository_mismatch", fact: `repository ${subject.repository}: not found` };
  const id = String(parseAnswer(RepositorySchema, answer.body, "repository").id);
  if (id !== subject.repositoryId)
    return {
      met: false,
      reason: "context_repository_mismatch",
      fact: `repository id ${id} != claim ${subject.repositoryId}`,
    };
  return { met: true, fact: `repository id ${id}` };
}

/**
 * The head commit of the token's workflow run (judgedOnRunHead): what a pull_request job's checks and reviews are on.
 */
async function runHead(
  jobs: JobFacts,
  context: CallContext,
  repo: RepositoryRef,
  subject: ContextSubject,
): Promise<JobCommitOutcome> {
  if (!RUN_ID.test(subject.runId))
    return { met: false, reason: "context_commit_unknown", fact: "run: no run_id claim" };
  const run = await jobs.runById(context, repo, subject.runId);
  if (run === undefined)
    return { met: false, reason: "context_commit_unknown", fact: `run ${subject.runId}: not found` };
  return jobCommitOfRun(run, subject.eventName, repo.id);
}

export function createGitHubContext(options: GitHubContextOptions): GitHubContext {
  const { client, now } = options;
  const outcomes = createMemo<RequirementOutcome>(now, GITHUB_CACHE_MAX_ENTRIES);
  const factCacheMs = options.factCacheMs ?? GITHUB_FACT_CACHE_MS;
  const keepUntil = () => (factCacheMs > 0 ? now() + factCacheMs : undefined);
  const keepIfMet = (outcome: { met: boolean }) => (outcome.met ? keepUntil() : undefined);
  const jobs = createJobFacts({ client, now, keepUntil });
  const reviews = createReviewFacts({ client, now, keepUntil });

  async function evaluateWithin(
    context: CallContext,
    subject: ContextSubject,
    requirements: CompiledRequirements,
  ): Promise<ContextVerdict> {
    const [owner = "", name = ""] = subject.repository.split("/");
    const facts: string[] = [];
    const denied = (reason: ContextReason): ContextVerdict => ({ met: false, reason, facts });
    if (!REPOSITORY_ID.test(subject.repositoryId)) {
      facts.push(`repository id claim ${JSON.stringify(subject.repositoryId.slice(0, 20))}: not an id`);
      return denied("context_repository_mismatch");
    }
    const repo: RepositoryRef = { apiUrl: subject.apiUrl, owner, name, id: Number(subject.repositoryId) };
    const base = `${subject.apiUrl}|${subject.repositoryId}|${subject.repository.toLowerCase()}`;
    const repository = await outcomes.get(
      `${base}|repo`,
      () => checkRepository(client, context, repo, subject),
      keepIfMet,
    );
    facts.push(repository.fact);
    if (!repository.met) return denied(repository.reason);
    let jobSha = subject.sha;
    if (judgedOnRunHead(subject.eventName)) {
      const head = await runHead(jobs, context, repo, subject);
      facts.push(head.fact);
      if (!head.met) return denied(head.reason);
      jobSha = head.sha;
    }
    const runSubject: RunSubject = {
      repository: subject.repository,
      repositoryId: repo.id,
      sha: jobSha,
      ref: subject.ref,
      workflowFile: workflowFileOfRef(subject.workflowRef, subject.repository, subject.ref),
    };
    const reviewSubject: ReviewSubject = {
      repositoryId: repo.id,
      sha: subject.sha,
      ref: subject.ref,
      eventName: subject.eventName,
      baseRef: subject.baseRef,
    };
    const judged: Judged = { context, repo, subject, jobSha, base, runSubject, reviewSubject };
    for (const [key, step] of requirementSteps(jobs, reviews, judged, requirements)) {
      const outcome = await outcomes.get(key, step, keepIfMet);
      facts.push(outcome.fact);
      if (!outcome.met) return denied(outcome.reason);
    }
    return { met: true, facts };
  }

  return {
    async evaluate(subject, requirements) {
      // All calls of this exchange together: the budget's signal ends whatever call is running when it is spent.
      const budget = startDeadline(options.budgetMs ?? GITHUB_BUDGET_MS, { startTimer: options.startTimer });
      const context: CallContext = { signal: budget.signal, rateRemaining: undefined, calls: 0 };
      try {
        const verdict = await evaluateWithin(context, subject, requirements);
        return { verdict, rateRemaining: context.rateRemaining, calls: context.calls };
      } finally {
        budget.cancel();
      }
    },
  };
}
