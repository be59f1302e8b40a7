// The exchange's context stage (docs/github-facts.md): gathers the facts a rule's requirements need from the GitHub
// API and evaluates them with the pure functions of src/policy/requirements.ts. A met requirement is remembered per
// (API, repository id, sha, ref kind, requirement) for GITHUB_FACT_CACHE_MS; unmet, pending or failed ones never are.
// A pull_request token is judged on its workflow run's head commit, not its sha (the test merge commit).
// Concurrent exchanges for one commit share each lookup (single flight): a matrix of 256 jobs costs a few calls.
import { GITHUB_BUDGET_MS, GITHUB_CACHE_MAX_ENTRIES, GITHUB_FACT_CACHE_MS, GITHUB_PAGE_SIZE } from "../constants.ts";
import type { Clock } from "../deps.ts";
import {
  evaluateApprovals,
  evaluateCheck,
  jobCommitOfRun,
  judgedOnRunHead,
  mergedPullRequestFor,
  pullRequestTarget,
  type CheckRunFact,
  type CompiledCheck,
  type CompiledPullRequest,
  type CompiledRequirements,
  type ContextReason,
  type JobCommitOutcome,
  type PullRequestFact,
  type RequirementOutcome,
  type ReviewFact,
} from "../policy/requirements.ts";
import { parseAnswer, type CallContext, type GitHubClient, type RepositoryRef } from "./client.ts";
import { createMemo } from "./memo.ts";
import { CheckRunsSchema, PullRequestListSchema, PullRequestSchema, RepositorySchema, ReviewListSchema, WorkflowRunSchema } from "./schemas.ts";

/** What the token says about where it ran: the claims the requirements are checked against. */
export interface ContextSubject {
  /** REST API base of the token's issuer (ISSUERS `api_url`). */
  apiUrl: string;
  /** `owner/name` (claim `repository`). */
  repository: string;
  /** Claim `repository_id`: the API's id must equal it. */
  repositoryId: string;
  sha: string;
  ref: string;
  eventName: string;
  /** Claim `run_id`: the workflow run whose head a pull_request job runs. */
  runId: string;
}

/** A workflow run id as GitHub assigns them (a positive integer): checked before it goes into a URL. */
const RUN_ID = /^[1-9]\d{0,19}$/;

export type ContextVerdict = { met: true; facts: string[] } | { met: false; reason: ContextReason; facts: string[] };

export interface ContextReport {
  verdict: ContextVerdict;
  /** Lowest `x-ratelimit-remaining` seen by this exchange's calls (undefined when every fact came from the cache). */
  rateRemaining: number | undefined;
  calls: number;
}

export interface GitHubContext {
  /** Evaluates every requirement (in order: repository, checks, pull request); throws BrokerError on API failure. */
  evaluate(subject: ContextSubject, requirements: CompiledRequirements): Promise<ContextReport>;
}

export interface GitHubContextOptions {
  client: GitHubClient;
  now: Clock;
  /** All API calls of one exchange together (default GITHUB_BUDGET_MS). */
  budgetMs?: number;
  /** How long a met requirement is reused (default GITHUB_FACT_CACHE_MS; 0 never reuses). */
  factCacheMs?: number;
}

const toCheckRun = (run: { id: number; name: string; status: string; conclusion: string | null; app: { id: number; slug?: string | undefined } | null }): CheckRunFact[] =>
  run.app === null ? [] : [{ id: run.id, name: run.name, status: run.status, conclusion: run.conclusion, appId: run.app.id, appSlug: run.app.slug ?? "" }];

function toPull(pull: { number: number; state: string; user: { id: number } | null; head: { sha: string }; base: { ref: string; repo: { id: number } }; merged_at: string | null; merge_commit_sha: string | null }): PullRequestFact {
  return {
    number: pull.number,
    state: pull.state,
    // A deleted author (`user: null`) is -1: nobody's review is excluded as the author's, and nobody is the author.
    authorId: pull.user?.id ?? -1,
    headSha: pull.head.sha,
    baseRef: pull.base.ref,
    baseRepositoryId: pull.base.repo.id,
    mergedAt: pull.merged_at,
    mergeCommitSha: pull.merge_commit_sha,
  };
}

