// GitLab CI/CD `id_tokens` (gitlab.com or a self-managed instance): its claims, defaults, session naming and tags,
// guard facts, kill-switch keys and web-identity subject (platform.ts says what each is for). Pure; no I/O; no clock.
import * as z from "zod/mini";
import { KILL_SWITCH_MAX_NAMESPACE_DEPTH } from "./constants.ts";
import { claimString, digits, optionalText, text } from "./claim-shapes.ts";
import type { CiPlatform, ClaimSessionTag } from "./platform.ts";

/** GitLab sends booleans as the strings "true" / "false" (`ref_protected`, `environment_protected`). */
const flag = z.enum(["true", "false"]);

/**
 * GitLab CI/CD ID token claims (`id_tokens`), typed as GitLab issues them: ids are decimal strings except
 * `runner_id`, which is a JSON number. https://docs.gitlab.com/ci/secrets/id_token_authentication/#token-payload
 * In a merge request pipeline from a fork, `project_*` and `namespace_*` name the SOURCE (fork) project
 * (GitLab 18.4 added `job_project_*` / `job_namespace_*` for the project the job runs in).
 */
export interface GitLabClaims {
  sub: string;
  namespace_id: string;
  namespace_path: string;
  project_id: string;
  project_path: string;
  user_id: string;
  user_login: string;
  /** Personal data: never logged, never a session tag. Absent when the user hides it. */
  user_email?: string | undefined;
  user_access_level?: string | undefined;
  pipeline_id: string;
  pipeline_source: string;
  job_id: string;
  ref: string;
  ref_type: string;
  ref_path?: string | undefined;
  ref_protected: "true" | "false";
  environment?: string | undefined;
  environment_protected?: "true" | "false" | undefined;
  deployment_tier?: string | undefined;
  environment_action?: string | undefined;
  runner_id: number;
  runner_environment: string;
  sha: string;
  /** `null` unless the pipeline definition lives in the same project (GitLab docs). */
  ci_config_ref_uri?: string | null | undefined;
  ci_config_sha?: string | null | undefined;
  project_visibility?: string | undefined;
  groups_direct?: string[] | undefined;
  job_project_id?: string | undefined;
  job_project_path?: string | undefined;
  job_namespace_id?: string | undefined;
  job_namespace_path?: string | undefined;
}

export const GitLabClaimsSchema: z.ZodMiniType<GitLabClaims> = z.object({
  sub: text,
  namespace_id: digits,
  namespace_path: text,
  project_id: digits,
  project_path: text,
  user_id: digits,
  user_login: text,
  user_email: optionalText,
  user_access_level: optionalText,
  pipeline_id: digits,
  pipeline_source: text,
  job_id: digits,
  ref: text,
  ref_type: text,
  ref_path: optionalText,
  ref_protected: flag,
  environment: optionalText,
  environment_protected: z.optional(flag),
  deployment_tier: optionalText,
  environment_action: optionalText,
  runner_id: z.int().check(z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER)),
  runner_environment: text,
  sha: text,
  ci_config_ref_uri: z.optional(z.nullable(text)),
  ci_config_sha: z.optional(z.nullable(text)),
  project_visibility: optionalText,
  groups_direct: z.optional(z.array(text).check(z.maxLength(200))),
  job_project_id: z.optional(digits),
  job_project_path: optionalText,
  job_namespace_id: z.optional(digits),
  job_namespace_path: optionalText,
});

/** The verified GitLab CI claims session naming and tagging read. */
export type GitLabSessionClaims = Pick<
  GitLabClaims,
  | "project_path"
  | "project_id"
  | "namespace_path"
  | "namespace_id"
  | "ref"
  | "ref_type"
  | "ref_protected"
  | "sha"
  | "pipeline_source"
  | "pipeline_id"
  | "job_id"
  | "user_login"
  | "user_id"
  | "environment"
  | "runner_environment"
>;

/**
 * GitLab's session tags. Identity keys differ from GitHub's (`Project`, not `Repository`), so a trust policy written
 * for GitHub tags can never be satisfied by a GitLab token that happens to carry the same path. `user_email` is
 * personal data and never a tag.
 */
