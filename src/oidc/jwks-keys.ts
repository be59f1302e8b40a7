// The keys of one JWKS: the public members we keep, and key selection and import by jose (`createLocalJWKSet`),
// after the one check jose makes only at verification time (RSA modulus size). Pure; no I/O; no clock.
import { base64url, createLocalJWKSet } from "jose";
import * as errors from "jose/errors";
import { MAX_JWKS_KEYS, MIN_RSA_MODULUS_BITS } from "./constants.ts";
import { BrokerError } from "../errors.ts";

/** The public members of a JWK we keep. Private parts (`d`, `p`, ...), `x5c`, `x5u` and the rest are dropped. */
export interface PublicJwk {
  kty: string;
  kid?: string;
  use?: string;
  key_ops?: string[];
  alg?: string;
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

/** Picks the one verification key for a token header, or undefined when none or several fit. */
export type KeySelector = (header: { alg: string; kid: string | undefined }) => Promise<CryptoKey | undefined>;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const STRING_MEMBERS = ["kid", "use", "alg", "n", "e", "crv", "x", "y"] as const;

/** Keeps only public members of string type; undefined if `kty` is missing. */
export function publicJwk(value: unknown): PublicJwk | undefined {
  if (!isPlainObject(value) || typeof value.kty !== "string") return undefined;
  const jwk: PublicJwk = { kty: value.kty };
  for (const member of STRING_MEMBERS) {
    const memberValue = value[member];
    if (typeof memberValue === "string") jwk[member] = memberValue;
  }
  const keyOps = value.key_ops;
  // A malformed key_ops is kept as an empty list, so the key is refused rather than its restriction ignored.
  if (keyOps !== undefined)
    jwk.key_ops = Array.isArray(keyOps) ? keyOps.filter((op): op is string => typeof op === "string") : [];
  return jwk;
}

/** RFC 7517 §5: a JSON object with a `keys` array, at most MAX_JWKS_KEYS. Undefined for garbage or an empty set. */
export function parseJwks(body: unknown): PublicJwk[] | undefined {
  if (!isPlainObject(body) || !Array.isArray(body.keys)) return undefined;
  const raw: unknown[] = body.keys;
  if (raw.length === 0 || raw.length > MAX_JWKS_KEYS) return undefined;
  const keys = raw.map(publicJwk).filter((jwk): jwk is PublicJwk => jwk !== undefined);
  return keys.length === 0 ? undefined : keys;
}

/** Number of significant bits in a base64url big-endian integer (an RSA modulus `n`). */
export function modulusBits(n: string): number {
  let bytes: Uint8Array;
  try {
    if (!/^[A-Za-z0-9_-]*$/.test(n)) return 0;
    bytes = base64url.decode(n);
  } catch {
    return 0;
  }
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start += 1;
  if (start === bytes.length) return 0;
  return (bytes.length - start - 1) * 8 + (32 - Math.clz32(bytes[start] ?? 0));
}

/**
 * What jose checks only when verifying, or leaves to WebCrypto's import: a weak RSA modulus (jose then throws a
 * TypeError, which would read as our bug) and missing key material. Such a key is left out of selection, so it
 * neither verifies nor makes a good key ambiguous. `use`, `key_ops`, `alg`, `kty` and `crv` are jose's to check.
 */
export function hasUsableMaterial(jwk: PublicJwk): boolean {
  switch (jwk.kty) {
    case "RSA":
      return typeof jwk.e === "string" && typeof jwk.n === "string" && modulusBits(jwk.n) >= MIN_RSA_MODULUS_BITS;
    case "EC":
      return typeof jwk.x === "string" && typeof jwk.y === "string";
    case "OKP":
      return typeof jwk.x === "string";
    default:
      return false;
  }
}

/**
 * A selector over `keys`. jose picks the key (RFC 7517 §4.2-4.4: `use` "sig", `key_ops` with "verify", a key-level
 * `alg` equal to the token's, `kty`/`crv` of the alg, the `kid`), imports it once per set and alg, and refuses
 * ambiguity: without a kid the set must hold exactly one fitting key, with one exactly one key must carry it.
 */
export function keySelector(keys: readonly PublicJwk[]): KeySelector {
  const local = createLocalJWKSet({
    keys: keys.filter(hasUsableMaterial) as unknown as Parameters<typeof createLocalJWKSet>[0]["keys"],
  });
  return async ({ alg, kid }) => {
    try {
      return await local({ alg, kid });
    } catch (cause) {
      if (cause instanceof errors.JWKSNoMatchingKey || cause instanceof errors.JWKSMultipleMatchingKeys)
        return undefined;
      // A key that looks usable but jose or WebCrypto refuses is as good as absent.
      throw new BrokerError("invalid_token", "kid_unknown", { cause });
    }
  };
}
