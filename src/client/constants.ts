// Every limit and timeout of the CI client, unit in the name, one line of why each.
// Its own module, not the Worker's (src/*/constants.ts): the client ships apart from the Worker (a committed bundle on
// CI
// runners), its timing answers to the CI job rather than to STS, and importing the Worker's constants would drag them
// into
// the bundle (esbuild keeps them), so every broker tweak would make the bundle stale. The few facts both sides share
// are copied below and a
// unit test (test/client/constants.test.ts) holds them equal to the broker's.

// --- Retries (full jitter, https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/) -----
/**
 * Total time one credential fetch may take, retries included: a CI step that waits a minute beats a failed job, and an
 * AWS SDK calling credential_process sets no timeout of its own.
 */
export const CLIENT_DEADLINE_MS = 60_000;
/**
 * Timeout of one HTTP attempt to the broker; the broker's own worst case is a JWKS fetch (3 s) plus its STS deadline (8
 * s).
 */
export const CLIENT_ATTEMPT_TIMEOUT_MS = 15_000;
/** Timeout of one request for an OIDC token (GitHub's token endpoint answers in well under a second). */
export const CLIENT_TOKEN_TIMEOUT_MS = 10_000;
/**
 * Most attempts (first included) while the broker gives no Retry-After: full jitter can draw near-zero sleeps, so the
 * deadline alone would not bound a refused-connection loop.
 */
export const CLIENT_MAX_ATTEMPTS = 6;
/**
 * Jitter added to a Retry-After wait, uniform in [0, this): spreads callers told the same whole second across it
 * (docs/fleet-scale.md).
 */
export const CLIENT_RETRY_AFTER_JITTER_MS = 1_000;
/**
 * Shortest wait on a Retry-After (a proxy's "0" included): bounds the attempts a deadline allows when the broker names
 * the wait.
 */
export const CLIENT_RETRY_AFTER_MIN_MS = 1_000;
/** Base of the exponential backoff between attempts. */
export const CLIENT_BACKOFF_BASE_MS = 500;
/** Cap of one backoff sleep (before Retry-After, which may ask for longer). */
export const CLIENT_BACKOFF_CAP_MS = 8_000;
/**
 * An attempt with less time than this left before the deadline is not started, nor slept towards: it would mostly time
 * out.
 */
export const CLIENT_MIN_ATTEMPT_MS = 1_000;

// --- Sizes ---------------------------------------------------------------------------------
/** Largest broker answer we read; credentials are ~1.5-3 KiB (the session token dominates). */
export const MAX_BROKER_RESPONSE_BYTES = 32 * 1024;
/** Largest OIDC token endpoint answer or token file we read; GitHub's tokens are ~1-2 KiB. */
export const MAX_ID_TOKEN_BYTES = 16 * 1024;
/** Longest session token we accept: STS documents no limit; real ones are 600-2000 characters. */
export const MAX_SESSION_TOKEN_CHARS = 8 * 1024;
/** Longest audience we send; a DNS name or URL fits, more is a typo or an injection. */
export const MAX_AUDIENCE_CHARS = 255;

// --- Shared with the broker (test/client/constants.test.ts keeps them equal) ----------------------
/** STS AssumeRole DurationSeconds bounds: a duration outside fails here, before a token is spent. */
export const MIN_DURATION_SECONDS = 900;
export const MAX_DURATION_SECONDS = 43_200;
/**
 * Lifetime the broker gives when the client asks for none (DEFAULT_SESSION_DURATION_SECONDS): named in the notice to
 * migrated steps.
 */
export const BROKER_DEFAULT_DURATION_SECONDS = 900;
/** GitHub REST API version sent with the revocation call (the broker's GITHUB_API_VERSION). */
export const GITHUB_API_VERSION = "2022-11-28";
/**
 * Hex characters of the token SHA-256 the broker writes to its audit event; debug lines print the same prefix to
 * correlate.
 */
export const TOKEN_HASH_PREFIX_HEX_CHARS = 16;

// --- GitHub tokens (docs/github-tokens.md) ----------------------------------------------------------
/**
 * Longest installation token accepted: classic ones are 40 characters, the stateless `ghs_<app id>_<JWT>` form about
 * 520.
 */
export const MAX_GITHUB_TOKEN_CHARS = 4096;
/**
 * Installation tokens live one hour (GitHub's "Create an installation access token"); a later expires_at is
 * implausible.
 */
export const GITHUB_TOKEN_LIFETIME_MS = 60 * 60 * 1000;
/**
 * A cached token is used until this long before it expires, then a new one is minted: git asks once per operation and a
 * long push or clone must not outlive its token, and runner and GitHub clocks may differ by a little.
 */
export const GITHUB_TOKEN_CACHE_MARGIN_MS = 5 * 60 * 1000;
/** Timeout of one revocation call to GitHub (DELETE /installation/token answers in well under a second). */
export const GITHUB_REVOKE_TIMEOUT_MS = 10_000;
/** Largest git credential description read from stdin: git caps a line at 65535 bytes and sends a handful of lines. */
export const MAX_GIT_CREDENTIAL_INPUT_BYTES = 128 * 1024;
/** Largest cache or revocation-list file read: a few hundred bytes per token, a job mints a handful. */
export const MAX_TOKEN_CACHE_FILE_BYTES = 256 * 1024;
/** A mint lock older than this is a crashed helper's: one exchange gives up at CLIENT_DEADLINE_MS, plus slack. */
export const TOKEN_CACHE_LOCK_STALE_MS = 70_000;
/** How often a helper waiting for another helper's mint looks again. */
export const TOKEN_CACHE_LOCK_POLL_MS = 100;

// --- Defaults ------------------------------------------------------------------------------
/** Audience asked for when none is given: the one the broker's default ISSUERS entry trusts (wrangler.toml). */
export const DEFAULT_AUDIENCE = "ci-credential-broker";
/**
 * aws-actions/configure-aws-credentials' default role-duration-seconds with OIDC ("Default is one hour"): what a
 * migrated step had.
 */
export const CONFIGURE_AWS_CREDENTIALS_DEFAULT_DURATION_SECONDS = 3_600;
/**
 * Expiration may run this far past the longest STS session before we call the answer implausible (broker and runner
 * clocks differ).
 */
export const EXPIRATION_SLACK_MS = 5 * 60 * 1000;
