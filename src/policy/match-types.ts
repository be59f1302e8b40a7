// What a rule's `match` may name, per CI platform: the matcher types of the policy authoring API (re-exported by
// types.ts). Pure declarations. Each platform's keys (src/platforms/, `matchKeys`) are held to these by claim-keys.ts.

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

/** The GitLab CI/CD ID token claims a rule can match on. GitLab's `ref` is bare (`main`); `ref_path` is `refs/heads/main`. */
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
