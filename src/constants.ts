// Workers platform limits that features which do not import each other both rely on (the JWKS cache and the alert
// incident store both write KV entries with an expiration). Everything else lives in its folder's constants.ts.
// Unit in the name; one line of why each. Changing one changes behaviour a client or operator can see: note it in
// docs/.

// --- Workers KV ---
/** KV expiration of a cached key set: must outlive the stale window; KV requires at least 60 s. */
export const KV_MIN_EXPIRATION_TTL_SECONDS = 60;