export function createGitHubContext(options: GitHubContextOptions): GitHubContext {
  const { client, now } = options;
  const outcomes = createMemo<RequirementOutcome>(now, GITHUB_CACHE_MAX_ENTRIES);
  const jobCommits = createMemo<JobCommitOutcome>(now, GITHUB_CACHE_MAX_ENTRIES);
  const factCacheMs = options.factCacheMs ?? GITHUB_FACT_CACHE_MS;
  const keepIfMet = (outcome: { met: boolean }) => (outcome.met && factCacheMs > 0 ? now() + factCacheMs : undefined);

  function repoPath(repo: RepositoryRef): string {
    return `/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.name)}`;
  }

  async function checkRepository(context: CallContext, repo: RepositoryRef, subject: ContextSubject): Promise<RequirementOutcome> {
    const answer = await client.get(context, repo, repoPath(repo));
    if (answer.status !== 200) return { met: false, reason: "context_repository_mismatch", fact: `repository ${subject.repository}: not found` };
    const id = String(parseAnswer(RepositorySchema, answer.body, "repository").id);
    // A renamed or recycled name must never lend another repository's facts to this token.
    if (id !== subject.repositoryId) return { met: false, reason: "context_repository_mismatch", fact: `repository id ${id} != claim ${subject.repositoryId}` };
    return { met: true, fact: `repository id ${id}` };
  }

  /** The head commit of the token's workflow run (judgedOnRunHead): what a pull_request job's checks and reviews are on. */
  async function runHead(context: CallContext, repo: RepositoryRef, subject: ContextSubject): Promise<JobCommitOutcome> {
    if (!RUN_ID.test(subject.runId)) return { met: false, reason: "context_commit_unknown", fact: "run: no run_id claim" };
    const answer = await client.get(context, repo, `${repoPath(repo)}/actions/runs/${subject.runId}`);
    if (answer.status !== 200) return { met: false, reason: "context_commit_unknown", fact: `run ${subject.runId}: not found` };
    const run = parseAnswer(WorkflowRunSchema, answer.body, "actions/runs");
    return jobCommitOfRun({ id: run.id, event: run.event, headSha: run.head_sha, repositoryId: run.repository.id }, subject.eventName, Number(subject.repositoryId));
  }

  async function checkRun(context: CallContext, repo: RepositoryRef, sha: string, check: CompiledCheck): Promise<RequirementOutcome> {
    const query = new URLSearchParams({ check_name: check.name, filter: "latest", per_page: String(GITHUB_PAGE_SIZE) });
    const answer = await client.getPages(context, repo, `${repoPath(repo)}/commits/${sha}/check-runs?${query}`, (body) => parseAnswer(CheckRunsSchema, body, "check-runs").check_runs);
    if (answer.status !== 200) return { met: false, reason: "context_commit_unknown", fact: `commit ${sha}: not found` };
    const runs = (answer.items as Parameters<typeof toCheckRun>[0][]).flatMap(toCheckRun);
    return evaluateCheck(check, runs);
  }

  async function reviewsOf(context: CallContext, repo: RepositoryRef, number: number): Promise<ReviewFact[] | undefined> {
    const answer = await client.getPages(context, repo, `${repoPath(repo)}/pulls/${number}/reviews?per_page=${GITHUB_PAGE_SIZE}`, (body) => parseAnswer(ReviewListSchema, body, "reviews"));
    if (answer.status !== 200) return undefined;
    return (answer.items as Array<{ user: { id: number } | null; state: string; commit_id: string | null }>).flatMap((review) =>
      review.user === null ? [] : [{ userId: review.user.id, state: review.state, commitId: review.commit_id }],
    );
  }

  /** `jobSha`: the commit the job runs (the token's sha, or its run's head on pull_request). */
  async function checkPullRequest(context: CallContext, repo: RepositoryRef, subject: ContextSubject, jobSha: string, requirement: CompiledPullRequest): Promise<RequirementOutcome> {
    const target = pullRequestTarget(subject.eventName, subject.ref);
    const repositoryId = Number(subject.repositoryId);
    let pull: PullRequestFact | undefined;
    if (target.kind === "none") return { met: false, reason: "context_pr_not_found", fact: `no pull request for ${subject.eventName} on ${subject.ref}` };
    if (target.kind === "merged") {
      const answer = await client.getPages(context, repo, `${repoPath(repo)}/commits/${subject.sha}/pulls?per_page=${GITHUB_PAGE_SIZE}`, (body) => parseAnswer(PullRequestListSchema, body, "commits/pulls"));
      if (answer.status !== 200) return { met: false, reason: "context_commit_unknown", fact: `commit ${subject.sha}: not found` };
      pull = mergedPullRequestFor((answer.items as Parameters<typeof toPull>[0][]).map(toPull), subject.sha, subject.ref, repositoryId);
      if (pull === undefined) return { met: false, reason: "context_pr_not_merged", fact: `commit ${subject.sha.slice(0, 12)}: no merged pull request into ${subject.ref}` };
    } else {
      const answer = await client.get(context, repo, `${repoPath(repo)}/pulls/${target.number}`);
      if (answer.status !== 200) return { met: false, reason: "context_pr_not_found", fact: `pr #${target.number}: not found` };
      pull = toPull(parseAnswer(PullRequestSchema, answer.body, "pulls"));
      if (pull.state !== "open" || pull.baseRepositoryId !== repositoryId) return { met: false, reason: "context_pr_not_found", fact: `pr #${target.number}: ${pull.state}, base repository ${pull.baseRepositoryId}` };
      // Approvals must be on the code this job runs: once the pull request has moved on, approvals of its new head
      // vouch for the new head's jobs, not for this one.
      pull = { ...pull, headSha: jobSha };
    }
    const reviews = await reviewsOf(context, repo, pull.number);
    if (reviews === undefined) return { met: false, reason: "context_pr_not_found", fact: `pr #${pull.number}: reviews not found` };
    return evaluateApprovals(requirement, pull, reviews);
  }

  return {
    async evaluate(subject, requirements) {
      const [owner = "", name = ""] = subject.repository.split("/");
      const repo: RepositoryRef = { apiUrl: subject.apiUrl, owner, name };
      const context: CallContext = { signal: AbortSignal.timeout(options.budgetMs ?? GITHUB_BUDGET_MS), rateRemaining: undefined, calls: 0 };
      const base = `${subject.apiUrl}|${subject.repositoryId}|${subject.repository.toLowerCase()}`;
      const facts: string[] = [];
      const denied = (reason: ContextReason): ContextReport => ({ verdict: { met: false, reason, facts }, rateRemaining: context.rateRemaining, calls: context.calls });
      const repository = await outcomes.get(`${base}|repo`, () => checkRepository(context, repo, subject), keepIfMet);
      facts.push(repository.fact);
      if (!repository.met) return denied(repository.reason);
      let jobSha = subject.sha;
      if (judgedOnRunHead(subject.eventName)) {
        const head = await jobCommits.get(`${base}|run|${subject.runId}`, () => runHead(context, repo, subject), keepIfMet);
        facts.push(head.fact);
        if (!head.met) return denied(head.reason);
        jobSha = head.sha;
      }
      const commit = `${base}|${jobSha}`;
      const steps: Array<[string, () => Promise<RequirementOutcome>]> = [];
      for (const check of requirements.checks) steps.push([`${commit}|${check.key}`, () => checkRun(context, repo, jobSha, check)]);
      const pr = requirements.pullRequest;
      if (pr !== undefined) {
        // The same commit can be judged differently per ref and event (merged into main vs an open pull request).
        steps.push([`${commit}|${subject.sha}|${subject.eventName}|${subject.ref}|${pr.key}`, () => checkPullRequest(context, repo, subject, jobSha, pr)]);
      }
      for (const [key, step] of steps) {
        const outcome = await outcomes.get(key, step, keepIfMet);
        facts.push(outcome.fact);
        if (!outcome.met) return denied(outcome.reason);
      }
      return { verdict: { met: true, facts }, rateRemaining: context.rateRemaining, calls: context.calls };
    },
  };
}
