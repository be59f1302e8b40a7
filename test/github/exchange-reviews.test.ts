// Approvals count only from writers (docs/github-facts.md, "Approvals"), through the whole Worker: the permission of
// each reviewer who matters is read at decision time (GET .../collaborators/{username}/permission); bots, the author
// and people who can only read (an organisation MEMBER too) never count; each writer's latest review stands, and a
// writer's standing change request blocks until that writer approves or the review is dismissed. Rulesets: the
// optional fact that the branch's active rulesets enforce reviews.
import { describe, expect, it } from "vitest";
import { GITHUB_FACT_CACHE_MS } from "../../src/github/constants.ts";
import { createHarness, expectAudit, type Harness } from "../support/broker-harness.ts";
import { EXAMPLE_FACTS, EXAMPLE_USERS } from "../support/fake-github-api.ts";
import {
  expectDenied,
  NO_FACT_CACHE,
  openPullRequest,
  PR_HEAD,
  policyRequiring,
  pullNumber,
  repository,
} from "./helpers.ts";

const { headSha } = EXAMPLE_FACTS;
const { reviewer, writer, reader, bot, author } = EXAMPLE_USERS;

function review(
  h: Harness,
  userId: number,
  state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED",
  commitId: string = headSha,
): number {
  return h.github.addReview(repository, pullNumber, { userId, state, commitId });
}

describe("approvals count only from writers", () => {
  it("an approval by someone who can only read (an organisation MEMBER) does not count: context_approval_not_writer", async () => {
    const h = await createHarness();
    h.github.clearReviews(repository, pullNumber);
    review(h, reader.id, "APPROVED");
    const event = await expectDenied(h, "context_approval_not_writer");
    expect(event.context_facts).toContain(`not counted, no write access: ${reader.login}`);
  });

  it("an approval by a bot (github-actions[bot]) never counts, and its permission is never asked", async () => {
    const h = await createHarness();
    h.github.clearReviews(repository, pullNumber);
    review(h, bot.id, "APPROVED");
    await expectDenied(h, "context_approval_not_writer");
    expect(h.github.calls.collaborator_permission).toBe(0);
  });

  it("the author's own approval never counts, whatever their permission", async () => {
    const h = await createHarness();
    h.github.clearReviews(repository, pullNumber);
    review(h, author.id, "APPROVED");
    await expectDenied(h, "context_pr_not_approved");
  });

  it.each([
    ["maintain (the API reports write)", "maintain", 200],
    ["admin", "admin", 200],
    ["a custom role on maintain", { custom: "releaser", base: "maintain" }, 200],
    ["triage (the API reports read)", "triage", 403],
    ["a custom role on read, whatever its name", { custom: "write-reviewer", base: "read" }, 403],
  ] as const)("%s", async (_label, role, status) => {
    const h = await createHarness();
    h.github.setPermission(repository, reviewer.id, role);
    expect((await h.request(await h.mint())).status).toBe(status);
  });

  it("write access is read at decision time: removed, the approval stops counting once the fact cache expired", async () => {
    const h = await createHarness();
    expect((await h.request(await h.mint())).status).toBe(200);
    h.github.setPermission(repository, reviewer.id, "read");
    expect((await h.request(await h.mint())).status).toBe(200);
    h.advance(GITHUB_FACT_CACHE_MS + 1);
    await expectDenied(h, "context_approval_not_writer");
  });

  it("a pull_request token: the open pull request's approvals count from writers only", async () => {
    const h = await createHarness({ ...NO_FACT_CACHE, policy: policyRequiring({ pullRequest: { approvals: 1 } }) });
    const token = openPullRequest(h);
    h.github.addReview(repository, 7, { userId: reader.id, state: "APPROVED", commitId: PR_HEAD });
    await expectDenied(h, "context_approval_not_writer", await token(), "app-requirements");
    h.github.addReview(repository, 7, { userId: reviewer.id, state: "APPROVED", commitId: PR_HEAD });
    expect((await h.request(await token())).status).toBe(200);
  });
});

describe("a writer's standing change request blocks", () => {
  it("until that writer approves, or the review is dismissed", async () => {
    const h = await createHarness(NO_FACT_CACHE);
    const request = review(h, writer.id, "CHANGES_REQUESTED");
    await expectDenied(h, "context_changes_requested");
    h.github.dismissReview(repository, pullNumber, request);
    expect((await h.request(await h.mint())).status).toBe(200);
    review(h, writer.id, "CHANGES_REQUESTED");
    await expectDenied(h, "context_changes_requested");
    // A comment changes nothing; a later approval by the same writer lifts it (and counts).
    review(h, writer.id, "COMMENTED");
    await expectDenied(h, "context_changes_requested");
    review(h, writer.id, "APPROVED");
    expect((await h.request(await h.mint())).status).toBe(200);
    expectAudit(h, { outcome: "issued" });
  });

  it("even a stale one (given on an earlier head), as on GitHub", async () => {
    const h = await createHarness();
    review(h, writer.id, "CHANGES_REQUESTED", "0".repeat(40));
    await expectDenied(h, "context_changes_requested");
  });

  it("an approval withdrawn by the same writer's later change request", async () => {
    const h = await createHarness();
    review(h, reviewer.id, "CHANGES_REQUESTED");
    const event = await expectDenied(h, "context_changes_requested");
    expect(event.context_facts).toContain(`changes requested by ${reviewer.login}`);
  });

  it("a change request by someone without write access (a drive-by on a public repository) does not block", async () => {
    const h = await createHarness();
    review(h, reader.id, "CHANGES_REQUESTED");
    h.github.addUser({ id: 77, login: "drive-by" });
    review(h, 77, "CHANGES_REQUESTED");
    expect((await h.request(await h.mint())).status).toBe(200);
  });
});

describe("rulesets: the branch's active rulesets must enforce reviews", () => {
  const rule = (parameters: Record<string, unknown>, id = 42) => ({
    type: "pull_request",
    ruleset_id: id,
    parameters: {
      required_approving_review_count: 1,
      dismiss_stale_reviews_on_push: false,
      require_last_push_approval: false,
      require_code_owner_review: false,
      required_review_thread_resolution: false,
      ...parameters,
    },
  });

  it("met when a pull_request rule of the branch requires the approvals; denied without, or with fewer guarantees", async () => {
    const h = await createHarness({
      ...NO_FACT_CACHE,
      policy: policyRequiring({ rulesets: { approvals: 1, lastPushApproval: true } }, "push"),
    });
    await expectDenied(h, "context_reviews_not_enforced", undefined, "app-requirements");
    h.github.setBranchRules(repository, "main", [{ type: "deletion", ruleset_id: 41 }, rule({})]);
    const event = await expectDenied(h, "context_reviews_not_enforced", undefined, "app-requirements");
    expect(event.context_facts).toContain("rulesets on main: 1 approval(s) (ruleset 42)");
    h.github.setBranchRules(repository, "main", [
      rule({}),
      rule({ required_approving_review_count: 0, require_last_push_approval: true }, 43),
    ]);
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.github.calls.branch_rules).toBe(3);
  });

  it("a pull_request token: the rulesets of its base branch", async () => {
    const h = await createHarness({ policy: policyRequiring({ rulesets: { approvals: 2 } }) });
    const token = openPullRequest(h);
    h.github.setBranchRules(repository, "main", [rule({ required_approving_review_count: 2 })]);
    expect((await h.request(await token())).status).toBe(200);
  });
});
