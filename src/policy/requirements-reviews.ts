// Reviews of a pull request and the branch's rulesets (docs/github-facts.md, "Approvals"): which reviews count, as
// GitHub's own merge rule counts them. Pure; no I/O; no clock. The permission of each reviewer who matters is looked
// up by the caller (src/github/facts-reviews.ts) or given by a fixture.
import type { CompiledPullRequest, CompiledRulesets, PullRequestFact, RequirementOutcome } from "./requirements.ts";

/** One review, in the API's (chronological) order. */
export interface ReviewFact {
  userId: number;
  login: string;
  /** `user.type` is "Bot": an App's account (github-actions[bot], dependabot[bot]…). */
  bot: boolean;
  state: string;
  commitId: string | null;
}

/** Review states that change a reviewer's standing; COMMENTED and PENDING do not (GitHub's own approval logic). */
const DECISIVE_STATES = new Set(["APPROVED", "CHANGES_REQUESTED", "DISMISSED"]);

/** Whose standing matters, and in which order their permission is asked. */
export interface ReviewPlan {
  /** Standing change requests (latest decisive review CHANGES_REQUESTED), author excluded: a writer's blocks. */
  changeRequests: ReviewFact[];
  /**
   * Standing approvals that count if their reviewer is a writer: not the author, not a bot, on the head (unless stale
   * ones count).
   */
  approvals: ReviewFact[];
  /** Standing approvals that never count: bots' (their permission is never asked). */
  botApprovals: ReviewFact[];
}

/**
 * Each reviewer's latest decisive review: a later APPROVED or DISMISSED lifts a change request, a comment changes
 * nothing.
 */
export function planReviews(
  pull: PullRequestFact,
  reviews: readonly ReviewFact[],
  requirement: Pick<CompiledPullRequest, "allowStaleApprovals">,
): ReviewPlan {
  const latest = new Map<number, ReviewFact>();
  for (const review of reviews) if (DECISIVE_STATES.has(review.state)) latest.set(review.userId, review);
  const plan: ReviewPlan = { changeRequests: [], approvals: [], botApprovals: [] };
  for (const review of latest.values()) {
    if (review.userId === pull.authorId) continue;
    if (review.state === "CHANGES_REQUESTED") plan.changeRequests.push(review);
    if (review.state !== "APPROVED" || (!requirement.allowStaleApprovals && review.commitId !== pull.headSha)) continue;
    (review.bot ? plan.botApprovals : plan.approvals).push(review);
  }
  return plan;
}

/** Repository permissions that make a writer (`permission` maps maintain to write; `role_name` is never judged). */
export function isWriterPermission(permission: string): boolean {
  return permission === "write" || permission === "admin";
}

/**
 * The approval rule on a known pull request, given each looked-up reviewer's writer status (`writers`: user id ->
 * writer; a reviewer missing from it was not needed). A writer's standing change request blocks whatever the count.
 */
export function judgeReviews(
  requirement: CompiledPullRequest,
  pull: PullRequestFact,
  plan: ReviewPlan,
  writers: ReadonlyMap<number, boolean>,
): RequirementOutcome {
  const blocker = plan.changeRequests.find((review) => writers.get(review.userId) === true);
  if (blocker !== undefined)
    return {
      met: false,
      reason: "context_changes_requested",
      fact: `pr #${pull.number}: changes requested by ${blocker.login} (writer)`,
    };
  const counted = plan.approvals.filter((review) => writers.get(review.userId) === true);
  const fact = `pr #${pull.number} approvals ${counted.length}/${requirement.approvals}`;
  if (counted.length >= requirement.approvals) return { met: true, fact };
  const refused = [
    ...plan.approvals.filter((review) => writers.get(review.userId) === false),
    ...plan.botApprovals,
  ].map((review) => `${review.login}${review.bot ? " (bot)" : ""}`);
  if (refused.length > 0)
    return {
      met: false,
      reason: "context_approval_not_writer",
      fact: `${fact}; not counted, no write access: ${refused.join(", ")}`,
    };
  return { met: false, reason: "context_pr_not_approved", fact };
}

/** One active rule of a branch as GET /repos/{owner}/{repo}/rules/branches/{branch} lists it (only the fields used). */
export interface BranchRuleFact {
  type: string;
  rulesetId: number | undefined;
  requiredApprovals: number;
  dismissStaleReviews: boolean;
  lastPushApproval: boolean;
}

/**
 * The branch's active rulesets must enforce the review rule: their `pull_request` rules together (the strictest of
 * each parameter applies, as GitHub combines layered rulesets) require at least what the rule names.
 */
export function evaluateRulesets(
  requirement: CompiledRulesets,
  branch: string,
  rules: readonly BranchRuleFact[],
): RequirementOutcome {
  const reviews = rules.filter((rule) => rule.type === "pull_request");
  const approvals = Math.max(0, ...reviews.map((rule) => rule.requiredApprovals));
  const lastPush = reviews.some((rule) => rule.lastPushApproval);
  const dismissStale = reviews.some((rule) => rule.dismissStaleReviews);
  const ids = [...new Set(reviews.flatMap((rule) => (rule.rulesetId === undefined ? [] : [rule.rulesetId])))];
  const fact = `rulesets on ${branch}: ${reviews.length === 0 ? "no pull request rule" : `${approvals} approval(s)${lastPush ? ", last push approval" : ""}${dismissStale ? ", stale approvals dismissed" : ""} (ruleset ${ids.join(", ")})`}`;
  const met =
    approvals >= requirement.approvals &&
    (lastPush || !requirement.lastPushApproval) &&
    (dismissStale || !requirement.dismissStaleReviews);
  return met ? { met: true, fact } : { met: false, reason: "context_reviews_not_enforced", fact };
}
