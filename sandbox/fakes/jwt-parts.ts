// JWT building blocks for the fake issuer and for hand-built hostile tokens: segments, signatures (also under a
// header alg that differs from the key's), HMAC keyed with a public key, PEM export and signing key pairs.
// Platform-neutral: WebCrypto and jose only (workerd and Node 24).
import { base64url, exportJWK, generateKeyPair, type JWK } from "jose";

export interface AddKeyOptions {
  /** Key algorithm: RS256 (default), PS256, ES256, ... */
  alg?: string;
  /** RSA modulus length; below 2048 is generated with WebCrypto directly (jose refuses). */
  modulusLength?: number;
  kid?: string;
  /** Extra JWK members as served (e.g. `{ use: "enc" }`, `{ alg: "RS384" }`). */
  jwk?: Record<string, unknown>;
}

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The JWK as served in the JWKS. */
  publicJwk: JWK;
}

const utf8 = new TextEncoder();

/** base64url(JSON(value)), the encoding of a JWS header or payload segment. */
export function encodeSegment(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

/** A compact token assembled by hand: `alg: none` (empty or junk signature), padding, odd segments. */
export function unsignedToken(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signature = "",
): string {
  return `${encodeSegment(header)}.${encodeSegment(payload)}.${signature}`;
}

/** WebCrypto parameters producing a JWS signature for `alg` (RFC 7518 §3). */
function signParams(alg: string): Parameters<typeof crypto.subtle.sign>[0] {
  const bits = alg.slice(2);
  if (alg.startsWith("RS")) return { name: "RSASSA-PKCS1-v1_5" };
  if (alg.startsWith("PS")) return { name: "RSA-PSS", saltLength: Number(bits) / 8 };
  if (alg.startsWith("ES")) return { name: "ECDSA", hash: `SHA-${bits}` };
  if (alg.startsWith("HS")) return { name: "HMAC" };
  if (alg === "EdDSA" || alg === "Ed25519") return { name: "Ed25519" };
  throw new TypeError(`fake issuer: cannot sign ${alg}`);
}

/**
 * Signs `header.payload` with `key` using `signAlg` (default: header.alg). The header is taken as given, so
 * the token may claim one alg and be signed with another, or carry jku/jwk/x5u/crit members.
 */
export async function signCompact(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: CryptoKey,
  signAlg?: string,
): Promise<string> {
  const input = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  const alg = signAlg ?? String(header.alg);
  const signature = await crypto.subtle.sign(signParams(alg), key, utf8.encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

/** An HMAC-signed token (the RS256 -> HS256 confusion attack uses the issuer's public key as `secret`). */
export async function hmacToken(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret: Uint8Array,
): Promise<string> {
  const alg = String(header.alg ?? "HS256");
  const key = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(secret),
    { name: "HMAC", hash: `SHA-${alg.slice(2)}` },
    false,
    ["sign"],
  );
  return signCompact(header, payload, key, alg);
}

/** The PEM (SPKI) text of a public key: what a confused verifier would use as an HMAC secret. */
export async function spkiPem(publicKey: CryptoKey): Promise<string> {
  const der = new Uint8Array((await crypto.subtle.exportKey("spki", publicKey)) as ArrayBuffer);
  const base64 = btoa(Array.from(der, (byte) => String.fromCharCode(byte)).join(""));
  return `-----BEGIN PUBLIC KEY-----\n${base64.replace(/.{64}/g, "$&\n")}\n-----END PUBLIC KEY-----\n`;
}

/** A signing key pair for `alg`, generated now. RSA below 2048 bits goes through WebCrypto directly. */
export async function generateSigningKey(options: AddKeyOptions = {}): Promise<SigningKey> {
  const alg = options.alg ?? "RS256";
  const kid = options.kid ?? crypto.randomUUID();
  let pair: CryptoKeyPair;
  if (options.modulusLength !== undefined && options.modulusLength < 2048) {
    const name = alg.startsWith("PS") ? "RSA-PSS" : "RSASSA-PKCS1-v1_5";
    pair = (await crypto.subtle.generateKey(
      {
        name,
        modulusLength: options.modulusLength,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: `SHA-${alg.slice(2)}`,
      },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
  } else {
    const rsa = options.modulusLength === undefined ? {} : { modulusLength: options.modulusLength };
    pair = await generateKeyPair(alg, { extractable: true, ...rsa });
  }
  const exported = await exportJWK(pair.publicKey);
  const publicJwk: JWK = { ...exported, kid, use: "sig", alg, ...options.jwk };
  return { kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey, publicJwk };
}
