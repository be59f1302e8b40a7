// A rule's GitHub requirements (docs/github-facts.md): their compiled form, and their evaluation against facts.
// Pure; no I/O; no clock. The facts come from src/github/ (the exchange) or from a fixture (policy:test).
import type { CheckConclusion } from "./types.ts";

/** Denial reasons of the context stage (logged and audited, never sent to the caller). */
export type ContextReason =
  | "context_check_missing"
  | "context_check_pending"
  | "context_check_failed"
  | "context_check_wrong_app"
  | "context_pr_not_merged"
  | "context_pr_not_found"
  | "context_pr_not_approved"
  | "context_commit_unknown"
  | "context_repository_mismatch";

export interface CompiledCheck {
  name: string;
  /** App slug (string) or numeric app id. */
  app: string | number;
  conclusions: readonly CheckConclusion[];
  /** Stable identity of the requirement: part of the fact-cache key. */
  key: string;
}

export interface CompiledPullRequest {
  approvals: number;
  allowStaleApprovals: boolean;
  key: string;
}

export interface CompiledRequirements {
  checks: readonly CompiledCheck[];
  pullRequest: CompiledPullRequest | undefined;
}

/** One check run as the API lists it (only the fields used). */
export interface CheckRunFact {
  id: number;
  name: string;
  appSlug: string;
  appId: number;
  status: string;
  conclusion: string | null;
}

/** One pull request (only the fields used). */
export interface PullRequestFact {
  number: number;
  state: string;
  authorId: number;
  headSha: string;
  baseRef: string;
  baseRepositoryId: number;
  mergedAt: string | null;
  mergeCommitSha: string | null;
}

/** One review, in the API's (chronological) order. */
export interface ReviewFact {
  userId: number;
  state: string;
  commitId: string | null;
}

/** The outcome of one requirement: met, or the denial reason; `fact` is what the audit records either way. */
export type RequirementOutcome = { met: true; fact: string } | { met: false; reason: ContextReason; fact: string };

const appMatches = (app: string | number, run: CheckRunFact) => (typeof app === "number" ? run.appId === app : run.appSlug === app);

/**
 * The latest run named `check.name` created by `check.app` must be completed with an allowed conclusion. Runs of the
 * same name from other apps never count: any workflow token with `checks: write` can create them.
 */
export function evaluateCheck(check: CompiledCheck, runs: readonly CheckRunFact[]): RequirementOutcome {
  const named = runs.filter((run) => run.name === check.name);
  const mine = named.filter((run) => appMatches(check.app, run));
  if (mine.length === 0) {
    if (named.length === 0) return { met: false, reason: "context_check_missing", fact: `check ${check.name}: none` };
    const other = named[named.length - 1] as CheckRunFact;
    return { met: false, reason: "context_check_wrong_app", fact: `check ${check.name}: only from app ${other.appSlug}(${other.appId})` };
  }
  // The highest id is the most recently created run (ids are assigned in creation order).
  const latest = mine.reduce((a, b) => (b.id > a.id ? b : a));
  const by = `app ${latest.appSlug}(${latest.appId})`;
  if (latest.status !== "completed") return { met: false, reason: "context_check_pending", fact: `check ${check.name}=${latest.status} ${by}` };
  const conclusion = latest.conclusion ?? "none";
  if (!(check.conclusions as readonly string[]).includes(conclusion)) return { met: false, reason: "context_check_failed", fact: `check ${check.name}=${conclusion} ${by}` };
  return { met: true, fact: `check ${check.name}=${conclusion} ${by}` };
}

/**
 * The pull request whose merge produced `sha` on `ref` (merge, squash or rebase: GitHub sets `merge_commit_sha` to
 * the resulting commit), in the token's repository. Undefined when the commit did not come from one.
 */
export function mergedPullRequestFor(pulls: readonly PullRequestFact[], sha: string, ref: string, repositoryId: number): PullRequestFact | undefined {
  return pulls.find((pull) => pull.mergedAt !== null && pull.mergeCommitSha === sha && `refs/heads/${pull.baseRef}` === ref && pull.baseRepositoryId === repositoryId);
}

