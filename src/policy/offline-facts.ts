// GitHub facts written by hand (policy:test fixtures, policy:explain --facts), and the requirements judged on them
// offline, with the same pure functions the broker uses on the API's answers. Pure; no I/O; no clock.
import {
  branchOfRef,
  evaluateCheck,
  mergedPullRequestFor,
  pullRequestTarget,
  type CheckRunFact,
  type CompiledJobCheck,
  type CompiledRequirements,
  type ContextReason,
  type PullRequestFact,
  type RequirementOutcome,
  type WorkflowRunFact,
} from "./requirements.ts";
import {
  evaluateJob,
  missingJob,
  ownRunHolds,
  pinnedRunFor,
  workflowFileOfRef,
  type JobFact,
  type RunSubject,
} from "./requirements-jobs.ts";
import {
  evaluateRulesets,
  isWriterPermission,
  judgeReviews,
  planReviews,
  type ReviewFact,
} from "./requirements-reviews.ts";
import type { CheckConclusion } from "./types.ts";

type Status = "queued" | "in_progress" | "completed";

/** A job as a fixture writes it: completed with `success` unless it says otherwise. */
export interface OfflineJob {
  name: string;
  status?: Status;
  conclusion?: CheckConclusion | null;
}

/** What GitHub would report for the token's commit, in a fixture's words. */
export interface OfflineFacts {
  /** Repository id as the API reports it; default: the token's `repository_id`. */
  repositoryId?: string;
  /**
   * Check runs on the token's commit, oldest first: a third-party App's, or one created through the API (any app,
   * `github-actions` included: such a run is no job of any run).
   */
  checks?: ReadonlyArray<{
    name: string;
    app: string;
    appId?: number;
    status?: Status;
    conclusion?: CheckConclusion | null;
  }>;
  /** The token's own workflow run (`run_id`): its jobs (latest attempt); `fork` for a fork pull request's run. */
  run?: { workflow?: string; fork?: true; jobs: readonly OfflineJob[] };
  /** Runs of workflows on the token's commit, oldest first (`event` default push, `branch` default the token's). */
  runs?: ReadonlyArray<{
    workflow: string;
    event?: string;
    branch?: string;
    fork?: true;
    status?: Status;
    jobs: readonly OfflineJob[];
  }>;
  /**
   * The pull request: on a branch ref, the one merged into it as the token's commit (`merged: false` for a commit
   * pushed without one); on `refs/pull/N/merge`, pull request N, open.
   */
  pullRequest?: {
    number: number;
    merged?: boolean;
    /** Author's user id; default 1. */
    author?: number;
    /**
     * Reviews in order: each reviewer's latest decisive one counts; `stale` ones were given on an earlier head;
     * `permission` is the reviewer's on the repository (default write); `bot` for an App's account.
     */
    reviews?: ReadonlyArray<{
      user: number;
      state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED";
      stale?: true;
      permission?: "admin" | "write" | "read" | "none";
      bot?: true;
    }>;
  };
  /** The `pull_request` rules of the branch's active rulesets. */
  rulesets?: ReadonlyArray<{ approvals: number; lastPushApproval?: true; dismissStaleReviews?: true }>;
}

export type OfflineVerdict = { met: true; facts: string[] } | { met: false; reason: ContextReason; facts: string[] };

const HEAD = "head";
const FORK_ID = -1;
const OWN_RUN_ID = 1;

const toJobs = (runId: number, jobs: readonly OfflineJob[]): JobFact[] =>
  jobs.map((job, index) => ({
    id: runId * 1000 + index,
    runId,
    name: job.name,
    status: job.status ?? "completed",
    conclusion: job.conclusion === undefined ? "success" : job.conclusion,
  }));

/** One job requirement on the fixture's runs (the token's own, or the pinned workflow's newest). */
function judgeJob(
  check: CompiledJobCheck,
  facts: OfflineFacts,
  subject: RunSubject,
  checkRuns: readonly CheckRunFact[],
): RequirementOutcome {
  const repositoryId = subject.repositoryId;
  let run: WorkflowRunFact;
  let jobs: JobFact[];
  if (check.workflow === undefined) {
    const own = facts.run;
    if (own === undefined)
      return {
        met: false,
        reason: "context_workflow_not_run",
        fact: "run: the fixture gives no `run` (the token's own)",
      };
    run = {
      id: OWN_RUN_ID,
      path: own.workflow ?? subject.workflowFile ?? "",
      event: "",
      headSha: subject.sha,
      headBranch: branchOfRef(subject.ref) ?? null,
      headRepositoryId: own.fork === true ? FORK_ID : repositoryId,
      repositoryId,
      status: "in_progress",
      conclusion: null,
      runAttempt: 1,
    };
    const holds = ownRunHolds(run, subject);
    if (!holds.met) return holds;
    jobs = toJobs(run.id, own.jobs);
  } else {
    const runs = (facts.runs ?? []).map(
      (given, index): WorkflowRunFact => ({
        id: OWN_RUN_ID + 1 + index,
        path: given.workflow,
        event: given.event ?? "push",
        headSha: subject.sha,
        headBranch: given.branch ?? branchOfRef(subject.ref) ?? null,
        headRepositoryId: given.fork === true ? FORK_ID : repositoryId,
        repositoryId,
        status: given.status ?? "completed",
        conclusion: null,
        runAttempt: 1,
      }),
    );
    const found = pinnedRunFor(check, runs, subject);
    if ("met" in found) return found;
    run = found.run;
    jobs = toJobs(run.id, facts.runs?.[run.id - OWN_RUN_ID - 1]?.jobs ?? []);
  }
  return evaluateJob(check, run, jobs) ?? missingJob(check, run, checkRuns);
}

