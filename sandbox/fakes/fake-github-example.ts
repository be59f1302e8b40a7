// What the fake GitHub API reports for the test policy (test/fixtures/policies/index.ts, a copy of the example in
// policies/index.ts) and the sandbox token: acme/app, a push of the token's commit to main. acme-app-main-deploy
// requires
// a successful `dependency-review` job of .github/workflows/dependency-review.yml's push run on that commit, and a
// merged
// pull request approved by a writer.
import type { FakeGitHub } from "./fake-github-types.ts";

/** The merged pull request behind acme-app-main-deploy: #12, approved by user 2 (a writer) on its head. */
export const EXAMPLE_FACTS = {
  repository: "acme/app",
  repositoryId: 874563210,
  pullNumber: 12,
  authorId: 1,
  reviewerId: 2,
  headSha: "4a7e0c3b9d1f2e5a6b7c8d9e0f1a2b3c4d5e6f70",
  /** The token's own run (`run_id` of githubClaims() and the sandbox token), of .github/workflows/ci.yml. */
  runId: 11122233344,
  /** The scan workflow's push run on the token's commit. */
  scanRunId: 11122233300,
} as const;

/**
 * The repositories the example policy's GitHub token grants name (homebrew-tap, private-deps): in the token App's
 * installation only; the read-only facts App is not installed on them (no rule requires facts of them).
 */
export const EXAMPLE_GRANT_REPOSITORIES = {
  homebrewTap: { name: "acme/homebrew-tap", id: 874563300 },
  privateLib: { name: "acme/private-lib", id: 874563301 },
} as const;

/** What the token App is granted for the example policy's grants (docs/github-tokens.md, "Create the token App"). */
export const EXAMPLE_TOKEN_APP_PERMISSIONS = { contents: "write", pull_requests: "write", metadata: "read" } as const;

/** The pinned scan workflow of the example policy. */
export const SCAN_WORKFLOW = ".github/workflows/dependency-review.yml";

/** Accounts the example facts and the sandbox's `github` command use, with their role on acme/app. */
export const EXAMPLE_USERS = {
  author: { id: 1, login: "alice", role: "write" },
  reviewer: { id: 2, login: "bob", role: "maintain" },
  /** A second writer, who requests changes in the sandbox. */
  writer: { id: 3, login: "carol", role: "admin" },
  /** An organisation member who can only read (author_association MEMBER all the same). */
  reader: { id: 5, login: "dave", role: "read" },
  /** The account GitHub Actions approves as when "Allow GitHub Actions to create and approve pull requests" is on. */
  bot: { id: 41898282, login: "github-actions[bot]", role: "none" },
} as const;

/**
 * Facts that satisfy the test policy (test/fixtures/policies/index.ts, a copy of the example) for a push of `sha` to
 * acme/app main: the App installed, the token's own run
 * (ci.yml, with a passing dependency-review job too), the pinned scan workflow's push run with a passing job, and
 * merged pull request #12 with one approval on its head by a writer.
 */
export function seedExampleFacts(github: FakeGitHub, sha: string): void {
  const { repository, repositoryId, pullNumber, authorId, reviewerId, headSha, runId, scanRunId } = EXAMPLE_FACTS;
  github.addRepository(repository, repositoryId);
  for (const grantRepository of Object.values(EXAMPLE_GRANT_REPOSITORIES))
    github.addRepository(grantRepository.name, grantRepository.id, { installed: false });
  for (const user of Object.values(EXAMPLE_USERS)) {
    github.addUser({ id: user.id, login: user.login, type: user === EXAMPLE_USERS.bot ? "Bot" : "User" });
    github.setPermission(repository, user.id, user.role);
  }
  github.addWorkflowRun({
    repository,
    id: runId,
    event: "push",
    headSha: sha,
    headBranch: "main",
    path: ".github/workflows/ci.yml",
    jobs: [{ name: "dependency-review" }, { name: "deploy", status: "in_progress" }],
  });
  github.addWorkflowRun({
    repository,
    id: scanRunId,
    event: "push",
    headSha: sha,
    headBranch: "main",
    path: SCAN_WORKFLOW,
    jobs: [{ name: "dependency-review" }],
  });
  github.addPullRequest({
    repository,
    number: pullNumber,
    authorId,
    headSha,
    baseRef: "main",
    state: "closed",
    mergedAt: "2026-11-25T11:30:00Z",
    mergeCommitSha: sha,
    commits: [headSha],
  });
  github.addReview(repository, pullNumber, { userId: reviewerId, state: "APPROVED", commitId: headSha });
}
