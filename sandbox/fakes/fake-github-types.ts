// The fake GitHub API's public shape (fake-github-api.ts): its endpoints and the permission each needs, the faults it
// can inject, the records tests add, and what a test can do with it. Pure declarations.
import type { Widening } from "./fake-github-apps.ts";
import type { InstallationToken } from "./fake-github-tokens.ts";
import type { FakeCheckRun, JobInput, RunStatus, WorkflowRunInput } from "./fake-github-actions.ts";

export type Endpoint =
  | "installation"
  | "org_installation"
  | "user_installation"
  | "access_tokens"
  | "revoke_token"
  | "repository"
  | "check_runs"
  | "commit_pulls"
  | "pull"
  | "reviews"
  | "workflow_run"
  | "workflow_runs"
  | "jobs"
  | "collaborator_permission"
  | "branch_rules";

export type RepositoryEndpoint = Exclude<
  Endpoint,
  "installation" | "org_installation" | "user_installation" | "access_tokens" | "revoke_token"
>;

/** The repository permission each endpoint needs ("Permissions required for GitHub Apps"). */
export const PERMISSION_OF: Record<RepositoryEndpoint, string> = {
  repository: "metadata",
  check_runs: "checks",
  commit_pulls: "pull_requests",
  pull: "pull_requests",
  reviews: "pull_requests",
  workflow_run: "actions",
  workflow_runs: "actions",
  jobs: "actions",
  collaborator_permission: "metadata",
  branch_rules: "metadata",
};

/** What the broker's App is granted by default (docs/github-facts.md): read-only, these four. */
export const DEFAULT_APP_PERMISSIONS: Readonly<Record<string, string>> = {
  actions: "read",
  checks: "read",
  pull_requests: "read",
  metadata: "read",
};

/**
 * A failure to inject: an HTTP status, a call that never answers, a body that is not JSON, a rate limit, a redirect.
 */
export type GitHubFault =
  | { kind: "status"; status: number }
  | { kind: "hang" }
  | { kind: "malformed" }
  | { kind: "rate_limited"; secondary?: boolean; retryAfterSeconds?: number }
  | { kind: "redirect"; status: 301 | 302 | 307 | 308; location: string };

export interface FakePullRequest {
  repository: string;
  number: number;
  authorId: number;
  headSha: string;
  baseRef: string;
  state: "open" | "closed";
  mergedAt: string | null;
  mergeCommitSha: string | null;
  /** Commits of the pull request (commits/{sha}/pulls lists it for these and its merge commit). */
  commits: string[];
}

export interface FakeReview {
  id: number;
  userId: number;
  state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";
  commitId: string;
}

/** A repository role: the base roles, or a custom role on top of a base one (its `role_name` is the custom name). */
export type RepositoryRole =
  | "admin"
  | "maintain"
  | "write"
  | "triage"
  | "read"
  | "none"
  | { custom: string; base: "read" | "triage" | "write" | "maintain" };

/** One active rule of a branch, as GET .../rules/branches/{branch} lists it. */
export interface FakeBranchRule {
  type: string;
  ruleset_id: number;
  parameters?: Record<string, unknown>;
}

export interface FakeGitHubOptions {
  /** The App's id (`iss` of its JWTs) and public key. */
  appId: string;
  appPublicKey: CryptoKey;
  now: () => number;
  /** Path prefix the API lives under (GHES: `/api/v3`; the sandbox: `/github`). */
  basePath?: string;
  /** Largest page the fake serves (GitHub: per_page at most 100); smaller in tests to exercise pagination. */
  maxPageSize?: number;
  /** Repository permissions the App was granted (default DEFAULT_APP_PERMISSIONS). */
  appPermissions?: Readonly<Record<string, string>>;
  /**
   * A second App: the broker's write-capable token App (docs/github-tokens.md), installed on every owner's
   * repositories unless `setTokenAppInstalled(…, false)`. Its tokens are `tokenAppTokens`.
   */
  tokenApp?: { appId: string; appPublicKey: CryptoKey; permissions: Readonly<Record<string, string>> };
}

