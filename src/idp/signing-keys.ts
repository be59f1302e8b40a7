// The broker's own signing keys in web-identity mode: import the current and next private keys once, derive the
// public JWKS (kid = RFC 7638 thumbprint). Crypto only (WebCrypto via jose); no network, no clock.
// AWS accepts RSA and EC keys from the JWKS of an OIDC provider; we use RS256 (>= 2048-bit modulus) or ES256 (P-256).
import { calculateJwkThumbprint, exportJWK, importJWK, importPKCS8, type JWK } from "jose";
import { MIN_RSA_MODULUS_BITS } from "../constants.ts";
import { modulusBits } from "../oidc/jwks-keys.ts";
import { BrokerError } from "../errors.ts";
import type { WebIdentityOptions } from "./config.ts";

export type SigningAlgorithm = "RS256" | "ES256";

/** One key as published in the JWKS: public members only. */
export interface PublishedJwk {
  kty: "RSA" | "EC";
  kid: string;
  use: "sig";
  alg: SigningAlgorithm;
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey;
  publicJwk: PublishedJwk;
}

export interface SigningKeys {
  /** Signs every token. */
  current: SigningKey;
  /** Published, never used to sign: operators promote it to current at the next rotation. */
  next: SigningKey | undefined;
  /** The JWKS document: current first, then next (a duplicate of current is published once). */
  jwks: { keys: PublishedJwk[] };
}

/** Which secret was bad: the error names it, never its value. */
function invalid(name: string, why: string): BrokerError {
  return new BrokerError("config_invalid", "signing_key_invalid", { cause: `${name}: ${why}` });
}

/** Public members of a private JWK, checked for the algorithms we sign with. */
function publicPart(jwk: JWK, name: string): { alg: SigningAlgorithm; members: Omit<PublishedJwk, "kid" | "use" | "alg"> } {
  if (jwk.kty === "RSA" && typeof jwk.n === "string" && typeof jwk.e === "string") {
    if (jwk.alg !== undefined && jwk.alg !== "RS256") throw invalid(name, "an RSA key must be for RS256");
    if (modulusBits(jwk.n) < MIN_RSA_MODULUS_BITS) throw invalid(name, `RSA modulus below ${MIN_RSA_MODULUS_BITS} bits`);
    return { alg: "RS256", members: { kty: "RSA", n: jwk.n, e: jwk.e } };
  }
  if (jwk.kty === "EC" && jwk.crv === "P-256" && typeof jwk.x === "string" && typeof jwk.y === "string") {
    if (jwk.alg !== undefined && jwk.alg !== "ES256") throw invalid(name, "a P-256 key must be for ES256");
    return { alg: "ES256", members: { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y } };
  }
  throw invalid(name, "only RSA (RS256) and EC P-256 (ES256) keys are supported");
}

/** Imports one secret (private JWK or PKCS#8 PEM). */
export async function importSigningKey(text: string, name: string): Promise<SigningKey> {
  let privateJwk: JWK;
  let privateKey: CryptoKey;
  let alg: SigningAlgorithm;
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try {
      privateJwk = JSON.parse(trimmed) as JWK;
    } catch {
      throw invalid(name, "not JSON");
    }
    if (typeof privateJwk.d !== "string") throw invalid(name, "not a private key");
    alg = publicPart(privateJwk, name).alg;
    try {
      privateKey = (await importJWK({ ...privateJwk, alg }, alg)) as CryptoKey;
    } catch {
      throw invalid(name, "the JWK does not import");
    }
  } else {
    // A PKCS#8 block names its algorithm inside; try RSA then P-256. Extractable only to read its public members:
    // the key that signs is imported again, non-extractable, from that JWK.
    const imported = await importPKCS8(trimmed, "RS256", { extractable: true })
      .then((key) => ({ key, alg: "RS256" as const }))
      .catch(() => importPKCS8(trimmed, "ES256", { extractable: true }).then((key) => ({ key, alg: "ES256" as const })))
      .catch(() => undefined);
    if (imported === undefined) throw invalid(name, "not an RSA or P-256 PKCS#8 private key");
    privateJwk = await exportJWK(imported.key);
    alg = publicPart(privateJwk, name).alg;
    privateKey = (await importJWK({ ...privateJwk, alg }, alg)) as CryptoKey;
  }
  const { members } = publicPart(privateJwk, name);
  // RFC 7638: the thumbprint over the required public members only, so it is the same whichever form the secret has.
  const kid = await calculateJwkThumbprint(members as JWK, "sha256");
  return { kid, alg, privateKey, publicJwk: { ...members, kid, use: "sig", alg } };
}

/** Imports the current and next keys. Throws `config_invalid`/`signing_key_invalid` naming the secret. */
export async function loadSigningKeys(options: Pick<WebIdentityOptions, "signingKey" | "nextSigningKey">): Promise<SigningKeys> {
  const current = await importSigningKey(options.signingKey, "BROKER_SIGNING_KEY");
  const next = options.nextSigningKey === undefined ? undefined : await importSigningKey(options.nextSigningKey, "BROKER_SIGNING_KEY_NEXT");
  const keys = [current.publicJwk, ...(next === undefined || next.kid === current.kid ? [] : [next.publicJwk])];
  return { current, next, jwks: { keys } };
}
