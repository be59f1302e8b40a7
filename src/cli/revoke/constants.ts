// Constants of `npm run revoke`: when a revocation takes effect, and the limits of the IAM calls it makes.
// Unit in the name; one line of why each. Changing one changes behaviour a client or operator can see: note it in
// docs/.

import { ADMISSION_CALL_TIMEOUT_MS } from "../../admission/constants.ts";
import { STS_DEADLINE_MS } from "../../aws/constants.ts";
import { GITHUB_BUDGET_MS } from "../../github/constants.ts";
import { KILL_SWITCH_CACHE_MS } from "../../policy/constants.ts";

// --- Revoking sessions already issued (`npm run revoke`; docs/operations.md) ---
/** KV's documented worst case for a write to reach every location: how long a new kill-switch key takes to bite. */
export const KV_PROPAGATION_MAX_MS = 60_000;
/**
 * Longest a request that passed the kill switch just before it bit can still be minting: GitHub facts, admission, STS.
 */
export const EXCHANGE_AFTER_KILL_SWITCH_MAX_MS = GITHUB_BUDGET_MS + ADMISSION_CALL_TIMEOUT_MS + STS_DEADLINE_MS;
/**
 * Default cutoff after now: by then the kill switch has reached every location and isolate, and nothing it let in is
 * still minting.
 */
export const REVOKE_CUTOFF_DELAY_MS = KV_PROPAGATION_MAX_MS + KILL_SWITCH_CACHE_MS + EXCHANGE_AFTER_KILL_SWITCH_MAX_MS;
/** IAM's cap on all inline policies of one role together, white space not counted (IAM quotas, "Role policy size"). */
export const IAM_ROLE_INLINE_POLICIES_MAX_CHARS = 10_240;
/** One IAM API call: IAM answers in well under a second, so longer is an outage or a wrong endpoint. */
export const IAM_CALL_TIMEOUT_MS = 10_000;
/** Attempts per IAM call on Throttling or a 5xx: IAM's control plane throttles bursts; two more tries ride one out. */
export const IAM_MAX_ATTEMPTS = 3;
/** Wait before the second IAM attempt, doubled before the third. */
export const IAM_BACKOFF_BASE_MS = 500;
/**
 * Largest IAM answer read: a role's trust policy and an inline policy are at most ~10 KiB each, URL-encoded about 3x.
 */
export const IAM_MAX_RESPONSE_BYTES = 256 * 1024;
/** Deepest XML nesting accepted from IAM: its answers nest five levels; more is not IAM. */
export const IAM_MAX_XML_DEPTH = 16;