export interface FakeGitHub {
  handler(request: Request): Promise<Response>;
  /** Calls per endpoint (every request, answered or not). */
  readonly calls: Record<Endpoint, number>;
  resetCalls(): void;
  /** A repository; the App's installation is one per owner (installed on it unless `installed: false`). */
  addRepository(fullName: string, id: number, options?: { installed?: boolean }): void;
  /** Adds the repository to its owner's installation, or removes it (as "Only select repositories" does). */
  setInstalled(fullName: string, installed: boolean): void;
  /**
   * The repository renamed or transferred (same id, new `owner/name`): its former name answers 301 to
   * `/repositories/{id}` until another repository takes it. Its runs, check runs, pulls, reviews and roles follow it.
   */
  renameRepository(fullName: string, newFullName: string): void;
  /** The App uninstalled and installed anew on the owner: a new installation id; tokens of the old one see nothing. */
  reinstall(fullName: string): void;
  addCommit(repository: string, sha: string): void;
  /** A workflow run (a check suite of GitHub Actions); each job is also a check run. Returns its id. */
  addWorkflowRun(run: WorkflowRunInput): number;
  /** A new attempt of a run: its jobs (default: the last attempt's, queued) replace the old ones in `filter=latest`. */
  rerunWorkflowRun(runId: number, jobs?: readonly JobInput[]): void;
  /** Sets the status (and conclusion) of the latest attempt's job of that name. */
  setJob(runId: number, name: string, status: RunStatus, conclusion?: string | null): void;
  /** A check run created through the Checks API; GitHub Actions' is filed in the commit's newest Actions suite. */
  addCheckRun(run: Omit<FakeCheckRun, "id" | "checkSuiteId">): number;
  /** Removes the API-created check runs of that name (or all) on that commit. */
  clearCheckRuns(repository: string, sha: string, name?: string): void;
  /** Removes the workflow runs (and so their jobs) of that workflow file (or all) on that commit. */
  clearWorkflowRuns(repository: string, sha: string, path?: string): void;
  /** Adds a pull request, or replaces the one of that number (its state now). */
  addPullRequest(pull: FakePullRequest): void;
  /** Returns the review's id. */
  addReview(repository: string, number: number, review: Omit<FakeReview, "id">): number;
  /** As "Dismiss a review for a pull request": the review's state becomes DISMISSED. */
  dismissReview(repository: string, number: number, reviewId: number): void;
  clearReviews(repository: string, number: number): void;
  /** A user account (`type` "User" or "Bot"); unknown ids are `user<id>`, type User. */
  addUser(user: { id: number; login: string; type?: "User" | "Bot" }): void;
  /** The user's role on the repository (`author_association` follows it unless given). */
  setPermission(repository: string, userId: number, role: RepositoryRole, association?: string): void;
  /** The active rules of a branch (its rulesets'). */
  setBranchRules(repository: string, branch: string, rules: readonly FakeBranchRule[]): void;
  /** Every later call to `endpoint` (or all) fails this way until `fail(null)`; `times` limits it. */
  fail(fault: GitHubFault | null, options?: { endpoint?: Endpoint; times?: number }): void;
  /** Primary rate limit left for installation tokens (default 5000). */
  setRateRemaining(remaining: number): void;
  /** Mint stateless installation tokens (`ghs_` + JWT) from now on. */
  setStatelessTokens(on: boolean): void;
  /** Takes a repository out of the token App's installation ("Only select repositories"), or puts it back. */
  setTokenAppInstalled(fullName: string, installed: boolean): void;
  /** The account is a user, not an organization: GET /orgs/{login}/installation answers 404 for it. */
  setUser(login: string): void;
  /** The token App's access_tokens answer (and token) reach beyond the request from now on (null: as asked). */
  widenTokens(widening: Widening | null): void;
  /** Installation tokens the token App minted so far, oldest first. */
  readonly tokenAppTokens: readonly InstallationToken[];
  /** Installation tokens of the facts App minted so far, oldest first (their scope and permissions). */
  readonly tokens: readonly InstallationToken[];
  readonly tokensIssued: number;
}
