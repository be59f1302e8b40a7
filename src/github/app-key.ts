// The GitHub App's private key and the App JWT it signs (docs/github-facts.md). The PEM is parsed at config time
// (src/crypto/pem.ts, so a bad key fails at start); `signAppJwt` signs with WebCrypto (src/crypto/jws.ts).
import { GITHUB_APP_JWT_BACKDATE_SECONDS, GITHUB_APP_JWT_LIFETIME_SECONDS } from "./constants.ts";
import { signJwt } from "../crypto/jws.ts";

/** Imports the key for RS256 signing (RSASSA-PKCS1-v1_5 with SHA-256). Non-extractable. */
export async function importAppKey(pkcs8: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "pkcs8",
    new Uint8Array(pkcs8),
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

export interface AppJwt {
  jwt: string;
  /** `exp`, epoch seconds. */
  expiresAt: number;
}

/**
 * An App JWT: RS256, `iss` = the App id, `iat` 60 s in the past (clock drift), `exp` within GitHub's 10-minute limit.
 * (docs.github.com: "Generating a JSON Web Token (JWT) for a GitHub App".)
 */
export async function signAppJwt(appId: string, key: CryptoKey, nowMs: number): Promise<AppJwt> {
  const iat = Math.floor(nowMs / 1000) - GITHUB_APP_JWT_BACKDATE_SECONDS;
  const expiresAt = iat + GITHUB_APP_JWT_LIFETIME_SECONDS;
  const jwt = await signJwt({ alg: "RS256", typ: "JWT" }, { iss: appId, iat, exp: expiresAt }, key);
  return { jwt, expiresAt };
}
