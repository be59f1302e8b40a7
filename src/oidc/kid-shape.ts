// Whether a token's `kid` is shaped like one an issuer publishes. It decides one thing only: whether a kid missing from
// the cached key set may wait for a key rotation (a refetch, or 503 during the cooldown) or is refused at once.
// Pure; no I/O; no clock.
import { MAX_KID_CHARS } from "./constants.ts";

/**
 * What issuers publish (RFC 7517 §4.5 leaves `kid` free-form; these are the forms seen in real key sets):
 * - GitHub Actions: a UUID (`38826b17-6a30-5f9b-...`), earlier an upper-case SHA-1 hex thumbprint (`1F2AB834...`);
 * - GitLab, Keycloak, Okta, Kubernetes: RFC 7638 thumbprints, base64url without padding (43 characters);
 * - Google: SHA-1 hex; Entra ID: base64url x5t; others: dates (`2011-04-29`), `name:1`, `mrk-...`, `v1.2` ...
 * All of those are one token of `[A-Za-z0-9._:-]`.
 */
const WORD_KID = /^[A-Za-z0-9._:-]+$/;

/**
 * Standard base64 (RFC 4648 §4): Amazon Cognito, WSO2 and others publish thumbprints such as
 * `ZR+iPrkP5j2j9sFIYfjr6RBNAxA=`. Padded, as RFC 4648 §3.2 requires, so whole groups of four; `=` only at the end;
 * never mixed with `.`/`_`/`:`. A path (`../../etc/passwd`, `/etc/passwd`) matches neither form.
 */
const BASE64_KID = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64_GROUP_CHARS = 4;

/** True when `kid` may name a key the issuer has published since our last fetch. */
export function isPlausibleKid(kid: string): boolean {
  if (kid.length === 0 || kid.length > MAX_KID_CHARS) return false;
  return WORD_KID.test(kid) || (kid.length % BASE64_GROUP_CHARS === 0 && BASE64_KID.test(kid));
}
