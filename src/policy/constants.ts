// Limits a compiled policy is held to, and those of the kill switch.
// Unit in the name; one line of why each. Changing one changes behaviour a client or operator can see: note it in
// docs/.

// --- Kill switch ---
/**
 * How long one isolate trusts a kill-switch lookup (hit or miss); KV itself propagates in ~60 s, so a few seconds adds
 * little.
 */
export const KILL_SWITCH_CACHE_MS = 5_000;
/**
 * Most kill-switch lookups one isolate remembers; past this the memo is cleared (bounded memory under hostile names).
 */
export const KILL_SWITCH_CACHE_MAX_ENTRIES = 10_000;
/** KV edge-cache TTL for kill-switch reads: KV's minimum, so a new key is seen as soon as KV allows. */
export const KILL_SWITCH_KV_CACHE_TTL_SECONDS = 30;
/** KV's key size limit in bytes: a longer lookup key cannot exist, so it is not asked for. */
export const KV_MAX_KEY_BYTES = 512;

// --- GitHub token grants (docs/github-tokens.md) ---
/** Most repositories one grant may name: "Create an installation access token" accepts up to 500 `repositories`. */
export const GITHUB_TOKEN_MAX_REPOSITORIES = 500;
/** Shortest `dangerous.reason` accepted: "needed" or "ci" tells a reviewer nothing; a sentence fragment does. */
export const GITHUB_TOKEN_MIN_DANGEROUS_REASON_CHARS = 12;
/** Longest `dangerous.reason`: a paragraph at most; the reason belongs in the policy file, not an essay. */
export const GITHUB_TOKEN_MAX_DANGEROUS_REASON_CHARS = 500;

// --- Per-rule issuance limits ---
/** Largest per-rule issuance rate a policy may set; above this, STS throttles the broker anyway. */
export const MAX_RULE_RATE_PER_MINUTE = 6_000;
/** Largest per-rule burst a policy may set. */
export const MAX_RULE_BURST = 1_000;

// --- GitHub facts a rule may require (docs/github-facts.md) ---
/** Most `require.checks` entries one rule may name: each is one API call per commit; real gates name a handful. */
export const MAX_REQUIRED_CHECKS = 20;
/** Most approvals a rule may require: beyond any review policy in practice, and a typo (100) would deny every job. */
export const MAX_REQUIRED_APPROVALS = 10;

// --- Kill switch: bulk reads (per-request CPU) ---
/**
 * Workers KV bulk read: at most 100 keys per `get([...])` call
 * (developers.cloudflare.com/kv/api/read-key-value-pairs/).
 */
export const KV_BULK_GET_MAX_KEYS = 100;
/**
 * One UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair, 2 units, is 4): `length * 3` bounds a string's
 * UTF-8 size without encoding it.
 */
export const MAX_UTF8_BYTES_PER_UTF16_UNIT = 3;
