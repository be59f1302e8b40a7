// The types an organisation writes its policy against (see policies/). Pure declarations.
// A policy is data plus optional predicates: compiled once per isolate, evaluated per request.

/** A claim matcher: an exact string, or an anchored glob (`*` within one path segment, `**` across). */
export type Pattern = string;

/** What a role alias grants: the role to assume and the limits of the session. */
export interface RoleDefinition {
  /** `arn:aws:iam::<12-digit account>:role/<path/name>`. Never sent to clients. */
  arn: string;
  /** Longest DurationSeconds a request may ask for (900..43200). Defaults to 900. */
  maxDurationSeconds?: number;
  /** Inline session policy (an IAM policy document); further narrows the role. At most 2048 characters as JSON. */
  sessionPolicy?: Record<string, unknown>;
  /** Extra session tags, fixed by the operator (keys must not collide with the broker's claim tags). */
  sessionTags?: Record<string, string>;
}

/** The GitHub Actions claims a rule can match on. Keys are claim names; values are patterns or lists (any of). */
export interface GitHubMatch {
  repository?: Pattern | Pattern[];
  repository_owner?: Pattern | Pattern[];
  ref?: Pattern | Pattern[];
  ref_type?: Pattern | Pattern[];
  event_name?: Pattern | Pattern[];
  environment?: Pattern | Pattern[];
  workflow_ref?: Pattern | Pattern[];
  job_workflow_ref?: Pattern | Pattern[];
  actor?: Pattern | Pattern[];
  sub?: Pattern | Pattern[];
  runner_environment?: Pattern | Pattern[];
  repository_visibility?: Pattern | Pattern[];
}

export interface RuleDefinition {
  /** Stable id: appears in logs and audit events. */
  id: string;
  /** `deny` rules are evaluated first and win over any allow. Default `allow`. */
  effect?: "allow" | "deny";
  /** Issuer id from the ISSUERS config (default "github"). A rule never matches another issuer's token. */
  issuer?: string;
  /** Every listed claim must match; an absent claim never matches. */
  match: GitHubMatch;
  /** Role aliases this rule grants (allow rules only). */
  roles?: string[];
  /** Per-repository issuance limit for requests this rule allows; defaults in src/constants.ts (issue #3). */
  rateLimit?: RateLimitDefinition;
}

/** A token bucket: `perMinute` refill rate, `burst` capacity. */
export interface RateLimitDefinition {
  perMinute: number;
  burst: number;
}

export interface PolicyDefinition {
  roles: Record<string, RoleDefinition>;
  rules: RuleDefinition[];
}

/** A role alias after compilation: what the STS stage receives when a rule grants it. */
export interface RoleGrant {
  alias: string;
  arn: string;
  maxDurationSeconds: number;
  /** The inline session policy, serialised once at compile time. */
  sessionPolicyJson: string | undefined;
  /** Operator-defined extra session tags, in declaration order. */
  sessionTags: ReadonlyArray<readonly [key: string, value: string]>;
}