export const GITLAB_SESSION_TAGS = [
  { key: "Project", claim: "project_path", optional: false },
  { key: "ProjectId", claim: "project_id", optional: false },
  { key: "Namespace", claim: "namespace_path", optional: false },
  { key: "NamespaceId", claim: "namespace_id", optional: false },
  { key: "Ref", claim: "ref", optional: false },
  { key: "RefType", claim: "ref_type", optional: false },
  { key: "RefProtected", claim: "ref_protected", optional: false },
  { key: "Sha", claim: "sha", optional: false },
  { key: "PipelineSource", claim: "pipeline_source", optional: false },
  { key: "PipelineId", claim: "pipeline_id", optional: false },
  { key: "JobId", claim: "job_id", optional: false },
  { key: "User", claim: "user_login", optional: false },
  { key: "UserId", claim: "user_id", optional: false },
  { key: "Environment", claim: "environment", optional: true },
  { key: "RunnerEnvironment", claim: "runner_environment", optional: false },
] as const satisfies ReadonlyArray<ClaimSessionTag & { claim: keyof GitLabSessionClaims }>;

/** The claims a rule may match on (policy/types.ts's GitLabMatch; policy/claim-keys.ts holds them in step). */
export const GITLAB_MATCH_KEYS = [
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
] as const;

/** gitlab.com's issuer: one account namespace, so it keeps the short `gl-` prefix. */
const GITLAB_DOT_COM_ISSUER = "https://gitlab.com";
/** GitLab usernames: alphanumerics, `_`, `.` and `-`. */
const GITLAB_LOGIN = /^[A-Za-z0-9_.-]*$/;
/** Pipeline sources that run merge/pull request code (https://docs.gitlab.com/ci/jobs/job_rules/). */
const GITLAB_REQUEST_SOURCES = new Set(["merge_request_event", "external_pull_request_event"]);

/** Namespace `a/b/c` -> `a`, `a/b`, `a/b/c`: killing a group kills its subgroups. */
function ancestors(path: string): string[] {
  const parts = path.split("/").slice(0, KILL_SWITCH_MAX_NAMESPACE_DEPTH);
  return parts.map((_, index) => parts.slice(0, index + 1).join("/"));
}

export const gitlab: CiPlatform<GitLabClaims> = {
  claims: GitLabClaimsSchema,
  // GitLab's docs: ID tokens are "encoded by using RS256".
  defaultAlgorithms: ["RS256"],
  githubApi: undefined,
  subject: (c) => ({
    repository: c.project_path,
    repositoryId: c.project_id,
    owner: c.namespace_path,
    ownerId: c.namespace_id,
    actor: c.user_login,
    actorId: c.user_id,
    ref: c.ref_path ?? c.ref,
    event: c.pipeline_source,
  }),
  matchKeys: {
    all: GITLAB_MATCH_KEYS,
    ids: ["project_id", "namespace_id", "user_id", "job_project_id", "job_namespace_id"],
    scope: ["project_path", "project_id", "namespace_path", "namespace_id"],
    ownerFixed: ["project_path", "namespace_path"],
    nameIds: [
      ["project_path", "project_id"],
      ["namespace_path", "namespace_id"],
    ],
    index: ["project_path", "project_id", "namespace_path", "namespace_id"],
    caseInsensitive: [
      "project_path",
      "namespace_path",
      "user_login",
      "environment",
      "job_project_path",
      "job_namespace_path",
    ],
  },
  guards: {
    eventClaim: "pipeline_source",
    // web: "Run pipeline" button; api: pipelines API. Both need Developer role and, for a protected branch, permission
    // to merge or push to it. Triggers (shared trigger tokens), other projects' pipelines and child pipelines are not.
    trustedEvents: new Set(["push", "web", "api", "schedule"]),
    // GitLab has no such event; its merge-request pipelines are held by pullRequestRun.
    runsForkCodeWithSecrets: () => false,
    hostedRunner: (claims) => claimString(claims, "runner_environment") === "gitlab-hosted",
    pullRequestRun: (claims) => {
      const source = claimString(claims, "pipeline_source");
      return source !== undefined && GITLAB_REQUEST_SOURCES.has(source);
    },
    // GitLab says whether the environment is protected.
    protectedRef: (claims) =>
      claimString(claims, "ref_protected") === "true" || claimString(claims, "environment_protected") === "true",
  },
  sessionTags: GITLAB_SESSION_TAGS,
  identity: {
    isSaasIssuer: (issuer) => issuer === GITLAB_DOT_COM_ISSUER,
    saasPrefix: "gl-",
    instancePrefix: "gl",
    plainLogin: (login) => (GITLAB_LOGIN.test(login) ? login : undefined),
    nameIds: (claims) => [claims.pipeline_id, claims.job_id],
    repositoryClaim: "project_path",
    actorClaim: "user_login",
  },
  killSwitch: { repository: "project", owner: "namespace", actor: "user", owners: ancestors },
  // Every GitLab subject names its issuer: `issuer:<id>:project:<path>:...`.
  webIdentity: { noun: "project", unprefixedIssuer: () => false },
};
