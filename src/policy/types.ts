// The types an organisation writes its policy against (see policies/); a rule's `require` is in requirement-types.ts,
// re-exported here, so this stays the one module authors and the broker import. Pure declarations.
// A policy is data plus optional predicates: compiled once per isolate, evaluated per request.
import type { ClaimsByKind, IssuerKind } from "../platforms/index.ts";
import type { GithubRepositoryPermission, REPOSITORY_PERMISSIONS } from "./github-permissions.ts";
import type { Requirements } from "./requirement-types.ts";

export type {
  AppCheckRequirement,
  CheckConclusion,
  CheckRequirement,
  JobRequirement,
  PinnedRunEvent,
  PullRequestRequirement,
  Requirements,
  RulesetRequirement,
} from "./requirement-types.ts";

/**
 * A claim matcher: an exact string, or an anchored glob (`*` within one path segment, `**` across). Compared as
 * typed exact values: no case folding, no Unicode normalisation; a claim that is not a string never matches.
 */
export type Pattern = string;
/** One pattern, or a list meaning "any of". */
export type Patterns = Pattern | readonly Pattern[];
/**
 * A numeric id as the issuer sends it: a string of decimal digits (`"874563210"`). Exact values only, never globs:
 * ids survive renames and transfers, so a recycled name inherits nothing.
 */
export type Id = string;
export type Ids = Id | readonly Id[];

/** What a role grants: the role to assume and the limits of the session. */
export interface RoleDefinition {
  /** `arn:aws:iam::<12-digit account>:role/<path/name>`. Never sent to clients. */
  arn: string;
  /** Longest DurationSeconds a request may ask for (900..43200). Defaults to 900. */
  maxDurationSeconds?: number;
  /**
   * A role that can change production. Rules granting it are held to the privileged guards: a protected ref or a
   * named deployment environment, and never a pull/merge request ref. `policy:check` also insists on id pins.
   */
  privileged?: boolean;
  /** Inline session policy (an IAM policy document); further narrows the role. At most 2048 characters as JSON. */
  sessionPolicy?: Record<string, unknown>;
  /**
   * Managed policies that further narrow the session (`PolicyArns`): at most 10,
   * `arn:aws:iam::<account|aws>:policy/...`.
   */
  managedPolicyArns?: readonly string[];
  /** Extra session tags, fixed by the operator (keys must not collide with the broker's claim tags). */
  sessionTags?: Record<string, string>;
  /** Keys of `sessionTags` that survive role chaining (the broker's claim tags always do). */
  transitiveTagKeys?: readonly string[];
  /** `ExternalId` for the AssumeRole call, when the role's trust policy requires one (2..1224 chars). */
  externalId?: string;
}

/**
 * Repository permissions as GitHub names them, each at one of the levels GitHub accepts for it
 * (src/policy/github-permissions.ts).
 */
export type GithubPermissions = {
  readonly [Name in GithubRepositoryPermission]?: (typeof REPOSITORY_PERMISSIONS)[Name][number];
};

/**
 * A GitHub token grant: what an installation token of the broker's token App may reach (docs/github-tokens.md).
 * A token names its repositories and permissions exactly; GitHub refuses it anything wider.
 */
export interface GithubTokenDefinition {
  /** The account (organization or user) that owns the repositories: the App's installation is looked up by it. */
  owner: string;
  /** At least one repository of `owner`: bare names (`homebrew-tap`) or `owner/name` with the same owner. No globs. */
  repositories: readonly string[];
  /**
   * Repository permissions and levels, GitHub's names (`contents: "write"`). Owner-wide ones (`members`,
   * `organization_*`, user permissions) are refused. Any `write`/`admin` makes the grant privileged.
   */
  permissions: GithubPermissions;
  /**
   * Required, with a reason a reviewer can judge, when a permission reaches beyond contents (`administration`,
   * `secrets`, `dependabot_secrets`, `workflows`, `actions`, `environments`, `repository_hooks` with write).
   */
  dangerous?: { reason: string };
  /** What the grant is for: for reviewers of the policy file (nothing prints it). */
  description?: string;
}

/** The GitHub Actions claims a rule can match on (github.com, enterprise-slug issuers, GHE.com, GHES). */
export interface GitHubMatch {
  repository?: Patterns;
  repository_id?: Ids;
  repository_owner?: Patterns;
  repository_owner_id?: Ids;
  repository_visibility?: Patterns;
  ref?: Patterns;
  ref_type?: Patterns;
  /** `"true"` when the ref is protected (branch protection or rulesets). */
  ref_protected?: Patterns;
  base_ref?: Patterns;
  head_ref?: Patterns;
  event_name?: Patterns;
  environment?: Patterns;
  workflow?: Patterns;
  workflow_ref?: Patterns;
  workflow_sha?: Patterns;
  /** The reusable workflow the job runs; pinning it requires exact values and `repository_owner_id` (the caller). */
  job_workflow_ref?: Patterns;
  job_workflow_sha?: Patterns;
  actor?: Patterns;
  actor_id?: Ids;
  sub?: Patterns;
  runner_environment?: Patterns;
  enterprise?: Patterns;
  enterprise_id?: Ids;
}

/**
 * The GitLab CI/CD ID token claims a rule can match on. GitLab's `ref` is bare (`main`); `ref_path` is
 * `refs/heads/main`.
 */
