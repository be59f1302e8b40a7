// Every limit, timeout and fixed size of the broker, in one place. Unit in the name; one line of why each.
// Changing one of these changes behaviour a client or operator can see: note it in the README.

// --- HTTP request ---------------------------------------------------------------------------
/** Largest request body we read; a token plus a few fields fits in a fraction of it. */
export const MAX_REQUEST_BODY_BYTES = 16 * 1024;
/** Largest token we parse; GitHub tokens are ~1-2 KiB, 8 KiB leaves room for other issuers. */
export const MAX_TOKEN_BYTES = 8 * 1024;

// --- Token verification --------------------------------------------------------------------
/** Default allowed clock skew between issuer, runner and us; GitHub runners drift a few seconds. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 10;
/** Upper bound an operator may configure for clock tolerance; more makes expiry meaningless. */
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;
/** Default oldest `iat` we accept; GitHub tokens live 5-10 minutes, so older means replayed or hoarded. */
export const DEFAULT_MAX_TOKEN_AGE_SECONDS = 15 * 60;
/** Longest `exp - iat` we accept. GitHub tokens are usually 5-10 min but have been seen at 6 h; freshness is MAX_TOKEN_AGE's job. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 6 * 60 * 60;
/** Smallest RSA modulus we trust for RS256 (NIST SP 800-131A; jose also refuses < 2048). */
export const MIN_RSA_MODULUS_BITS = 2048;

// --- JWKS cache chain ----------------------------------------------------------------------
/** How long a fetched key set is used without revalidation; GitHub rotates keys rarely. */
export const JWKS_FRESH_MS = 10 * 60 * 1000;
/** Default time we keep serving the last good key set while the issuer is down. */
export const DEFAULT_JWKS_MAX_STALE_SECONDS = 24 * 60 * 60;
/** Minimum gap between two refetches of one issuer's JWKS triggered by an unknown kid. */
export const JWKS_REFETCH_COOLDOWN_MS = 60 * 1000;
/** Timeout for one JWKS or discovery fetch; the request waits on it, so keep it short. */
export const JWKS_FETCH_TIMEOUT_MS = 3_000;
/** Largest JWKS or discovery document we read; GitHub's is ~2 KiB. Caps memory on a hostile issuer. */
export const MAX_JWKS_RESPONSE_BYTES = 64 * 1024;
/** Most keys we accept in one JWKS; more is an attack or a misconfiguration. */
export const MAX_JWKS_KEYS = 50;
/** KV expiration of a cached key set: must outlive the stale window; KV requires at least 60 s. */
export const KV_MIN_EXPIRATION_TTL_SECONDS = 60;
/** After a failed JWKS/discovery fetch, wait this long before trying again (stale set or 503 meanwhile); matches Retry-After. */
export const JWKS_FAILURE_BACKOFF_MS = 5_000;
/** Longest `jti` we accept; GitHub's is a 36-char UUID, and the admission store keys on it. */
export const MAX_JTI_CHARS = 256;

// --- STS -----------------------------------------------------------------------------------
/** Credentials we issue by default: 15 minutes, the STS minimum and our whole reason to exist. */
export const DEFAULT_SESSION_DURATION_SECONDS = 900;
/** STS minimum DurationSeconds for AssumeRole. */
export const STS_MIN_DURATION_SECONDS = 900;
/** STS maximum DurationSeconds for AssumeRole (role's MaxSessionDuration may be lower). */
export const STS_MAX_DURATION_SECONDS = 43_200;
/** STS limit on session tags per AssumeRole call. */
export const STS_MAX_SESSION_TAGS = 50;
/** STS limit on a session tag key's length, in characters. */
export const STS_MAX_TAG_KEY_CHARS = 128;
/** STS limit on a session tag value's length, in characters. */
export const STS_MAX_TAG_VALUE_CHARS = 256;
/** STS limit on an inline session policy's length, in characters (before packing). */
export const STS_MAX_SESSION_POLICY_CHARS = 2048;
/** STS RoleSessionName / SourceIdentity length bounds, in characters. */
export const STS_MIN_NAME_CHARS = 2;
export const STS_MAX_NAME_CHARS = 64;
/** Most attempts at one AssumeRole (first try included) before answering 503. */
export const STS_MAX_ATTEMPTS = 4;
/** Base of the full-jitter exponential backoff between STS attempts. */
export const STS_BACKOFF_BASE_MS = 100;
/** Cap of one backoff sleep between STS attempts. */
export const STS_BACKOFF_CAP_MS = 2_000;
/** Timeout of one STS HTTP attempt; STS answers in ~50-200 ms when healthy. */
export const STS_ATTEMPT_TIMEOUT_MS = 3_000;
/** Deadline for the whole AssumeRole including retries: CI clients time out around 10-30 s. */
export const STS_DEADLINE_MS = 8_000;
/** Largest STS response body we read; a success is ~1.5 KiB, an error far less. */
export const MAX_STS_RESPONSE_BYTES = 64 * 1024;
/** An STS attempt with less time than this left before STS_DEADLINE_MS is not started (nor slept towards): it would mostly time out. */
export const STS_MIN_ATTEMPT_MS = 500;
/** Deepest element nesting we accept in an STS XML body; AssumeRoleResponse nests 4 deep. */
export const MAX_STS_XML_DEPTH = 16;

// --- Admission control (issue #3) ----------------------------------------------------------
/** Largest per-rule issuance rate a policy may set; above this, STS throttles the broker anyway. */
export const MAX_RULE_RATE_PER_MINUTE = 6_000;
/** Largest per-rule burst a policy may set. */
export const MAX_RULE_BURST = 1_000;

// --- Responses -----------------------------------------------------------------------------
/** Retry-After on 503 upstream_unavailable: long enough for a transient blip to clear. */
export const UPSTREAM_RETRY_AFTER_SECONDS = 5;
/** Length of the token SHA-256 prefix (hex chars) written to logs: enough to correlate, useless to replay. */
export const TOKEN_HASH_PREFIX_HEX_CHARS = 16;

// --- Local sandbox (npm start; never part of the deployed Worker) -------------------------
/** Where `npm start` serves the broker (wrangler dev). */
export const SANDBOX_BROKER_PORT = 8787;
/** Where `npm start` serves the fake OIDC issuer and the STS emulator. */
export const SANDBOX_PORT = 8788;
/** Audience the sandbox issuer puts in tokens; matches the ISSUERS entry of [env.sandbox]. */
export const SANDBOX_AUDIENCE = "ci-credential-broker";
/** How long `npm start` waits for wrangler dev to answer /healthz before giving up. */
export const SANDBOX_STARTUP_TIMEOUT_MS = 60_000;
