// GitHub Actions (github.com, enterprise-slug issuers, GHE.com, GHES): its claims, defaults, session naming and tags,
// guard facts, kill-switch keys and web-identity subject (platform.ts says what each is for). Pure; no I/O; no clock.
import * as z from "zod/mini";
import { GITHUB_DEFAULT_API_URL } from "./constants.ts";
import { claimString, digits, optionalText, text } from "./claim-shapes.ts";
import type { CiPlatform, ClaimSessionTag } from "./platform.ts";

/**
 * GitHub Actions OIDC token claims, typed as GitHub issues them (all strings).
 * https://docs.github.com/en/actions/reference/security/oidc#oidc-token-claims
 */
export interface GitHubClaims {
  sub: string;
  repository: string;
  repository_id: string;
  repository_owner: string;
  repository_owner_id: string;
  ref: string;
  sha: string;
  workflow: string;
  event_name: string;
  actor: string;
  actor_id: string;
  run_id: string;
  run_number: string;
  run_attempt: string;
  ref_type?: string | undefined;
  ref_protected?: string | undefined;
  head_ref?: string | undefined;
  base_ref?: string | undefined;
  environment?: string | undefined;
  job_workflow_ref?: string | undefined;
  job_workflow_sha?: string | undefined;
  workflow_ref?: string | undefined;
  workflow_sha?: string | undefined;
  repository_visibility?: string | undefined;
  runner_environment?: string | undefined;
  enterprise?: string | undefined;
  enterprise_id?: string | undefined;
  check_run_id?: string | undefined;
}

// z.object strips keys it does not list (zod 4 default), so unknown claims never reach the policy.
export const GitHubClaimsSchema: z.ZodMiniType<GitHubClaims> = z.object({
  sub: text,
  repository: text,
  repository_id: digits,
  repository_owner: text,
  repository_owner_id: digits,
  ref: text,
  sha: text,
  workflow: text,
  event_name: text,
  actor: text,
  actor_id: digits,
  run_id: digits,
  run_number: digits,
  run_attempt: digits,
  ref_type: optionalText,
  ref_protected: optionalText,
  head_ref: optionalText,
  base_ref: optionalText,
  environment: optionalText,
  job_workflow_ref: optionalText,
  job_workflow_sha: optionalText,
  workflow_ref: optionalText,
  workflow_sha: optionalText,
  repository_visibility: optionalText,
  runner_environment: optionalText,
  enterprise: optionalText,
  enterprise_id: z.optional(digits),
  check_run_id: z.optional(digits),
});

/** The verified GitHub Actions claims session naming and tagging read (a structural subset of `GitHubClaims`). */
export type GitHubSessionClaims = Pick<
  GitHubClaims,
  | "repository"
  | "repository_id"
  | "repository_owner"
  | "repository_owner_id"
  | "ref"
  | "sha"
  | "workflow"
  | "event_name"
  | "actor"
  | "actor_id"
  | "run_id"
  | "run_attempt"
  | "environment"
  | "job_workflow_ref"
  | "runner_environment"
>;

/**
 * The session tags of a GitHub session: tag key -> claim. Target-role trust policies condition on these
 * (`aws:RequestTag/<Key>` in the trust policy, `aws:PrincipalTag/<Key>` afterwards); docs/aws.md lists them.
 * Prefer the *Id tags in policies: names can be renamed, ids cannot.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
 */
export const GITHUB_SESSION_TAGS = [
  { key: "Repository", claim: "repository", optional: false },
  { key: "RepositoryId", claim: "repository_id", optional: false },
  { key: "RepositoryOwner", claim: "repository_owner", optional: false },
  { key: "RepositoryOwnerId", claim: "repository_owner_id", optional: false },
  { key: "Ref", claim: "ref", optional: false },
  { key: "Sha", claim: "sha", optional: false },
  { key: "Workflow", claim: "workflow", optional: false },
  { key: "EventName", claim: "event_name", optional: false },
  { key: "Actor", claim: "actor", optional: false },
  { key: "ActorId", claim: "actor_id", optional: false },
  { key: "RunId", claim: "run_id", optional: false },
  { key: "RunAttempt", claim: "run_attempt", optional: false },
  { key: "Environment", claim: "environment", optional: true },
  { key: "JobWorkflowRef", claim: "job_workflow_ref", optional: true },
  { key: "RunnerEnvironment", claim: "runner_environment", optional: true },
] as const satisfies ReadonlyArray<ClaimSessionTag & { claim: keyof GitHubSessionClaims }>;

/** The claims a rule may match on (policy/types.ts's GitHubMatch; policy/claim-keys.ts holds them in step). */
export const GITHUB_MATCH_KEYS = [
  "repository",
  "repository_id",
  "repository_owner",
  "repository_owner_id",
  "repository_visibility",
  "ref",
  "ref_type",
  "ref_protected",
  "base_ref",
  "head_ref",
  "event_name",
  "environment",
  "workflow",
  "workflow_ref",
  "workflow_sha",
  "job_workflow_ref",
  "job_workflow_sha",
  "actor",
  "actor_id",
  "sub",
  "runner_environment",
  "enterprise",
  "enterprise_id",
] as const;

