// A rule's GitHub requirements (docs/github-facts.md): their compiled form, the denial reasons, and the evaluation of
// third-party App checks and of the commit a token is judged on. Jobs of workflow runs: requirements-jobs.ts; reviews
// and rulesets: requirements-reviews.ts. Pure; no I/O; no clock. The facts come from src/github/ (the exchange) or
// from a fixture (policy:test).
import type { CheckConclusion, PinnedRunEvent } from "./types.ts";

import type { ContextReason } from "../error-reasons.ts";

export { CONTEXT_REASONS, type ContextReason } from "../error-reasons.ts";

/**
 * A job of a workflow run: of the token's own run (`workflow` undefined) or of a pinned workflow's run on the commit.
 */
export interface CompiledJobCheck {
  kind: "job";
  job: string;
  /** `.github/workflows/<file>` of the token's repository, or undefined for the token's own run. */
  workflow: string | undefined;
  /** Pinned form: events the run may come from (sorted). */
  events: readonly PinnedRunEvent[];
  conclusions: readonly CheckConclusion[];
  /** Stable identity of the requirement: part of the fact-cache key. */
  key: string;
}

/** A check run of a third-party App (never GitHub Actions: requirements-compile.ts refuses it). */
export interface CompiledAppCheck {
  kind: "app";
  name: string;
  /** App slug (string) or numeric app id. */
  app: string | number;
  conclusions: readonly CheckConclusion[];
  key: string;
}

export type CompiledCheck = CompiledJobCheck | CompiledAppCheck;

export interface CompiledPullRequest {
  approvals: number;
  allowStaleApprovals: boolean;
  key: string;
}

export interface CompiledRulesets {
  approvals: number;
  lastPushApproval: boolean;
  dismissStaleReviews: boolean;
  key: string;
}

