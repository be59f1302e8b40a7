// Claim schemas per issuer kind: exact types, no coercion, unknown claims dropped.
// Pure; no I/O; no clock. Registered claims (iss, aud, exp, iat, nbf, jti) are checked in verify.ts.
import { z } from "zod";
import { BrokerError } from "../errors.ts";
import type { IssuerKind } from "./issuers.ts";

/**
 * A non-empty claim string. z.string() never coerces: an array, number or null is rejected,
 * so `"repository": ["acme/app"]` cannot sneak past a string pattern match in the policy.
 */
const text = z.string().min(1);
/** A claim that may legitimately be empty: GitHub sends `head_ref: ""` and `base_ref: ""` on push events. */
const optionalText = z.string().optional();
/** GitHub sends numeric ids as strings of decimal digits ("repository_id": "123456"). */
const digits = z.string().regex(/^[0-9]{1,20}$/);

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
export const GitHubClaimsSchema: z.ZodType<GitHubClaims> = z.object({
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
  enterprise_id: digits.optional(),
  check_run_id: digits.optional(),
});

/** Claims of a verified token. Later issuers (GitLab) turn this into a union keyed by issuer kind. */
export type Claims = GitHubClaims;

const SCHEMAS: Record<IssuerKind, z.ZodType<Claims>> = { github: GitHubClaimsSchema };

/** Validates a verified payload against its issuer kind's schema. Throws `invalid_token` / `claims_invalid`. */
export function parseClaims(kind: IssuerKind, payload: unknown): Claims {
  const result = SCHEMAS[kind].safeParse(payload);
  if (!result.success) {
    // Keep only the paths and issue codes for the log: never the claim values themselves.
    const issues = result.error.issues.map((issue) => ({ path: issue.path.join("."), code: issue.code }));
    throw new BrokerError("invalid_token", "claims_invalid", { cause: { issues } });
  }
  return result.data;
}
