// Claim schemas per issuer kind: exact types, no coercion, unknown claims dropped.
// Pure; no I/O; no clock. Registered claims (iss, aud, exp, iat, nbf, jti) are checked in verify.ts.
import * as z from "zod/mini";
import { BrokerError } from "../errors.ts";
import type { IssuerKind } from "./issuers.ts";

/**
 * A non-empty claim string. z.string() never coerces: an array, number or null is rejected,
 * so `"repository": ["acme/app"]` cannot sneak past a string pattern match in the policy.
 */
const text = z.string().check(z.minLength(1));
/** A claim that may legitimately be empty: GitHub sends `head_ref: ""` and `base_ref: ""` on push events. */
const optionalText = z.optional(z.string());
/** GitHub sends numeric ids as strings of decimal digits ("repository_id": "123456"). */
const digits = z.string().check(z.regex(/^[0-9]{1,20}$/));

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

/** Claims of a verified token; which member is fixed by the issuer's kind (`VerifiedToken.issuer.kind`). */
export type Claims = GitHubClaims | GitLabClaims;

/** Claims by issuer kind: what a policy rule's `when` predicate receives. */
export interface ClaimsByKind {
  github: GitHubClaims;
  gitlab: GitLabClaims;
}

const SCHEMAS: { [K in IssuerKind]: z.ZodMiniType<ClaimsByKind[K]> } = {
  github: GitHubClaimsSchema,
  gitlab: GitLabClaimsSchema,
};

/**
 * The identity fields every stage after verification needs (audit, kill switch, admission), whatever the kind:
 * GitHub repository/owner/actor, or GitLab project/namespace/user. Names may be renamed or recycled; ids may not.
 */
export interface ClaimSubject {
  /** GitHub `repository`; GitLab `project_path`. */
  repository: string;
  repositoryId: string;
  /** GitHub `repository_owner`; GitLab `namespace_path` (may contain `/` for subgroups). */
  owner: string;
  ownerId: string;
  /** GitHub `actor`; GitLab `user_login`. */
  actor: string;
  actorId: string;
  /** GitHub `ref`; GitLab `ref_path` when sent (`refs/heads/main`), else its bare `ref`. */
  ref: string;
  /** GitHub `event_name`; GitLab `pipeline_source`. */
  event: string;
}

/** The subject of a verified token, read by kind. Pure. */
export function claimSubject(kind: IssuerKind, claims: Claims): ClaimSubject {
  if (kind === "gitlab") {
    const c = claims as GitLabClaims;
    return {
      repository: c.project_path,
      repositoryId: c.project_id,
      owner: c.namespace_path,
      ownerId: c.namespace_id,
      actor: c.user_login,
      actorId: c.user_id,
      ref: c.ref_path ?? c.ref,
      event: c.pipeline_source,
    };
  }
  const c = claims as GitHubClaims;
  return {
    repository: c.repository,
    repositoryId: c.repository_id,
    owner: c.repository_owner,
    ownerId: c.repository_owner_id,
    actor: c.actor,
    actorId: c.actor_id,
    ref: c.ref,
    event: c.event_name,
  };
}

/** Validates a verified payload against its issuer kind's schema. Throws `invalid_token` / `claims_invalid`. */
export function parseClaims<K extends IssuerKind>(kind: K, payload: unknown): ClaimsByKind[K] {
  const result = (SCHEMAS[kind] as z.ZodMiniType<ClaimsByKind[K]>).safeParse(payload);
  if (!result.success) {
    // Keep only the paths and issue codes for the log: never the claim values themselves.
    const issues = result.error.issues.map((issue) => ({ path: issue.path.join("."), code: issue.code }));
    throw new BrokerError("invalid_token", "claims_invalid", { cause: { issues } });
  }
  return result.data;
}
