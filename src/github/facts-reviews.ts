// Pull requests, their reviews and the reviewers' permissions, and the branch's rulesets, read from the GitHub API
// for the context stage (docs/github-facts.md, "Approvals"). The judgement is pure
// (src/policy/requirements-reviews.ts).
// A reviewer's write access is read at decision time (GET .../collaborators/{username}/permission, Metadata: read)
// and kept like a met fact; "not a writer" is never kept, so a granted permission shows on the next request.
import { GITHUB_CACHE_MAX_ENTRIES, GITHUB_PAGE_SIZE } from "./constants.ts";
import {
  branchOfRef,
  mergedPullRequestFor,
  pullRequestTarget,
  type CompiledPullRequest,
  type CompiledRulesets,
  type PullRequestFact,
  type RequirementOutcome,
} from "../policy/requirements.ts";
import {
  evaluateRulesets,
  isWriterPermission,
  judgeReviews,
  planReviews,
  type ReviewFact,
} from "../policy/requirements-reviews.ts";
import { parseAnswer, repositoryPath, type CallContext, type RepositoryRef } from "./client.ts";
import type { FactDeps } from "./facts-jobs.ts";
import { createMemo, type Memo } from "./memo.ts";
import {
  BranchRulesSchema,
  CollaboratorPermissionSchema,
  PullRequestListSchema,
  PullRequestSchema,
  ReviewListSchema,
} from "./schemas.ts";

/** What the pull-request and ruleset requirements read from the token. */
export interface ReviewSubject {
  repositoryId: number;
  sha: string;
  ref: string;
  eventName: string;
  /** Claim `base_ref`: the base branch of a pull_request event. */
  baseRef: string;
}

/** GitHub logins (39 characters of letters, digits, dashes) and Apps' `name[bot]`: checked before going into a URL. */
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/;

type PullJson = {
  number: number;
  state: string;
  user: { id: number } | null;
  head: { sha: string };
  base: { ref: string; repo: { id: number } };
  merged_at: string | null;
  merge_commit_sha: string | null;
};