/** The pull request and its reviews the facts describe, judged as the broker judges the live ones. */
function judgeOfflinePullRequest(
  requirement: NonNullable<CompiledRequirements["pullRequest"]>,
  facts: OfflineFacts,
  text: (name: string) => string,
): RequirementOutcome {
  const repositoryId = text("repository_id");
  const sha = text("sha");
  const ref = text("ref");
  const target = pullRequestTarget(text("event_name"), ref);
  const given = facts.pullRequest;
  const number = given?.number ?? 0;
  const pull: PullRequestFact = {
    number,
    state: target.kind === "merged" ? "closed" : "open",
    authorId: given?.author ?? 1,
    headSha: HEAD,
    baseRef: ref.replace(/^refs\/heads\//, ""),
    baseRepositoryId: Number(repositoryId),
    mergedAt: given?.merged === false ? null : "merged",
    mergeCommitSha: given?.merged === false ? null : sha,
  };
  if (target.kind === "none" || (target.kind === "open" && (given === undefined || target.number !== number))) {
    return {
      met: false,
      reason: "context_pr_not_found",
      fact: `no pull request for ${text("event_name")} on ${ref}`,
    };
  }
  if (
    target.kind === "merged" &&
    (given === undefined || mergedPullRequestFor([pull], sha, ref, Number(repositoryId)) === undefined)
  ) {
    return { met: false, reason: "context_pr_not_merged", fact: `commit: no merged pull request into ${ref}` };
  }
  const reviews: ReviewFact[] = (given?.reviews ?? []).map((review) => ({
    userId: review.user,
    login: `user${review.user}`,
    bot: review.bot === true,
    state: review.state,
    commitId: review.stale === true ? "earlier" : HEAD,
  }));
  const writers = new Map(
    (given?.reviews ?? []).map((review) => [
      review.user,
      review.bot !== true && isWriterPermission(review.permission ?? "write"),
    ]),
  );
  return judgeReviews(requirement, pull, planReviews(pull, reviews, requirement), writers);
}

/**
 * Judges `requirements` for these claims on offline facts, in the broker's order (repository, checks, pull request,
 * rulesets).
 */
export function evaluateOffline(
  requirements: CompiledRequirements,
  claims: Readonly<Record<string, unknown>>,
  facts: OfflineFacts,
): OfflineVerdict {
  const text = (name: string) => (typeof claims[name] === "string" ? (claims[name] as string) : "");
  const repositoryId = text("repository_id");
  const sha = text("sha");
  const ref = text("ref");
  const seen: string[] = [];
  const deny = (outcome: RequirementOutcome & { met: false }): OfflineVerdict => ({
    met: false,
    reason: outcome.reason,
    facts: [...seen, outcome.fact],
  });
  if (facts.repositoryId !== undefined && facts.repositoryId !== repositoryId) {
    return {
      met: false,
      reason: "context_repository_mismatch",
      facts: [`repository id ${facts.repositoryId} != claim ${repositoryId}`],
    };
  }
  const checkRuns: CheckRunFact[] = (facts.checks ?? []).map((run, index) => ({
    id: index + 1,
    name: run.name,
    appSlug: run.app,
    appId: run.appId ?? 0,
    status: run.status ?? "completed",
    conclusion: run.conclusion === undefined ? "success" : run.conclusion,
  }));
  const subject: RunSubject = {
    repository: text("repository"),
    repositoryId: Number(repositoryId),
    sha,
    ref,
    workflowFile: workflowFileOfRef(text("workflow_ref"), text("repository"), ref),
  };
  for (const check of requirements.checks) {
    const outcome = check.kind === "app" ? evaluateCheck(check, checkRuns) : judgeJob(check, facts, subject, checkRuns);
    if (!outcome.met) return deny(outcome);
    seen.push(outcome.fact);
  }
  if (requirements.pullRequest !== undefined) {
    const outcome = judgeOfflinePullRequest(requirements.pullRequest, facts, text);
    if (!outcome.met) return deny(outcome);
    seen.push(outcome.fact);
  }
  if (requirements.rulesets !== undefined) {
    const branch = branchOfRef(ref) ?? text("base_ref");
    const rules = (facts.rulesets ?? []).map((rule, index) => ({
      type: "pull_request",
      rulesetId: index + 1,
      requiredApprovals: rule.approvals,
      lastPushApproval: rule.lastPushApproval === true,
      dismissStaleReviews: rule.dismissStaleReviews === true,
    }));
    const outcome = evaluateRulesets(requirements.rulesets, branch, rules);
    if (!outcome.met) return deny(outcome);
    seen.push(outcome.fact);
  }
  return { met: true, facts: seen };
}
