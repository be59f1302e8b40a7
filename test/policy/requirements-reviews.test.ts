// Reviews and rulesets, judged purely: each reviewer's latest decisive review, writers only, no bots, no author; a
// writer's standing change request blocks; rulesets combined as GitHub layers them.
import { describe, expect, it } from "vitest";
import type { CompiledPullRequest, PullRequestFact } from "../../src/policy/requirements.ts";
import {
  evaluateRulesets,
  isWriterPermission,
  judgeReviews,
  planReviews,
  type BranchRuleFact,
  type ReviewFact,
} from "../../src/policy/requirements-reviews.ts";

const pull: PullRequestFact = {
  number: 5,
  state: "closed",
  authorId: 1,
  headSha: "h",
  baseRef: "main",
  baseRepositoryId: 10,
  mergedAt: "t",
  mergeCommitSha: "s",
};
const one: CompiledPullRequest = { approvals: 1, allowStaleApprovals: false, key: "k" };
const review = (userId: number, state: string, over: Partial<ReviewFact> = {}): ReviewFact => ({
  userId,
  login: `user${userId}`,
  bot: false,
  state,
  commitId: "h",
  ...over,
});
/** Every reviewer a writer except those listed as readers. */
const writersBut = (reviews: readonly ReviewFact[], readers: number[] = []) =>
  new Map(reviews.map((r) => [r.userId, !readers.includes(r.userId)]));

function judge(reviews: ReviewFact[], readers: number[] = [], requirement = one) {
  return judgeReviews(requirement, pull, planReviews(pull, reviews, requirement), writersBut(reviews, readers));
}

describe("approvals", () => {
  it.each([
    ["one writer's approval on the head", [review(2, "APPROVED")], [], "met"],
    ["the author's own approval", [review(1, "APPROVED")], [], "context_pr_not_approved"],
    ["a stale approval", [review(2, "APPROVED", { commitId: "old" })], [], "context_pr_not_approved"],
    ["a reader's approval", [review(2, "APPROVED")], [2], "context_approval_not_writer"],
    [
      "a bot's approval",
      [review(2, "APPROVED", { bot: true, login: "github-actions[bot]" })],
      [],
      "context_approval_not_writer",
    ],
    [
      "approval then changes requested by the same writer",
      [review(2, "APPROVED"), review(2, "CHANGES_REQUESTED")],
      [],
      "context_changes_requested",
    ],
    ["approval then a comment", [review(2, "APPROVED"), review(2, "COMMENTED")], [], "met"],
    ["approval dismissed", [review(2, "APPROVED"), review(2, "DISMISSED")], [], "context_pr_not_approved"],
    [
      "changes requested, then approved by the same writer",
      [review(2, "CHANGES_REQUESTED"), review(2, "APPROVED")],
      [],
      "met",
    ],
    [
      "one writer approves, another's change request stands",
      [review(2, "APPROVED"), review(3, "CHANGES_REQUESTED")],
      [],
      "context_changes_requested",
    ],
    [
      "one writer approves, another's change request was dismissed",
      [review(2, "APPROVED"), review(3, "CHANGES_REQUESTED"), review(3, "DISMISSED")],
      [],
      "met",
    ],
    ["a reader's change request does not block", [review(2, "APPROVED"), review(3, "CHANGES_REQUESTED")], [3], "met"],
    [
      "a stale change request still blocks",
      [review(2, "APPROVED"), review(3, "CHANGES_REQUESTED", { commitId: "old" })],
      [],
      "context_changes_requested",
    ],
  ] as const)("%s", (_label, reviews, readers, expected) => {
    const outcome = judge([...reviews], [...readers]);
    expect(outcome.met ? "met" : outcome.reason).toBe(expected);
  });

  it("counts each writer once, their latest review", () => {
    const two = { ...one, approvals: 2 };
    expect(judge([review(2, "APPROVED"), review(2, "APPROVED"), review(3, "APPROVED")], [], two).met).toBe(true);
    expect(judge([review(2, "APPROVED"), review(2, "APPROVED")], [], two)).toMatchObject({
      met: false,
      reason: "context_pr_not_approved",
    });
  });

  it("stale approvals count when the rule allows them", () => {
    expect(judge([review(2, "APPROVED", { commitId: "old" })], [], { ...one, allowStaleApprovals: true }).met).toBe(
      true,
    );
  });

  it("asks no permission of bots and the author, and names the refused approvers", () => {
    const plan = planReviews(
      pull,
      [review(1, "APPROVED"), review(9, "APPROVED", { bot: true, login: "bot[bot]" }), review(2, "APPROVED")],
      one,
    );
    expect(plan.approvals.map((r) => r.userId)).toEqual([2]);
    expect(plan.botApprovals.map((r) => r.userId)).toEqual([9]);
    const outcome = judgeReviews(one, pull, plan, new Map([[2, false]]));
    expect(outcome).toMatchObject({ met: false, reason: "context_approval_not_writer" });
    expect(outcome.fact).toContain("user2, bot[bot] (bot)");
  });

  it("writers are write and admin; maintain is reported as write, triage as read; role names are never judged", () => {
    expect(["write", "admin"].every(isWriterPermission)).toBe(true);
    expect(["read", "none", "maintain", "triage", "custom-role", ""].some(isWriterPermission)).toBe(false);
  });
});

describe("rulesets", () => {
  const rule = (over: Partial<BranchRuleFact> = {}): BranchRuleFact => ({
    type: "pull_request",
    rulesetId: 1,
    requiredApprovals: 1,
    dismissStaleReviews: false,
    lastPushApproval: false,
    ...over,
  });
  const requirement = { approvals: 1, lastPushApproval: false, dismissStaleReviews: false, key: "k" };

  it.each([
    ["one pull_request rule with enough approvals", [rule()], requirement, true],
    ["no pull_request rule", [rule({ type: "required_signatures" })], requirement, false],
    ["nothing", [], requirement, false],
    ["too few approvals", [rule()], { ...requirement, approvals: 2 }, false],
    [
      "the strictest of layered rulesets",
      [
        rule({ requiredApprovals: 2, rulesetId: 1 }),
        rule({ requiredApprovals: 0, lastPushApproval: true, rulesetId: 2 }),
      ],
      { ...requirement, approvals: 2, lastPushApproval: true },
      true,
    ],
    ["last push approval required but not enforced", [rule()], { ...requirement, lastPushApproval: true }, false],
    ["stale dismissal required but not enforced", [rule()], { ...requirement, dismissStaleReviews: true }, false],
  ] as const)("%s", (_label, rules, wanted, met) => {
    const outcome = evaluateRulesets(wanted, "main", rules);
    expect(outcome.met).toBe(met);
    if (!outcome.met) expect(outcome.reason).toBe("context_reviews_not_enforced");
  });
});
