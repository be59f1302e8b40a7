// Limits of the request the broker reads and constants of the answers it writes.
// Unit in the name; one line of why each. Changing one changes behaviour a client or operator can see: note it in
// docs/.

// --- HTTP request ---
/** Largest request body we read; a token plus a few fields fits in a fraction of it. */
export const MAX_REQUEST_BODY_BYTES = 16 * 1024;

// --- Credential request: the durations STS accepts ---
/** STS minimum DurationSeconds for AssumeRole. */
export const STS_MIN_DURATION_SECONDS = 900;
/** STS maximum DurationSeconds for AssumeRole (role's MaxSessionDuration may be lower). */
export const STS_MAX_DURATION_SECONDS = 43_200;

// --- Responses ---
/** Retry-After on 503 upstream_unavailable: long enough for a transient blip to clear. */
export const UPSTREAM_RETRY_AFTER_SECONDS = 5;