/** github.com's issuer; enterprise-slug issuers are `<this>/<slug>` (the same github.com accounts). */
export const GITHUB_COM_ISSUER = "https://token.actions.githubusercontent.com";

/**
 * The REST API of a GitHub issuer (docs.github.com, "About the REST API" per product): github.com and enterprise-slug
 * issuers -> https://api.github.com; GHE.com (token.actions.SUBDOMAIN.ghe.com) -> https://api.SUBDOMAIN.ghe.com;
 * GHES (https://HOST/_services/token) -> https://HOST/api/v3. Anything else must be configured.
 */
export function defaultGitHubApiUrl(issuer: string): string | undefined {
  if (issuer === GITHUB_COM_ISSUER || issuer.startsWith(`${GITHUB_COM_ISSUER}/`)) return GITHUB_DEFAULT_API_URL;
  const url = new URL(issuer);
  const ghe = /^token\.actions\.([a-z0-9-]+)\.ghe\.com$/.exec(url.hostname);
  if (ghe !== null) return `https://api.${ghe[1]}.ghe.com`;
  if (url.pathname === "/_services/token") return `${url.origin}/api/v3`;
  return undefined;
}

/** github.com and GHES usernames: alphanumerics and hyphens. */
const GITHUB_LOGIN = /^[A-Za-z0-9-]*$/;
/** An App's bot account `<slug>[bot]`, written `<slug>_bot_` (no GitHub login holds `_`, so none can be it). */
const GITHUB_APP_BOT = /^([A-Za-z0-9-]+)\[bot\]$/;

export const github: CiPlatform<GitHubClaims> = {
  claims: GitHubClaimsSchema,
  // GitHub's discovery document: RS256 only.
  defaultAlgorithms: ["RS256"],
  githubApi: { defaultUrl: defaultGitHubApiUrl },
  subject: (c) => ({
    repository: c.repository,
    repositoryId: c.repository_id,
    owner: c.repository_owner,
    ownerId: c.repository_owner_id,
    actor: c.actor,
    actorId: c.actor_id,
    ref: c.ref,
    event: c.event_name,
  }),
  matchKeys: {
    all: GITHUB_MATCH_KEYS,
    ids: ["repository_id", "repository_owner_id", "actor_id", "enterprise_id"],
    scope: ["repository", "repository_id", "repository_owner", "repository_owner_id"],
    ownerFixed: ["repository", "repository_owner"],
    nameIds: [
      ["repository", "repository_id"],
      ["repository_owner", "repository_owner_id"],
    ],
    index: ["repository", "repository_id", "repository_owner", "repository_owner_id"],
    caseInsensitive: ["repository", "repository_owner", "actor", "environment"],
  },
  guards: {
    eventClaim: "event_name",
    // Only writers start these; issue_comment, workflow_run, repository_dispatch, ... outsiders can (docs/security.md).
    trustedEvents: new Set(["push", "workflow_dispatch", "schedule", "release", "merge_group", "deployment"]),
    runsForkCodeWithSecrets: (claims) => claimString(claims, "event_name") === "pull_request_target",
    hostedRunner: (claims) => claimString(claims, "runner_environment") === "github-hosted",
    pullRequestRun: (claims) => (claimString(claims, "ref") ?? "").startsWith("refs/pull/"),
    // The environment must be one the rule names (and so the operator protected): any workflow can name a new
    // environment, which GitHub then creates without protection rules.
    protectedRef: (claims, namesEnvironment) =>
      claimString(claims, "ref_protected") === "true" ||
      (namesEnvironment && (claimString(claims, "environment") ?? "") !== ""),
  },
  sessionTags: GITHUB_SESSION_TAGS,
  identity: {
    isSaasIssuer: (issuer) => issuer === GITHUB_COM_ISSUER || issuer.startsWith(`${GITHUB_COM_ISSUER}/`),
    saasPrefix: "gh-",
    instancePrefix: "ghe",
    plainLogin: (login) => {
      if (GITHUB_LOGIN.test(login)) return login;
      const bot = GITHUB_APP_BOT.exec(login);
      return bot === null ? undefined : `${bot[1]}_bot_`;
    },
    nameIds: (claims) => [claims.run_id, claims.run_attempt],
    repositoryClaim: "repository",
    actorClaim: "actor",
  },
  killSwitch: { repository: "repo", owner: "owner", actor: "actor", owners: (owner) => [owner] },
  // github.com's subjects carry no issuer prefix: the common case reads as `repo:owner/name:...`.
  webIdentity: { noun: "repo", unprefixedIssuer: (issuer) => issuer === GITHUB_COM_ISSUER },
};
