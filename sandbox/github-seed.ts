// The facts the sandbox's fake GitHub API starts with for the sandbox token's commit (the policy's default repository,
// sha and branch, sandbox-facts.ts), and the approvals both the start and `npm run sandbox -- github approve` write.
import { EXAMPLE_FACTS, EXAMPLE_GRANT_REPOSITORIES, EXAMPLE_USERS, type FakeGitHub } from "./fakes/fake-github-api.ts";
import { factApp, sandboxReviewers, type SandboxFacts, type SandboxUser } from "./sandbox-facts.ts";

/** When a forged or earlier review is on no head of the pull request. */
const EARLIER_HEAD = "0".repeat(40);

/** Every account the sandbox's commands use, with their role on the sandbox repository. */
const accounts = (facts: SandboxFacts): SandboxUser[] => [
  ...Object.values(EXAMPLE_USERS),
  ...sandboxReviewers(facts.approvals).slice(1),
];

/**
 * What the fake reports at start: the App installed on the repository, its users (writers, a reader, a bot), every
 * required job completed with an accepted conclusion in the token's own run and in each pinned workflow's run on the
 * commit, every required App check run, the pull request merged as that commit with the approvals required, and the
 * branch's rulesets when a rule requires them.
 */
export function seedSandboxFacts(github: FakeGitHub, facts: SandboxFacts): void {
  const { pullNumber, authorId, headSha } = EXAMPLE_FACTS;
  const { repository, sha, branch } = facts;
  const headBranch = branch === "" ? {} : { headBranch: branch };
  github.addRepository(repository, facts.repositoryId);
  // The example's GitHub token grant repositories (not yet derived from the policy's githubTokens).
  for (const grant of Object.values(EXAMPLE_GRANT_REPOSITORIES))
    github.addRepository(grant.name, grant.id, { installed: false });
  for (const user of accounts(facts)) {
    github.addUser({ id: user.id, login: user.login, type: user.id === EXAMPLE_USERS.bot.id ? "Bot" : "User" });
    github.setPermission(repository, user.id, user.role);
  }
  const run = facts.run;
  if (run !== undefined)
    github.addWorkflowRun({
      repository,
      id: run.id,
      event: run.event,
      headSha: sha,
      ...headBranch,
      path: run.workflow,
      jobs: run.jobs,
    });
  for (const pinned of facts.runs)
    github.addWorkflowRun({
      repository,
      event: pinned.event,
      headSha: sha,
      ...headBranch,
      path: pinned.workflow,
      jobs: pinned.jobs,
    });
  for (const check of facts.checks)
    github.addCheckRun({
      repository,
      sha,
      name: check.name,
      app: factApp(check.app),
      status: "completed",
      conclusion: check.conclusion,
    });
  github.addPullRequest({
    repository,
    number: pullNumber,
    authorId,
    headSha,
    baseRef: branch,
    state: "closed",
    mergedAt: "2026-11-25T11:30:00Z",
    mergeCommitSha: sha,
    commits: [headSha],
  });
  approve(github, facts, undefined);
  const rulesets = facts.rulesets;
  if (rulesets !== undefined) {
    const parameters = {
      required_approving_review_count: rulesets.approvals,
      require_last_push_approval: rulesets.lastPushApproval,
      dismiss_stale_reviews_on_push: rulesets.dismissStaleReviews,
    };
    github.setBranchRules(repository, branch, [{ type: "pull_request", ruleset_id: 1, parameters }]);
  }
}

export /** Approvals by the writers the facts need (at least one), on the head or an earlier one; or by the reader or the bot. */
function approve(github: FakeGitHub, facts: SandboxFacts, flag: string | undefined): string {
  const by =
    flag === "--reader"
      ? [EXAMPLE_USERS.reader]
      : flag === "--bot"
        ? [EXAMPLE_USERS.bot]
        : sandboxReviewers(Math.max(1, facts.approvals));
  for (const user of by)
    github.addReview(facts.repository, EXAMPLE_FACTS.pullNumber, {
      userId: user.id,
      state: "APPROVED",
      commitId: flag === "--stale" ? EARLIER_HEAD : EXAMPLE_FACTS.headSha,
    });
  const how =
    flag === "--stale"
      ? " on an earlier head (stale)"
      : flag === "--reader"
        ? " (read access only)"
        : flag === "--bot"
          ? " (a bot)"
          : "";
  return `pull request #${EXAMPLE_FACTS.pullNumber}: approved by ${by.map((user) => user.login).join(", ")}${how}`;
}
