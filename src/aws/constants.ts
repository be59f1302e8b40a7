// Limits of STS AssumeRole: what STS accepts, how long and how often we try, how much of its answer we read.
// Unit in the name; one line of why each. Changing one changes behaviour a client or operator can see: note it in
// docs/.

// --- STS ---
/** Credentials we issue by default: 15 minutes, the STS minimum and our whole reason to exist. */
export const DEFAULT_SESSION_DURATION_SECONDS = 900;
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
/**
 * Hex characters of SHA-256(login) in a SourceIdentity whose login cannot stand as it is (too long, or outside the
 * login alphabets): 128 bits, so no two logins share one. Fewer only where the issuer prefix leaves less room in 64.
 */
export const SOURCE_IDENTITY_HASH_HEX_CHARS = 32;
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
/**
 * An STS attempt with less time than this left before STS_DEADLINE_MS is not started (nor slept towards): it would
 * mostly time out.
 */
export const STS_MIN_ATTEMPT_MS = 500;
/** Deepest element nesting we accept in an STS XML body; AssumeRoleResponse nests 4 deep. */
export const MAX_STS_XML_DEPTH = 16;
/** STS limit on managed session policies (`PolicyArns`) per AssumeRole call. */
export const STS_MAX_POLICY_ARNS = 10;
/** STS ExternalId length bounds, in characters. */
export const STS_MIN_EXTERNAL_ID_CHARS = 2;
export const STS_MAX_EXTERNAL_ID_CHARS = 1224;
