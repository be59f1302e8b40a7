// The one error type of policy compilation, with stable codes `policy:check` and its tests key on.
// Pure; no I/O.

/** Stable codes of compile errors: `policy:check` and its tests key on them. */
export type PolicyErrorCode =
  | "policy_invalid"
  | "role_invalid"
  | "external_id_unsupported"
  | "role_undefined"
  | "arn_invalid"
  | "session_policy_too_large"
  | "session_tag_invalid"
  | "issuer_undeclared"
  | "issuer_kind_mismatch"
  | "rule_invalid"
  | "pattern_invalid"
  | "rule_unscoped"
  | "pattern_too_broad"
  | "workflow_ref_glob"
  | "workflow_caller_unpinned"
  | "check_forgeable"
  // GitHub token grants (src/policy/github-tokens.ts)
  | "grant_invalid"
  | "grant_undefined"
  | "grant_repository_foreign"
  | "permission_unknown"
  | "permission_owner_wide"
  | "permission_dangerous";

/** A policy mistake, pointing at the rule or role at fault. */
export class PolicyCompileError extends Error {
  readonly location: string;
  readonly code: PolicyErrorCode;
  constructor(location: string, problem: string, code: PolicyErrorCode = "policy_invalid") {
    super(`${location}: ${problem}`);
    this.name = "PolicyCompileError";
    this.location = location;
    this.code = code;
  }
}

/** Throws the compile error (code `rule_invalid` unless named): one call per check keeps the compilers readable. */
export function fail(location: string, problem: string, code: PolicyErrorCode = "rule_invalid"): never {
  throw new PolicyCompileError(location, problem, code);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
