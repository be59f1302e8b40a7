// Compact JWS signing (RFC 7515 §7.1) of the two JWTs the broker mints: the web-identity token (src/idp/) and the
// GitHub App JWT (src/github/app-key.ts). WebCrypto directly: jose's SignJWT builder adds ~1 KiB gzip to the Worker
// for three lines here (docs/performance.md). Verification of incoming tokens stays on jose (src/oidc/verify.ts).
// Crypto only; no network, no clock.
import { base64url } from "jose";
import type { SigningAlgorithm } from "./signing-keys.ts";

/** WebCrypto's sign parameters per JWS alg (RFC 7518 §3.3, §3.4); the key's own import fixed its hash and curve. */
const SIGN_PARAMS: Record<SigningAlgorithm, { name: string; hash?: string }> = {
  RS256: { name: "RSASSA-PKCS1-v1_5" },
  ES256: { name: "ECDSA", hash: "SHA-256" },
};

const encoder = new TextEncoder();
const segment = (value: object) => base64url.encode(JSON.stringify(value));

/**
 * `header.claims.signature`. `key` must have been imported for `header.alg` (RS256: RSASSA-PKCS1-v1_5 SHA-256;
 * ES256: ECDSA P-256), else WebCrypto throws. ECDSA signatures come from WebCrypto already in JWS's r||s form.
 */
export async function signJwt(header: { alg: SigningAlgorithm; kid?: string; typ: "JWT" }, claims: object, key: CryptoKey): Promise<string> {
  const input = `${segment(header)}.${segment(claims)}`;
  const signature = await crypto.subtle.sign(SIGN_PARAMS[header.alg], key, encoder.encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}
