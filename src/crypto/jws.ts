// Compact JWS signing (RFC 7515 §7.1) of the two JWTs the broker mints: the web-identity token (src/idp/) and the
// GitHub App JWT (src/github/app-key.ts). WebCrypto directly: jose's SignJWT builder adds ~1 KiB gzip to the Worker
// for three lines here (docs/performance.md). Verification of incoming tokens stays on jose (src/oidc/verify.ts).
// Crypto only; no network, no clock.
import { base64url } from "jose";

/** The JWS algorithms the broker signs with (AWS accepts RSA and EC keys from an OIDC provider's JWKS). */
export type SigningAlgorithm = "RS256" | "ES256";

/**
 * WebCrypto's parameters per JWS alg (RFC 7518 §3.3 RS256, §3.4 ES256), good for both importKey and sign (each reads
 * the members it needs: hash and namedCurve at import, hash for an ECDSA signature).
 */
export const SIGNING_PARAMS: Readonly<Record<SigningAlgorithm, { name: string; hash: string; namedCurve?: string }>> = {
  RS256: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  ES256: { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" },
};

const encoder = new TextEncoder();
const segment = (value: object) => base64url.encode(JSON.stringify(value));

/**
 * `header.claims.signature`. `key` must have been imported for `header.alg` (RS256: RSASSA-PKCS1-v1_5 SHA-256;
 * ES256: ECDSA P-256), else WebCrypto throws. ECDSA signatures come from WebCrypto already in JWS's r||s form.
 */
export async function signJwt(
  header: { alg: SigningAlgorithm; kid?: string; typ: "JWT" },
  claims: object,
  key: CryptoKey,
): Promise<string> {
  const input = `${segment(header)}.${segment(claims)}`;
  const signature = await crypto.subtle.sign(SIGNING_PARAMS[header.alg], key, encoder.encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}
