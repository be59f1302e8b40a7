// Constants of web-identity mode: the broker as an OpenID provider whose tokens AWS STS accepts.
// Unit in the name; one line of why each. Changing one changes behaviour a client or operator can see: note it in
// docs/.

// --- Web-identity mode: the broker as an OIDC provider for AWS ---
/** `aud` of the broker's tokens: the audience AWS expects from an OIDC provider registered for STS. */
export const WEB_IDENTITY_AUDIENCE = "sts.amazonaws.com";
/** Lifetime of a minted token: 5 minutes, the ceiling; one exchange (STS deadline 8 s) uses it once. */
export const WEB_IDENTITY_TOKEN_LIFETIME_SECONDS = 5 * 60;
/** SubjectFromWebIdentityToken length bounds (AssumeRoleWithWebIdentity API reference). */
export const WEB_IDENTITY_MIN_SUBJECT_CHARS = 6;
export const WEB_IDENTITY_MAX_SUBJECT_CHARS = 255;
/** Cache-Control max-age of discovery and JWKS: a next key published now is seen by every cache within 5 minutes. */
export const WELL_KNOWN_MAX_AGE_SECONDS = 5 * 60;