/** `refs/pull/<n>/merge` (or `/head`) -> n; undefined for any other ref. */
export function pullNumberOfRef(ref: string): number | undefined {
  const match = /^refs\/pull\/([1-9]\d{0,9})\/(?:merge|head)$/.exec(ref);
  return match === null ? undefined : Number(match[1]);
}

/** Review states that change a reviewer's standing; COMMENTED and PENDING do not (GitHub's own approval logic). */
const DECISIVE_STATES = new Set(["APPROVED", "CHANGES_REQUESTED", "DISMISSED"]);

/**
 * Approvals that count: each reviewer's latest decisive review, from someone other than the author, APPROVED, and
 * (unless stale approvals are allowed) given on the pull request's final head commit.
 */
export function countApprovals(pull: PullRequestFact, reviews: readonly ReviewFact[], allowStaleApprovals: boolean): number {
  const latest = new Map<number, ReviewFact>();
  for (const review of reviews) if (DECISIVE_STATES.has(review.state)) latest.set(review.userId, review);
  let count = 0;
  for (const [userId, review] of latest) {
    if (userId === pull.authorId || review.state !== "APPROVED") continue;
    if (!allowStaleApprovals && review.commitId !== pull.headSha) continue;
    count += 1;
  }
  return count;
}

/** The approval rule on a known pull request. */
export function evaluateApprovals(requirement: CompiledPullRequest, pull: PullRequestFact, reviews: readonly ReviewFact[]): RequirementOutcome {
  const approvals = countApprovals(pull, reviews, requirement.allowStaleApprovals);
  const fact = `pr #${pull.number} approvals ${approvals}/${requirement.approvals}`;
  return approvals >= requirement.approvals ? { met: true, fact } : { met: false, reason: "context_pr_not_approved", fact };
}

/** A workflow run as GET /repos/{owner}/{repo}/actions/runs/{run_id} reports it (only the fields used). */
export interface WorkflowRunFact {
  id: number;
  event: string;
  headSha: string;
  repositoryId: number;
}

/** The commit a token's checks and approvals are judged on, or why it could not be known. */
export type JobCommitOutcome = { met: true; fact: string; sha: string } | { met: false; reason: ContextReason; fact: string };

/**
 * Whether a token's `sha` is not the commit its checks and reviews are on. A `pull_request` job runs on the test merge
 * commit GitHub made for it (`refs/pull/N/merge`, its `sha` claim), which carries no check runs and no reviews: GitHub
 * reports the run's checks on the pull request's head commit, and reviewers approve heads. The token does not name
 * that head; its workflow run (`run_id` claim) does.
 */
export function judgedOnRunHead(eventName: string): boolean {
  return eventName === "pull_request";
}

/**
 * The head commit of the token's own workflow run: the code that job runs, even when the pull request has moved on
 * since (approvals and checks on a later head never vouch for it). The run must be the token's repository's and event's.
 */
export function jobCommitOfRun(run: WorkflowRunFact, eventName: string, repositoryId: number): JobCommitOutcome {
  if (run.repositoryId !== repositoryId) return { met: false, reason: "context_repository_mismatch", fact: `run ${run.id}: repository id ${run.repositoryId} != claim ${repositoryId}` };
  if (run.event !== eventName) return { met: false, reason: "context_commit_unknown", fact: `run ${run.id}: event ${run.event}, token ${eventName}` };
  return { met: true, fact: `run ${run.id} head ${run.headSha.slice(0, 12)}`, sha: run.headSha };
}

/** How the pull-request requirement applies to a token: its ref names an open pull request, or a branch it was merged into. */
export type PullRequestTarget = { kind: "open"; number: number } | { kind: "merged" } | { kind: "none" };

export function pullRequestTarget(eventName: string, ref: string): PullRequestTarget {
  const number = pullNumberOfRef(ref);
  if (eventName === "pull_request" || eventName === "pull_request_target") return number === undefined ? { kind: "none" } : { kind: "open", number };
  return ref.startsWith("refs/heads/") ? { kind: "merged" } : { kind: "none" };
}
