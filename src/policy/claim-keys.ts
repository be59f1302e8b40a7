// Which claims a rule may match on, per issuer kind, and what each one means to the compiler and the checker.
// Pure data; no I/O. The lists mirror GitHubMatch / GitLabMatch in types.ts (a test keeps them in step).
import type { IssuerKind } from "../oidc/issuers.ts";
import type { GitHubMatch, GitLabMatch } from "./types.ts";

export interface KindKeys {
  /** Every claim a rule may name. */
  readonly all: readonly string[];
  /** Numeric ids: exact decimal strings only, never globs. */
  readonly ids: readonly string[];
  /**
   * Claims that say whose code runs. An allow rule must name at least one, and the name-shaped ones must fix
   * their first segment (the owner / top-level group) literally: anyone can create an owner a glob would match.
   */
  readonly scope: readonly string[];
  /** Of `scope`, the path-shaped ones whose first segment must be literal. */
  readonly ownerFixed: readonly string[];
  /** Name claim -> the id claim that pins it (`policy:check`: a privileged rule naming one must pin the other). */
  readonly nameIds: ReadonlyArray<readonly [name: string, id: string]>;
  /** Claims the compiler indexes rules by (first one a rule matches exactly wins), most selective first. */
  readonly index: readonly string[];
}

const GITHUB_KEYS = [
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
] as const satisfies ReadonlyArray<keyof GitHubMatch>;

const GITLAB_KEYS = [
  "project_path",
  "project_id",
  "namespace_path",
  "namespace_id",
  "project_visibility",
  "ref",
  "ref_type",
  "ref_path",
  "ref_protected",
  "pipeline_source",
  "environment",
  "environment_protected",
  "deployment_tier",
  "environment_action",
  "user_login",
  "user_id",
  "user_access_level",
  "runner_environment",
  "ci_config_ref_uri",
  "ci_config_sha",
  "sub",
  "job_project_path",
  "job_project_id",
  "job_namespace_path",
  "job_namespace_id",
] as const satisfies ReadonlyArray<keyof GitLabMatch>;

export const MATCH_KEYS: Readonly<Record<IssuerKind, KindKeys>> = {
  github: {
    all: GITHUB_KEYS,
    ids: ["repository_id", "repository_owner_id", "actor_id", "enterprise_id"],
    scope: ["repository", "repository_id", "repository_owner", "repository_owner_id"],
    ownerFixed: ["repository", "repository_owner"],
    nameIds: [
      ["repository", "repository_id"],
      ["repository_owner", "repository_owner_id"],
    ],
    index: ["repository", "repository_id", "repository_owner", "repository_owner_id"],
  },
  gitlab: {
    all: GITLAB_KEYS,
    ids: ["project_id", "namespace_id", "user_id", "job_project_id", "job_namespace_id"],
    scope: ["project_path", "project_id", "namespace_path", "namespace_id"],
    ownerFixed: ["project_path", "namespace_path"],
    nameIds: [
      ["project_path", "project_id"],
      ["namespace_path", "namespace_id"],
    ],
    index: ["project_path", "project_id", "namespace_path", "namespace_id"],
  },
};

/** GitHub's exact id format, as claims.ts checks it: 1..20 decimal digits. */
export const ID_PATTERN = /^[0-9]{1,20}$/;
