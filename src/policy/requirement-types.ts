// The types of a rule's `require` as policy authors write it: facts from GitHub's own record (jobs and check runs,
// pull request reviews, rulesets) that must hold (docs/github-facts.md). Pure declarations; re-exported by types.ts.

/** Check run conclusions (GitHub REST "check runs"). */
export type CheckConclusion =
  | "success"
  | "failure"
  | "neutral"
  | "cancelled"
  | "skipped"
  | "timed_out"
  | "action_required"
  | "stale";

/**
 * Events a pinned workflow's run may come from: those that run the workflow file as it is on the run's branch at the
 * commit (`head_branch`). Never `pull_request` (the pull request's own copy of the file) nor `pull_request_target`.
 */
export type PinnedRunEvent = "push" | "workflow_dispatch" | "schedule";

/**
 * A job of a GitHub Actions workflow run that must have completed with an allowed conclusion (docs/github-facts.md).
 * Without `workflow`: a job of the token's own run (the race-free form: the deploy job `needs:` it). With `workflow`:
 * a job of that workflow file's newest run (latest attempt) on the token's commit and branch, in the token's
 * repository.
 */
export interface JobRequirement {
  /**
   * The job's display name as GitHub shows it: its `name:` (or id). Matrix legs (`scan (linux, 20)`) match the
   * bare name, and every leg must pass; a job of a reusable workflow is `caller / callee`.
   */
  job: string;
  /** `.github/workflows/<file>.yml` of the token's repository; absent: the token's own workflow run. */
  workflow?: string;
  /** Pinned form: events the pinned run may have been started by; default `["push"]`. */
  events?: readonly PinnedRunEvent[];
  /** Allowed conclusions; default `["success"]`. */
  conclusion?: readonly CheckConclusion[];
}

/**
 * A check run created by a third-party GitHub App (a scanner with its own App) on the token's commit. Never GitHub
 * Actions (`github-actions`, 15368): any workflow's `GITHUB_TOKEN` with `checks: write` creates runs as that App, so
 * `policy:check` refuses it; name a job instead (JobRequirement).
 */
export interface AppCheckRequirement {
  /** Exact check run name (`check_name`). */
  name: string;
  /** The App that must have created the run: its slug or numeric id. */
  app: string | number;
  /** Allowed conclusions; default `["success"]`. */
  conclusion?: readonly CheckConclusion[];
}

export type CheckRequirement = JobRequirement | AppCheckRequirement;

/** Reviews on the pull request the commit came from (push) or the one the ref names (pull_request). */
export interface PullRequestRequirement {
  /**
   * Approving reviews needed, 1..10: each reviewer's latest review counts, only from people with write access to the
   * repository at decision time, never from a bot or the author. A writer's standing change request blocks.
   */
  approvals: number;
  /** Let approvals given on an earlier head commit count (GitHub's "dismiss stale approvals" off). */
  allowStaleApprovals?: true;
}

/**
 * The active rulesets of the branch (the token's, or a pull request's base) must require pull requests with at
 * least `approvals` approving reviews (and, if named, approval of the last push and dismissal of stale approvals).
 * Rulesets only: classic branch protection and bypass lists are not visible to this check (docs/github-facts.md).
 */
export interface RulesetRequirement {
  approvals: number;
  lastPushApproval?: true;
  dismissStaleReviews?: true;
}

export interface Requirements {
  checks?: readonly CheckRequirement[];
  pullRequest?: PullRequestRequirement;
  rulesets?: RulesetRequirement;
}
