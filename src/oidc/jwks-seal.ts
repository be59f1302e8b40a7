// The KV form of a cached key set: its key, and an HMAC seal over key, fetch time and keys, so a set written by
// anyone without the Worker's secrets is a cache miss. Pure but for WebCrypto; no I/O; no clock.
import { base64url } from "jose";
import { sha256HexPrefix } from "../http/sha256-prefix.ts";
import type { IssuerConfig } from "./issuers.ts";
import { isPlainObject, parseJwks, type PublicJwk } from "./jwks-keys.ts";

/** A key set as stored: when the issuer served it (ms since epoch) and its public keys. */
export interface StoredKeySet {
  fetchedAt: number;
  keys: PublicJwk[];
}

const utf8 = new TextEncoder();

/** KV key of an issuer's cached set: hashed so any URL fits KV's 512-byte key limit. `v1` names the value format. */
export async function jwksKvKey(issuer: Pick<IssuerConfig, "issuer" | "jwksUri">): Promise<string> {
  return `jwks:v1:${await sha256HexPrefix(`${issuer.issuer}\n${issuer.jwksUri ?? ""}`, 64)}`;
}

/**
 * The HMAC key for sealing cached key sets, derived from a Worker secret (the broker's AWS secret key): whoever can
 * write KV but not read the Worker's secrets cannot forge a set. Rotating the secret only costs one refetch.
 */
export async function deriveJwksIntegrityKey(secret: string): Promise<CryptoKey> {
  const material = await crypto.subtle.digest("SHA-256", utf8.encode(`ci-credential-broker/jwks-cache/v1\n${secret}`));
  return crypto.subtle.importKey("raw", material, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

/** What the seal covers: the KV key (so a set cannot be moved to another issuer), the fetch time and the keys. */
function sealInput(kvKey: string, fetchedAt: number, keys: readonly PublicJwk[]): Uint8Array {
  return utf8.encode(`${kvKey}\n${fetchedAt}\n${JSON.stringify(keys)}`);
}

/** The KV value for `set`: `{ fetchedAt, keys, mac }`. */
export async function sealKeySet(set: StoredKeySet, kvKey: string, key: CryptoKey): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, sealInput(kvKey, set.fetchedAt, set.keys)));
  return JSON.stringify({ fetchedAt: set.fetchedAt, keys: set.keys, mac: base64url.encode(mac) });
}

/** The stored set, or undefined when it is malformed or its seal does not verify (then it is a cache miss). */
export async function openKeySet(text: string, kvKey: string, key: CryptoKey): Promise<StoredKeySet | undefined> {
  try {
    const value: unknown = JSON.parse(text);
    if (!isPlainObject(value) || typeof value.fetchedAt !== "number" || !Number.isFinite(value.fetchedAt))
      return undefined;
    const mac = value.mac;
    if (typeof mac !== "string" || !/^[A-Za-z0-9_-]*$/.test(mac) || !Array.isArray(value.keys)) return undefined;
    const stored = value.keys as PublicJwk[];
    const valid = await crypto.subtle.verify(
      "HMAC",
      key,
      base64url.decode(mac),
      sealInput(kvKey, value.fetchedAt, stored),
    );
    const keys = valid ? parseJwks(value) : undefined;
    return keys === undefined ? undefined : { fetchedAt: value.fetchedAt, keys };
  } catch {
    return undefined;
  }
}