export interface GitLabMatch {
  project_path?: Patterns;
  project_id?: Ids;
  namespace_path?: Patterns;
  namespace_id?: Ids;
  project_visibility?: Patterns;
  ref?: Patterns;
  ref_type?: Patterns;
  ref_path?: Patterns;
  ref_protected?: Patterns;
  pipeline_source?: Patterns;
  environment?: Patterns;
  environment_protected?: Patterns;
  deployment_tier?: Patterns;
  environment_action?: Patterns;
  user_login?: Patterns;
  user_id?: Ids;
  user_access_level?: Patterns;
  runner_environment?: Patterns;
  ci_config_ref_uri?: Patterns;
  ci_config_sha?: Patterns;
  sub?: Patterns;
  job_project_path?: Patterns;
  job_project_id?: Ids;
  job_namespace_path?: Patterns;
  job_namespace_id?: Ids;
}

export interface MatchByKind {
  github: GitHubMatch;
  gitlab: GitLabMatch;
}

/**
 * Per-rule opt-outs of the built-in guards. Every guard is on unless the rule names its opt-out, so a reviewer
 * can grep for `allow` to find every exception. Deny rules take no opt-outs.
 */
export interface GuardOptOuts {
  /** Let `pull_request_target` events match (they run with the base repository's secrets on fork PRs). */
  allowPullRequestTarget?: true;
  /**
   * Let self-hosted runners match (`runner_environment` other than github-hosted / gitlab-hosted). GHES and
   * self-managed GitLab need it.
   */
  allowSelfHostedRunners?: true;
  /** Privileged roles only: let `refs/pull/*` refs (GitHub) or merge-request pipelines (GitLab) match. */
  allowPullRequestRefs?: true;
  /** Privileged roles only: let an unprotected ref without a named (GitHub) or protected (GitLab) environment match. */
  allowUnprotectedRefs?: true;
  /** Compile-time: let a rule pin `job_workflow_ref` without pinning the caller's `repository_owner_id`. */
  allowAnyWorkflowCaller?: true;
}

/** Roles a rule grants: role names, or `{ alias: roleName }` when clients ask for a role by a shorter alias. */
export type RuleRoles = readonly string[] | Readonly<Record<string, string>>;

export interface RuleDefinition<IssuerId extends string = string, Kind extends IssuerKind = IssuerKind>
  extends GuardOptOuts {
  /** Stable id: appears in logs, audit events and `policy:explain`. */
  id: string;
  /** What the rule is for: for reviewers of the policy file (nothing prints it). */
  description?: string;
  /** `deny` rules are evaluated first and win over any allow. Default `allow`. */
  effect?: "allow" | "deny";
  /** Issuer id (a key of the policy's `issuers`, default "github"). A rule never matches another issuer's token. */
  issuer?: IssuerId;
  /** Every listed claim must match; an absent claim never matches. */
  match: MatchByKind[Kind];
  /**
   * For what matchers cannot say. Runs after every matcher held; must be pure and fast. A predicate that throws
   * makes an allow rule not match and a deny rule match (fail closed).
   */
  when?(claims: Readonly<ClaimsByKind[Kind]>): boolean;
  /** Roles this rule grants (allow rules only). */
  roles?: RuleRoles;
  /**
   * Names of the policy's `githubTokens` this rule grants (allow rules only): a client asks for one by name at
   * `POST /v1/github-token`. A privileged grant (any write) is held to the privileged guards, as a privileged role is.
   */
  githubTokens?: readonly string[];
  /**
   * Privileged roles only: events (GitHub `event_name`) or pipeline sources (GitLab `pipeline_source`) beyond the
   * trusted default (push, workflow_dispatch, schedule, release, merge_group, deployment; GitLab push, web, api,
   * schedule) this rule's privileged grants may be made for. Each named exactly; `policy:check` warns about every
   * one (docs/security.md, "Events that reach privileged roles").
   */
  allowEvents?: readonly string[];
  /** Per-repository issuance limit for requests this rule allows; defaults in src/admission/constants.ts. */
  rateLimit?: RateLimitDefinition;
  /**
   * Facts from GitHub's own record (GitHub issuers, allow rules): evaluated only after the claims matched and the
   * guards passed, through the GitHub App (docs/github-facts.md). Unmet, pending or unknown facts deny.
   */
  require?: Requirements;
}

/** A token bucket: `perMinute` refill rate, `burst` capacity. */
export interface RateLimitDefinition {
  perMinute: number;
  burst: number;
}

/**
 * Issuer ids the policy writes rules for, with their kind: `{ github: "github", ghes: "github", gitlab: "gitlab" }`.
 * Ids are those of the ISSUERS configuration; at start-up the broker refuses a policy whose kinds disagree with it.
 * An id the deployment does not configure is allowed: its rules can never match (no token verifies for it).
 */
export type PolicyIssuers = Readonly<Record<string, IssuerKind>>;

/** A rule for issuer `Id` as authors write it: `issuer` may be left out only for the default id, "github". */
export type AuthoredRule<Id extends string, Kind extends IssuerKind> = "github" extends Id
  ? RuleDefinition<Id, Kind>
  : RuleDefinition<Id, Kind> & { issuer: Id };

/** One rule per issuer id of `I`, typed by that issuer's kind (its matchers and its `when` claims). */
export type RuleFor<I extends PolicyIssuers> = { [Id in keyof I & string]: AuthoredRule<Id, I[Id]> }[keyof I & string];

export interface PolicyDefinition<I extends PolicyIssuers = PolicyIssuers> {
  /** Default `{ github: "github" }`. */
  issuers?: I;
  roles: Readonly<Record<string, RoleDefinition>>;
  /** Named GitHub token grants rules may grant by name (docs/github-tokens.md). Default none. */
  githubTokens?: Readonly<Record<string, GithubTokenDefinition>>;
  rules: ReadonlyArray<RuleFor<I>>;
}
