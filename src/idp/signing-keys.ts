// The broker's own signing keys in web-identity mode: import the current and next private keys once, derive the
// public JWKS (kid = RFC 7638 thumbprint). Crypto only (WebCrypto directly: jose's key import/export would add
// ~2 KiB gzip to the bundle for what is a few calls here); no network, no clock.
// AWS accepts RSA and EC keys from the JWKS of an OIDC provider; we use RS256 (>= 2048-bit modulus) or ES256 (P-256).
import { base64url, type JWK } from "jose";
import { MIN_RSA_MODULUS_BITS } from "../oidc/constants.ts";
import { modulusBits } from "../oidc/jwks-keys.ts";
import { BrokerError } from "../errors.ts";
import { pemToPkcs8 } from "../github/app-key.ts";
import { SIGNING_PARAMS, type SigningAlgorithm } from "./jws.ts";
import type { WebIdentityOptions } from "./config.ts";

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
function publicPart(
  jwk: JWK,
  name: string,
): { alg: SigningAlgorithm; members: Omit<PublishedJwk, "kid" | "use" | "alg"> } {
  if (jwk.kty === "RSA" && typeof jwk.n === "string" && typeof jwk.e === "string") {
    if (jwk.alg !== undefined && jwk.alg !== "RS256") throw invalid(name, "an RSA key must be for RS256");
    if (modulusBits(jwk.n) < MIN_RSA_MODULUS_BITS)
      throw invalid(name, `RSA modulus below ${MIN_RSA_MODULUS_BITS} bits`);
    return { alg: "RS256", members: { kty: "RSA", n: jwk.n, e: jwk.e } };
  }
  if (jwk.kty === "EC" && jwk.crv === "P-256" && typeof jwk.x === "string" && typeof jwk.y === "string") {
    if (jwk.alg !== undefined && jwk.alg !== "ES256") throw invalid(name, "a P-256 key must be for ES256");
    return { alg: "ES256", members: { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y } };
  }
  throw invalid(name, "only RSA (RS256) and EC P-256 (ES256) keys are supported");
}

/**
 * Imports one secret (private JWK or PKCS#8 PEM) with WebCrypto directly. The signing key is non-extractable; a PEM
 * is imported a first time extractable only to read its public members (WebCrypto has no public-from-private call).
 */
export async function importSigningKey(text: string, name: string): Promise<SigningKey> {
  let privateJwk: JWK;
  let importSigner: (alg: SigningAlgorithm) => Promise<CryptoKey>;
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try {
      privateJwk = JSON.parse(trimmed) as JWK;
    } catch {
      throw invalid(name, "not JSON");
    }
    if (typeof privateJwk.d !== "string") throw invalid(name, "not a private key");
    // As jose's importJWK: `use` is not WebCrypto's business, `alg` is the one checked by publicPart.
    const { use: _use, ...members } = privateJwk;
    importSigner = (alg) =>
      crypto.subtle.importKey("jwk", { ...members, alg } as JsonWebKey, SIGNING_PARAMS[alg], false, ["sign"]);
  } else {
    // A PKCS#8 block names its algorithm inside; try RSA then P-256 (another curve fails the P-256 import).
    let der: Uint8Array<ArrayBuffer>;
    try {
      der = new Uint8Array(pemToPkcs8(trimmed));
    } catch {
      throw invalid(name, "not a PKCS#8 PEM block");
    }
    importSigner = (alg) => crypto.subtle.importKey("pkcs8", der, SIGNING_PARAMS[alg], false, ["sign"]);
    const extractable = (alg: SigningAlgorithm) =>
      crypto.subtle.importKey("pkcs8", der, SIGNING_PARAMS[alg], true, ["sign"]);
    const key = await extractable("RS256")
      .catch(() => extractable("ES256"))
      .catch(() => undefined);
    if (key === undefined) throw invalid(name, "not an RSA or P-256 PKCS#8 private key");
    privateJwk = (await crypto.subtle.exportKey("jwk", key)) as JWK;
  }
  const { alg, members } = publicPart(privateJwk, name);
  const privateKey = await importSigner(alg).catch(() => {
    throw invalid(name, "the key does not import");
  });
  const kid = await jwkThumbprint(members);
  return { kid, alg, privateKey, publicJwk: { ...members, kid, use: "sig", alg } };
}

/**
 * RFC 7638 §3: base64url(SHA-256) of the required public members only, in lexicographic order, no whitespace, so the
 * kid is the same whichever form the secret has. Our members are base64url strings and fixed names: no escaping.
 */
export async function jwkThumbprint(members: Omit<PublishedJwk, "kid" | "use" | "alg">): Promise<string> {
  const required =
    members.kty === "RSA"
      ? { e: members.e, kty: members.kty, n: members.n }
      : { crv: members.crv, kty: members.kty, x: members.x, y: members.y };
  return base64url.encode(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(required)))),
  );
}

/** Imports the current and next keys. Throws `config_invalid`/`signing_key_invalid` naming the secret. */
export async function loadSigningKeys(
  options: Pick<WebIdentityOptions, "signingKey" | "nextSigningKey">,
): Promise<SigningKeys> {
  const current = await importSigningKey(options.signingKey, "BROKER_SIGNING_KEY");
  const next =
    options.nextSigningKey === undefined
      ? undefined
      : await importSigningKey(options.nextSigningKey, "BROKER_SIGNING_KEY_NEXT");
  const keys = [current.publicJwk, ...(next === undefined || next.kid === current.kid ? [] : [next.publicJwk])];
  return { current, next, jwks: { keys } };
}