function toPull(pull: PullJson): PullRequestFact {
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

/** A branch name as a URL path: each segment encoded (names may contain `/`). */
const branchPath = (branch: string) => branch.split("/").map(encodeURIComponent).join("/");

/** The review facts' deps and memo: a reviewer found a writer is kept like a met fact, "not a writer" never. */
interface ReviewFactState extends FactDeps {
  writers: Memo<boolean>;
}

export function createReviewFacts(deps: FactDeps) {
  const state: ReviewFactState = { ...deps, writers: createMemo<boolean>(deps.now, GITHUB_CACHE_MAX_ENTRIES) };
  return {
    /** `jobSha`: the commit the job runs (the token's sha, or its run's head on pull_request). */
    judgePullRequest: (
      context: CallContext,
      repo: RepositoryRef,
      subject: ReviewSubject,
      jobSha: string,
      requirement: CompiledPullRequest,
    ) => judgePullRequest(state, context, repo, subject, jobSha, requirement),
    /** The active rulesets of the token's branch (a pull_request token: its base branch). */
    judgeRulesets: (context: CallContext, repo: RepositoryRef, subject: ReviewSubject, requirement: CompiledRulesets) =>
      judgeRulesets(state, context, repo, subject, requirement),
  };
}

/** Write or admin on the repository now; a login that names someone else than the reviewer (renamed) is not. */
function isWriter(state: ReviewFactState, context: CallContext, repo: RepositoryRef, review: ReviewFact) {
  if (!LOGIN.test(review.login)) return Promise.resolve(false);
  return state.writers.get(
    `${repo.apiUrl}|${repo.id}|${review.userId}|${review.login.toLowerCase()}`,
    async () => {
      const answer = await state.client.get(
        context,
        repo,
        `${repositoryPath(repo)}/collaborators/${encodeURIComponent(review.login)}/permission`,
      );
      if (answer.status !== 200) return false;
      const permission = parseAnswer(CollaboratorPermissionSchema, answer.body, "collaborators/{username}/permission");
      return (
        (permission.user === null || permission.user.id === review.userId) && isWriterPermission(permission.permission)
      );
    },
    (writer) => (writer ? state.keepUntil() : undefined),
  );
}

async function reviewsOf(
  state: ReviewFactState,
  context: CallContext,
  repo: RepositoryRef,
  number: number,
): Promise<ReviewFact[] | undefined> {
  const answer = await state.client.getPages(
    context,
    repo,
    `${repositoryPath(repo)}/pulls/${number}/reviews?per_page=${GITHUB_PAGE_SIZE}`,
    (body) => parseAnswer(ReviewListSchema, body, "reviews"),
  );
  if (answer.status !== 200) return undefined;
  return (
    answer.items as Array<{
      user: { id: number; login: string; type: string } | null;
      state: string;
      commit_id: string | null;
    }>
  ).flatMap((review) =>
    review.user === null
      ? []
      : [
          {
            userId: review.user.id,
            login: review.user.login,
            bot: review.user.type === "Bot",
            state: review.state,
            commitId: review.commit_id,
          },
        ],
  );
}

/** The pull request a token is judged on: merged into its branch as its commit, or the open one its ref names. */
async function pullRequestOf(
  state: ReviewFactState,
  context: CallContext,
  repo: RepositoryRef,
  subject: ReviewSubject,
  jobSha: string,
): Promise<PullRequestFact | RequirementOutcome> {
  const target = pullRequestTarget(subject.eventName, subject.ref);
  if (target.kind === "none")
    return {
      met: false,
      reason: "context_pr_not_found",
      fact: `no pull request for ${subject.eventName} on ${subject.ref}`,
    };
  if (target.kind === "merged") return mergedPullRequestOf(state, context, repo, subject);
  const answer = await state.client.get(context, repo, `${repositoryPath(repo)}/pulls/${target.number}`);
  if (answer.status !== 200)
    return { met: false, reason: "context_pr_not_found", fact: `pr #${target.number}: not found` };
  const pull = toPull(parseAnswer(PullRequestSchema, answer.body, "pulls"));
  if (pull.state !== "open" || pull.baseRepositoryId !== subject.repositoryId)
    return {
      met: false,
      reason: "context_pr_not_found",
      fact: `pr #${target.number}: ${pull.state}, base repository ${pull.baseRepositoryId}`,
    };
  // Approvals must be on the code this job runs: once the pull request has moved on, approvals of its new head
  // vouch for the new head's jobs, not for this one.
  return { ...pull, headSha: jobSha };
}

/** The pull request merged into the token's branch as its commit. */
async function mergedPullRequestOf(
  state: ReviewFactState,
  context: CallContext,
  repo: RepositoryRef,
  subject: ReviewSubject,
): Promise<PullRequestFact | RequirementOutcome> {
  const answer = await state.client.getPages(
    context,
    repo,
    `${repositoryPath(repo)}/commits/${subject.sha}/pulls?per_page=${GITHUB_PAGE_SIZE}`,
    (body) => parseAnswer(PullRequestListSchema, body, "commits/pulls"),
  );
  if (answer.status !== 200)
    return { met: false, reason: "context_commit_unknown", fact: `commit ${subject.sha}: not found` };
  const pull = mergedPullRequestFor(
    (answer.items as PullJson[]).map(toPull),
    subject.sha,
    subject.ref,
    subject.repositoryId,
  );
  return (
    pull ?? {
      met: false,
      reason: "context_pr_not_merged",
      fact: `commit ${subject.sha.slice(0, 12)}: no merged pull request into ${subject.ref}`,
    }
  );
}

async function judgePullRequest(
  state: ReviewFactState,
  context: CallContext,
  repo: RepositoryRef,
  subject: ReviewSubject,
  jobSha: string,
  requirement: CompiledPullRequest,
): Promise<RequirementOutcome> {
  const pull = await pullRequestOf(state, context, repo, subject, jobSha);
  if ("met" in pull) return pull;
  const reviews = await reviewsOf(state, context, repo, pull.number);
  if (reviews === undefined)
    return { met: false, reason: "context_pr_not_found", fact: `pr #${pull.number}: reviews not found` };
  const plan = planReviews(pull, reviews, requirement);
  // Only the permissions that decide are asked: every standing change request until a writer's, then approvals
  // until enough writers approved.
  const known = new Map<number, boolean>();
  let blocked = false;
  for (const review of plan.changeRequests) {
    known.set(review.userId, await isWriter(state, context, repo, review));
    blocked = known.get(review.userId) === true;
    if (blocked) break;
  }
  let counted = 0;
  for (const review of blocked ? [] : plan.approvals) {
    if (counted >= requirement.approvals) break;
    known.set(review.userId, await isWriter(state, context, repo, review));
    if (known.get(review.userId) === true) counted += 1;
  }
  return judgeReviews(requirement, pull, plan, known);
}

async function judgeRulesets(
  state: ReviewFactState,
  context: CallContext,
  repo: RepositoryRef,
  subject: ReviewSubject,
  requirement: CompiledRulesets,
): Promise<RequirementOutcome> {
  const branch =
    branchOfRef(subject.ref) ??
    (subject.eventName.startsWith("pull_request") && subject.baseRef !== "" ? subject.baseRef : undefined);
  if (branch === undefined)
    return { met: false, reason: "context_reviews_not_enforced", fact: `rulesets: ${subject.ref} is no branch` };
  const answer = await state.client.getPages(
    context,
    repo,
    `${repositoryPath(repo)}/rules/branches/${branchPath(branch)}?per_page=${GITHUB_PAGE_SIZE}`,
    (body) => parseAnswer(BranchRulesSchema, body, "rules/branches"),
  );
  if (answer.status !== 200)
    return { met: false, reason: "context_reviews_not_enforced", fact: `rulesets on ${branch}: not found` };
  const rules = (
    answer.items as Array<{
      type: string;
      ruleset_id?: number | undefined;
      parameters?:
        | {
            required_approving_review_count?: number | undefined;
            dismiss_stale_reviews_on_push?: boolean | undefined;
            require_last_push_approval?: boolean | undefined;
          }
        | undefined;
    }>
  ).map((rule) => ({
    type: rule.type,
    rulesetId: rule.ruleset_id,
    requiredApprovals: rule.parameters?.required_approving_review_count ?? 0,
    dismissStaleReviews: rule.parameters?.dismiss_stale_reviews_on_push === true,
    lastPushApproval: rule.parameters?.require_last_push_approval === true,
  }));
  return evaluateRulesets(requirement, branch, rules);
}
