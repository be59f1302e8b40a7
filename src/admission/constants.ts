// Limits of admission control: single-use tokens, per-repository buckets and their queue, the per-address limit.
// Unit in the name; one line of why each. Changing one changes behaviour a client or operator can see: note it in
// docs/.

// --- Single use ---
/** A reservation's holder is the exchange's request id (a UUID, 36 chars): room to spare, nothing unbounded stored. */
export const MAX_ADMISSION_HOLDER_CHARS = 128;

// --- Per-repository bucket and the admission object ---
/**
 * Default issuances a minute per repository and rule: 10/s, 1/60 of the account's default STS quota
 * (docs/fleet-scale.md).
 */
export const DEFAULT_REPOSITORY_RATE_PER_MINUTE = 600;
/** Default burst per repository and rule: 60 at once, then 10/s, serves a 256-job matrix in (256-60)/10 = 19.6 s. */
export const DEFAULT_REPOSITORY_BURST = 60;
/**
 * Timeout of one admission Durable Object call; healthy calls take ~1-50 ms, so this is an outage (fail closed, 503).
 */
export const ADMISSION_CALL_TIMEOUT_MS = 2_000;
/** How long a used jti is kept past `exp` + clock tolerance: absorbs clock differences between Worker and object. */
export const ADMISSION_PURGE_GRACE_MS = 60_000;
/** Least gap between two purge alarms of one object: expired rows are deleted in batches, not one alarm each. */
export const ADMISSION_PURGE_INTERVAL_MS = 60_000;
/** Most live jti reservations one object holds; when full, new tokens are refused (429), never stored. ~100 B each. */
export const MAX_ADMISSION_RESERVATIONS = 100_000;

// --- Pre-authentication limit per client address ---
// On the Workers rate-limiting bindings of wrangler.toml ([[ratelimits]]), whose `simple` settings must equal these
// (test/e2e/deploy.test.ts checks). Why a binding and not a Durable Object: docs/performance.md.
/** Window of both address limits, seconds; the binding allows 10 or 60, and 10 forgives a burst sooner. */
export const ADDRESS_LIMIT_PERIOD_SECONDS = 10;
/**
 * Requests per window per IPv4 address or IPv6 /64 (binding ADDRESS_LIMITER): 10/s, a 100-job matrix behind one NAT
 * address at once.
 */
export const ADDRESS_LIMIT_PER_PERIOD = 100;
/**
 * Requests per window per IPv6 /48 (binding NETWORK_LIMITER): eight busy /64s; one /48 must not buy 65,536 address
 * budgets.
 */
export const NETWORK_LIMIT_PER_PERIOD = 800;

// --- Fleet scale: the repository bucket's reservation queue (docs/fleet-scale.md) ---
/**
 * AWS's default STS request quota: 600 requests/s per account and Region, AssumeRole included (IAM User Guide, "STS
 * request quotas").
 */
export const STS_ACCOUNT_REQUESTS_PER_SECOND = 600;
/**
 * A refused caller is queued only if its slot is at most this far away: fits the client's 60 s deadline with room for
 * the retry.
 */
export const REPOSITORY_QUEUE_MAX_WAIT_MS = 45_000;
/**
 * Unclaimed reservations are kept this long past the newest slot: the client comes back up to ~2 s late (Retry-After
 * rounding + jitter).
 */
export const REPOSITORY_QUEUE_CLAIM_GRACE_MS = 10_000;