export interface CompiledRequirements {
  checks: readonly CompiledCheck[];
  pullRequest: CompiledPullRequest | undefined;
  rulesets: CompiledRulesets | undefined;
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

/** The outcome of one requirement: met, or the denial reason; `fact` is what the audit records either way. */
export type RequirementOutcome = { met: true; fact: string } | { met: false; reason: ContextReason; fact: string };

/** GitHub Actions as an App: every workflow's GITHUB_TOKEN is one of its installation tokens (docs/github-facts.md). */
export const GITHUB_ACTIONS_APP = { slug: "github-actions", id: 15368 } as const;

const appMatches = (app: string | number, run: CheckRunFact) =>
  typeof app === "number" ? run.appId === app : run.appSlug === app;

/** Met for a completed result with an allowed conclusion; else pending or failed. `fact` describes the result. */
export function judgeConclusion(
  status: string,
  conclusion: string | null,
  allowed: readonly CheckConclusion[],
  fact: string,
): RequirementOutcome {
  if (status !== "completed") return { met: false, reason: "context_check_pending", fact };
  if (!(allowed as readonly string[]).includes(conclusion ?? "none"))
    return { met: false, reason: "context_check_failed", fact };
  return { met: true, fact };
}

/**
 * The latest run named `check.name` created by `check.app` must be completed with an allowed conclusion. Runs of the
 * same name from other apps never count: anyone able to install an App, or any workflow token, can create them.
 */
export function evaluateCheck(check: CompiledAppCheck, runs: readonly CheckRunFact[]): RequirementOutcome {
  const named = runs.filter((run) => run.name === check.name);
  const mine = named.filter((run) => appMatches(check.app, run));
  if (mine.length === 0) {
    if (named.length === 0) return { met: false, reason: "context_check_missing", fact: `check ${check.name}: none` };
    const other = named[named.length - 1] as CheckRunFact;
    return {
      met: false,
      reason: "context_check_wrong_app",
      fact: `check ${check.name}: only from app ${other.appSlug}(${other.appId})`,
    };
  }
  // The highest id is the most recently created run (ids are assigned in creation order).
  const latest = mine.reduce((a, b) => (b.id > a.id ? b : a));
  const result = latest.status === "completed" ? (latest.conclusion ?? "none") : latest.status;
  return judgeConclusion(
    latest.status,
    latest.conclusion,
    check.conclusions,
    `check ${check.name}=${result} app ${latest.appSlug}(${latest.appId})`,
  );
}

/**
 * The pull request whose merge produced `sha` on `ref` (merge, squash or rebase: GitHub sets `merge_commit_sha` to
 * the resulting commit), in the token's repository. Undefined when the commit did not come from one.
 */
export function mergedPullRequestFor(
  pulls: readonly PullRequestFact[],
  sha: string,
  ref: string,
  repositoryId: number,
): PullRequestFact | undefined {
  return pulls.find(
    (pull) =>
      pull.mergedAt !== null &&
      pull.mergeCommitSha === sha &&
      `refs/heads/${pull.baseRef}` === ref &&
      pull.baseRepositoryId === repositoryId,
  );
}

/** `refs/pull/<n>/merge` (or `/head`) -> n; undefined for any other ref. */
export function pullNumberOfRef(ref: string): number | undefined {
  const match = /^refs\/pull\/([1-9]\d{0,9})\/(?:merge|head)$/.exec(ref);
  return match === null ? undefined : Number(match[1]);
}

/** A workflow run as the API reports it (only the fields used). */
export interface WorkflowRunFact {
  id: number;
  /** The workflow file, as `path` reports it (`.github/workflows/ci.yml`, sometimes with `owner/repo/` and `@ref`). */
  path: string;
  event: string;
  headSha: string;
  /** The branch the run is on: for a fork's pull_request run, the fork's branch name (any name, "main" included). */
  headBranch: string | null;
  /** The repository the run's code came from: a fork's id for a fork pull request's run. */
  headRepositoryId: number | null;
  repositoryId: number;
  status: string;
  conclusion: string | null;
  runAttempt: number;
}

/** The commit a token's checks and approvals are judged on, or why it could not be known. */
export type JobCommitOutcome =
  | { met: true; fact: string; sha: string }
  | { met: false; reason: ContextReason; fact: string };

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
 * since (approvals and checks on a later head never vouch for it). The run must be the token's repository's and
 * event's.
 */
export function jobCommitOfRun(
  run: Pick<WorkflowRunFact, "id" | "event" | "headSha" | "repositoryId">,
  eventName: string,
  repositoryId: number,
): JobCommitOutcome {
  if (run.repositoryId !== repositoryId)
    return {
      met: false,
      reason: "context_repository_mismatch",
      fact: `run ${run.id}: repository id ${run.repositoryId} != claim ${repositoryId}`,
    };
  if (run.event !== eventName)
    return {
      met: false,
      reason: "context_commit_unknown",
      fact: `run ${run.id}: event ${run.event}, token ${eventName}`,
    };
  return { met: true, fact: `run ${run.id} head ${run.headSha.slice(0, 12)}`, sha: run.headSha };
}

/**
 * How the pull-request requirement applies to a token: its ref names an open pull request, or a branch it was merged
 * into.
 */
export type PullRequestTarget = { kind: "open"; number: number } | { kind: "merged" } | { kind: "none" };

export function pullRequestTarget(eventName: string, ref: string): PullRequestTarget {
  const number = pullNumberOfRef(ref);
  if (eventName === "pull_request" || eventName === "pull_request_target")
    return number === undefined ? { kind: "none" } : { kind: "open", number };
  return ref.startsWith("refs/heads/") ? { kind: "merged" } : { kind: "none" };
}

/** The branch a token's ref names (`refs/heads/X` -> X), or undefined for tags, pull refs and others. */
export function branchOfRef(ref: string): string | undefined {
  return ref.startsWith("refs/heads/") && ref.length > "refs/heads/".length
    ? ref.slice("refs/heads/".length)
    : undefined;
}
