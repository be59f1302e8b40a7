// Limits of OIDC token verification and of the JWKS cache chain, and the defaults an issuer's configuration starts
// from.
// Unit in the name; one line of why each. Changing one changes behaviour a client or operator can see: note it in
// docs/.

// --- Token shape ---
/** Largest token we parse; GitHub tokens are ~1-2 KiB, 8 KiB leaves room for other issuers. */
export const MAX_TOKEN_BYTES = 8 * 1024;

// --- Token verification ---
/** Default allowed clock skew between issuer, runner and us; GitHub runners drift a few seconds. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 10;
/** Upper bound an operator may configure for clock tolerance; more makes expiry meaningless. */
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;
/** Default oldest `iat` we accept; GitHub tokens live 5-10 minutes, so older means replayed or hoarded. */
export const DEFAULT_MAX_TOKEN_AGE_SECONDS = 15 * 60;
/**
 * Longest `exp - iat` we accept. GitHub tokens are usually 5-10 min but have been seen at 6 h; freshness is
 * MAX_TOKEN_AGE's job.
 */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 6 * 60 * 60;
/** Smallest RSA modulus we trust for RS256 (NIST SP 800-131A; jose also refuses < 2048). */
export const MIN_RSA_MODULUS_BITS = 2048;

// --- JWKS cache chain ---
/** How long a fetched key set is used without revalidation; GitHub rotates keys rarely. */
export const JWKS_FRESH_MS = 10 * 60 * 1000;
/** Default time we keep serving the last good key set while the issuer is down. */
export const DEFAULT_JWKS_MAX_STALE_SECONDS = 24 * 60 * 60;
/** A cached key set claiming to be fetched further in the future than this is ignored (clock skew between isolates). */
export const JWKS_STORED_FUTURE_SKEW_MS = 60 * 1000;
/**
 * Minimum gap between two refetches of one issuer's JWKS triggered by an unknown kid. Half the client's 60 s deadline,
 * so a job whose token is signed by a key published inside the cooldown (503 with Retry-After) still gets through.
 */
export const JWKS_REFETCH_COOLDOWN_MS = 30 * 1000;
/** Timeout for one JWKS or discovery fetch; the request waits on it, so keep it short. */
export const JWKS_FETCH_TIMEOUT_MS = 3_000;
/** Longest a request waits on another request's JWKS refresh: discovery + JWKS fetches, plus a second for KV. */
export const JWKS_INFLIGHT_MAX_MS = 2 * JWKS_FETCH_TIMEOUT_MS + 1_000;
/** Largest JWKS or discovery document we read; GitHub's is ~2 KiB. Caps memory on a hostile issuer. */
export const MAX_JWKS_RESPONSE_BYTES = 64 * 1024;
/** Most keys we accept in one JWKS; more is an attack or a misconfiguration. */
export const MAX_JWKS_KEYS = 50;
/**
 * After a failed JWKS/discovery fetch, wait this long before trying again (stale set or 503 meanwhile); matches
 * Retry-After.
 */
export const JWKS_FAILURE_BACKOFF_MS = 5_000;
/**
 * Longest unknown `kid` that may wait for a key rotation (refetch, or 503 during the cooldown); a longer one is refused
 * at once. Real kids are far shorter: UUID 36, SHA-1 hex 40, RFC 7638 base64url 43, base64 SHA-512 88 characters.
 */
export const MAX_KID_CHARS = 128;
/** Longest `jti` we accept; GitHub's is a 36-char UUID, and the admission store keys on it. */
export const MAX_JTI_CHARS = 256;

// --- Audience ---
/**
 * The audience the client and the sample configuration default to: the same in every deployment, so a token minted
 * for one deployment is accepted by every other that keeps it. Config validation warns when a non-sandbox issuer
 * accepts it (docs/security.md, "Audience").
 */
export const SHARED_DEFAULT_AUDIENCE = "ci-credential-broker";
