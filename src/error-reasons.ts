// The closed list of internal reasons a BrokerError carries (errors.ts): the log line's and the audit event's `reason`,
// never on the wire. A reason not listed here is a type error; docs/api.md lists every one (test/error-reasons.node.test.ts
// checks both directions). Grouped by the stage that refuses; within a group, in the order docs/api.md gives them.

/** The request: its body, headers and JSON (src/http/). */
const REQUEST_REASONS = [
  "token_missing",
  "token_in_header_and_body",
  "authorization_malformed",
  "body_invalid",
  "json_malformed",
  "json_duplicate_key",
  "body_not_utf8",
  "body_too_large",
  "body_unreadable",
  "content_type_not_json",
] as const;

/** The OIDC token and its issuer's keys (src/oidc/). */
const TOKEN_REASONS = [
  "token_too_large",
  "token_malformed",
  "issuer_unknown",
  "header_forbidden",
  "alg_not_allowed",
  "typ_invalid",
  "kid_unknown",
  "kid_malformed",
  "kid_missing",
  "signature_invalid",
  "token_expired",
  "token_not_yet_valid",
  "token_too_old",
  "audience_mismatch",
  "audience_not_string",
  "claim_missing",
  "claims_invalid",
  "lifetime_too_long",
  "jwks_unavailable",
  "jwks_refetch_cooldown",
  "token_verification_error",
] as const;

/** The policy's decision, its guards and the kill switch (src/policy/): `DenyReason` and the kill switch's keys. */
const POLICY_REASONS = [
  "explicit_deny",
  "no_matching_rule",
  "role_not_granted",
  "grant_not_granted",
  "role_ambiguous",
  "duration_exceeds_role",
  "role_conflict",
  "guard_pull_request_target",
  "guard_self_hosted_runner",
  "guard_pull_request_ref",
  "guard_unprotected_ref",
  "guard_untrusted_event",
  "kill_switch_issuer",
  "kill_switch_repository",
  "kill_switch_owner",
  "kill_switch_actor",
  "kill_switch_unavailable",
] as const;

/** Admission control (src/admission/). */
const ADMISSION_REASONS = [
  "token_reused",
  "rate_limited_repository",
  "rate_limited_queue_full",
  "rate_limited_address",
  "admission_store_full",
  "admission_unavailable",
] as const;

/** STS and the session it is asked for (src/aws/), and web identity (src/idp/). */
const AWS_REASONS = [
  "sts_access_denied",
  "sts_throttled",
  "sts_unavailable",
  "sts_timeout",
  "sts_bad_response",
  "sts_region_disabled",
  "sts_rejected_request",
  "sts_broker_credentials",
  "sts_identity_token_rejected",
  "session_tag_conflict",
  "session_tag_invalid",
  "session_tag_limit",
  "session_tag_unrepresentable",
  "source_identity_unrepresentable",
  "session_policy_too_long",
  "policy_arns_invalid",
  "transitive_tag_invalid",
  "duration_out_of_range",
  "web_identity_subject_invalid",
  "identity_provider_missing",
  "signing_key_invalid",
  "external_id_unsupported",
] as const;

/**
 * Denial reasons of the context stage (403 forbidden; logged and audited, never sent to the caller). Stable: listed
 * in docs/api.md and explained in docs/github-facts.md ("Denial reasons").
 */
export const CONTEXT_REASONS = [
  "context_check_missing",
  "context_check_pending",
  "context_check_failed",
  "context_check_wrong_app",
  "context_check_not_a_job",
  "context_workflow_not_run",
  "context_pr_not_merged",
  "context_pr_not_found",
  "context_pr_not_approved",
  "context_approval_not_writer",
  "context_changes_requested",
  "context_reviews_not_enforced",
  "context_commit_unknown",
  "context_repository_mismatch",
] as const;

export type ContextReason = (typeof CONTEXT_REASONS)[number];

/** GitHub facts a rule requires (src/github/): the API and the App (the context stage's denials: CONTEXT_REASONS above). */
const GITHUB_FACTS_REASONS = [
  "github_api_unavailable",
  "github_api_rate_limited",
  "github_app_not_installed",
  "github_app_permissions_missing",
  "github_app_missing",
  "github_api_url_missing",
  "github_app_key_invalid",
] as const;

/** GitHub token grants' token App (src/github-tokens/). */
const GITHUB_TOKEN_REASONS = [
  "github_token_app_not_installed",
  "github_token_app_scope_missing",
  "github_token_app_suspended",
  "github_token_app_refused",
  "github_token_app_missing",
  "github_token_app_is_facts_app",
  "github_token_app_key_invalid",
  "github_token_app_unauthorized",
  "github_token_wider_than_asked",
] as const;

/** The deployment's configuration, the routes, and bugs. */
const BROKER_REASONS_OTHER = [
  "config_invalid",
  "policy_invalid",
  "alert_config_invalid",
  "route_not_found",
  "method_not_allowed",
  "unhandled_exception",
] as const;

/**
 * Every internal reason, each once. A function, not a module-level array: the Worker bundles only the groups it
 * uses (CONTEXT_REASONS for the policy), and this list serves tests and tools.
 */
export function brokerReasons(): readonly BrokerReason[] {
  return [
    ...REQUEST_REASONS,
    ...TOKEN_REASONS,
    ...POLICY_REASONS,
    ...ADMISSION_REASONS,
    ...AWS_REASONS,
    ...GITHUB_FACTS_REASONS,
    ...CONTEXT_REASONS,
    ...GITHUB_TOKEN_REASONS,
    ...BROKER_REASONS_OTHER,
  ];
}

/** Every internal reason there is: `new BrokerError(code, "a_typo")` does not compile. */
export type BrokerReason =
  | (typeof REQUEST_REASONS)[number]
  | (typeof TOKEN_REASONS)[number]
  | (typeof POLICY_REASONS)[number]
  | (typeof ADMISSION_REASONS)[number]
  | (typeof AWS_REASONS)[number]
  | (typeof GITHUB_FACTS_REASONS)[number]
  | ContextReason
  | (typeof GITHUB_TOKEN_REASONS)[number]
  | (typeof BROKER_REASONS_OTHER)[number];
