// The JWKS cache chain: isolate memory -> KV (with fetched-at time) -> HTTPS fetch of the issuer's key set.
// I/O through injected KV and fetch; time from the injected clock. Key locations come from config or discovery only.
import { importJWK, type JWK } from "jose";
import {
  JWKS_FAILURE_BACKOFF_MS,
  JWKS_FETCH_TIMEOUT_MS,
  JWKS_FRESH_MS,
  JWKS_REFETCH_COOLDOWN_MS,
  KV_MIN_EXPIRATION_TTL_SECONDS,
  MAX_JWKS_KEYS,
  MAX_JWKS_RESPONSE_BYTES,
  MIN_RSA_MODULUS_BITS,
  UPSTREAM_RETRY_AFTER_SECONDS,
} from "../constants.ts";
import type { Clock, FetchFn, LogFn } from "../deps.ts";
import { JWKS_INFLIGHT_MAX_MS, JWKS_STORED_FUTURE_SKEW_MS } from "../constants.ts";
import { BrokerError } from "../errors.ts";
import type { IssuerConfig } from "./issuers.ts";
import { isLoopbackHttp } from "../http/trusted-url.ts";
import { readTextCapped } from "../http/read-capped.ts";

/**
 * The part of a Workers KV namespace the cache uses. `KVNamespace` satisfies it; so does a Map-backed
 * fake in Node (sandbox, benchmark).
 */
export interface JwksKv {
  get(key: string, type: "text"): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
}

export interface JwksCacheOptions {
  kv: JwksKv;
  fetch: FetchFn;
  now: Clock;
  /**
   * HMAC key sealing the key sets written to KV (see deriveJwksIntegrityKey). KV write access is account-wide and the
   * namespace also holds operator-written keys: without the seal, anyone able to write KV could plant signing keys.
   */
  integrityKey: Promise<CryptoKey>;
  /** Receives one line per failed JWKS/discovery fetch (fixed reason strings, never bodies). */
  log?: LogFn;
}

export interface JwksCache {
  /** The verification key for this token header. Throws `invalid_token` (`alg_not_allowed`, `kid_unknown`) or `upstream_unavailable`. */
  getKey(issuer: IssuerConfig, header: { alg?: string; kid?: string }): Promise<CryptoKey>;
}

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

/** A key set as cached in memory and KV. `fetchedAt` is when the issuer served it (ms since epoch). */
interface KeySet {
  fetchedAt: number;
  keys: PublicJwk[];
  /** Imported keys, memoised per set: `${index}:${alg}` -> key. */
  imported: Map<string, Promise<CryptoKey>>;
}

interface IssuerState {
  set: KeySet | undefined;
  /** When this isolate last started an HTTPS fetch for the issuer. */
  lastAttemptAt: number | undefined;
  /** When that fetch last failed; within JWKS_FAILURE_BACKOFF_MS we do not try again. */
  lastFailureAt: number | undefined;
  /** The one refresh in flight for this issuer (single flight within the isolate). */
  inflight: { promise: Promise<void>; startedAt: number } | undefined;
  kvKey: Promise<string> | undefined;
}

/** A JWKS or discovery fetch failed; `reason` is a fixed string for the log. Always handled as an outage. */
class JwksFetchError extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.reason = reason;
  }
}

function unavailable(): BrokerError {
  return new BrokerError("upstream_unavailable", "jwks_unavailable", { retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS });
}

export function createJwksCache(options: JwksCacheOptions): JwksCache {
  const { fetch: fetchFn, now, log, integrityKey } = options;
  const kv = options.kv;
  const states = new Map<string, IssuerState>();

  function stateFor(issuer: IssuerConfig): IssuerState {
    // Keyed by issuer and configured JWKS URL, so two configs never share keys by accident.
    const id = `${issuer.issuer}\n${issuer.jwksUri ?? ""}`;
    let state = states.get(id);
    if (state === undefined) {
      state = { set: undefined, lastAttemptAt: undefined, lastFailureAt: undefined, inflight: undefined, kvKey: undefined };
      states.set(id, state);
    }
    return state;
  }

  const inBackoff = (state: IssuerState, at: number) =>
    state.lastFailureAt !== undefined && at - state.lastFailureAt < JWKS_FAILURE_BACKOFF_MS;

  async function kvKeyFor(issuer: IssuerConfig, state: IssuerState): Promise<string> {
    state.kvKey ??= jwksKvKey(issuer);
    return state.kvKey;
  }

  async function readKv(issuer: IssuerConfig, state: IssuerState): Promise<KeySet | undefined> {
    try {
      const kvKey = await kvKeyFor(issuer, state);
      const text = await kv.get(kvKey, "text");
      if (text === null) return undefined;
      const set = await openStoredSet(text, kvKey, await integrityKey);
      // A set "fetched" in the future would stay fresh forever and block every refetch: never trust one.
      if (set === undefined || set.fetchedAt > now() + JWKS_STORED_FUTURE_SKEW_MS) return undefined;
      return set;
    } catch {
      return undefined; // KV trouble is a cache miss, never a verification failure.
    }
  }

  async function writeKv(issuer: IssuerConfig, state: IssuerState, set: KeySet): Promise<void> {
    // The entry must outlive the fresh and stale windows, or a cold isolate loses the last good set in an outage.
    const expirationTtl = Math.max(KV_MIN_EXPIRATION_TTL_SECONDS, Math.ceil(JWKS_FRESH_MS / 1000) + issuer.jwksMaxStaleSeconds);
    try {
      const kvKey = await kvKeyFor(issuer, state);
      await kv.put(kvKey, await sealStoredSet(set, kvKey, await integrityKey), { expirationTtl });
    } catch {
      // Best effort: the set is still in memory; the next isolate refetches.
    }
  }

  /** One HTTPS refresh (discovery if needed, then JWKS). Failures are recorded, never thrown. */
  async function fetchInto(issuer: IssuerConfig, state: IssuerState): Promise<void> {
    const startedAt = now();
    state.lastAttemptAt = startedAt;
    try {
      const jwksUri = issuer.jwksUri ?? (await discoverJwksUri(fetchFn, issuer));
      const keys = parseJwks(await fetchJson(fetchFn, jwksUri));
      const set: KeySet = { fetchedAt: now(), keys, imported: new Map() };
      state.set = set;
      state.lastFailureAt = undefined;
      await writeKv(issuer, state, set);
    } catch (error) {
      state.lastFailureAt = startedAt;
      const reason = error instanceof JwksFetchError ? error.reason : "fetch_failed";
      log?.({ message: "jwks_fetch_failed", issuer: issuer.id, reason });
    }
  }

  /**
   * Runs `body` as the issuer's single in-flight refresh, or joins the one already running.
   * Joiners do not run their own body: they re-read `state.set` afterwards.
   */
  async function singleFlight(state: IssuerState, body: () => Promise<void>): Promise<void> {
    const at = now();
    const running = state.inflight;
    if (running === undefined || at - running.startedAt > JWKS_INFLIGHT_MAX_MS) {
      // Our own refresh (or a replacement for one that outlived any legitimate fetch: its request was cancelled).
      const entry: { promise: Promise<void>; startedAt: number } = { promise: Promise.resolve(), startedAt: at };
      entry.promise = body().finally(() => {
        if (state.inflight === entry) state.inflight = undefined;
      });
      state.inflight = entry;
      await entry.promise;
      return;
    }
    // Another request's refresh: its I/O belongs to that request, and if that request is cancelled the promise may
    // never settle. Wait no longer than a refresh can legitimately take, then go on with whatever set we have.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, JWKS_INFLIGHT_MAX_MS);
    });
    try {
      await Promise.race([running.promise, timeout]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** A set young enough to use (fresh, or stale within the issuer's window), refreshing as needed. */
  async function usableSet(issuer: IssuerConfig, state: IssuerState): Promise<KeySet> {
    const at = now();
    const fresh = (set: KeySet | undefined): boolean => set !== undefined && at - set.fetchedAt < JWKS_FRESH_MS;
    if (state.set !== undefined && fresh(state.set)) return state.set;
    if (state.inflight !== undefined || !inBackoff(state, at)) {
      await singleFlight(state, async () => {
        // Another isolate may have refreshed already: KV is far cheaper than the issuer.
        const stored = await readKv(issuer, state);
        if (stored !== undefined && (state.set === undefined || stored.fetchedAt > state.set.fetchedAt)) state.set = stored;
        if (fresh(state.set)) return;
        await fetchInto(issuer, state);
      });
    }
    const set = state.set;
    // Serve the last good set through an outage, but only within fresh + jwksMaxStaleSeconds.
    if (set !== undefined && at - set.fetchedAt < JWKS_FRESH_MS + issuer.jwksMaxStaleSeconds * 1000) return set;
    throw unavailable();
  }

  /**
   * The kid is not in `seen`: look again, at most one HTTPS fetch per issuer per JWKS_REFETCH_COOLDOWN_MS,
   * shared by every concurrent request. Returns the set to retry with, or undefined when nothing new is allowed.
   */
  async function refetchForUnknownKey(issuer: IssuerConfig, state: IssuerState, seen: KeySet, wanted: (set: KeySet) => boolean): Promise<KeySet | undefined> {
    if (state.set !== undefined && state.set !== seen) return state.set; // refreshed while we looked
    const at = now();
    const cooledDown = (set: KeySet | undefined) =>
      at - Math.max(set?.fetchedAt ?? -Infinity, state.lastAttemptAt ?? -Infinity) >= JWKS_REFETCH_COOLDOWN_MS && !inBackoff(state, at);
    if (state.inflight === undefined && !cooledDown(state.set)) return undefined;
    await singleFlight(state, async () => {
      const stored = await readKv(issuer, state);
      if (stored !== undefined && (state.set === undefined || stored.fetchedAt > state.set.fetchedAt)) state.set = stored;
      if (state.set !== undefined && state.set !== seen && wanted(state.set)) return;
      if (cooledDown(state.set)) await fetchInto(issuer, state);
    });
    return state.set !== seen ? state.set : undefined;
  }

  return {
    async getKey(issuer, header) {
      const { alg, kid } = header;
      // jose already enforces `algorithms`; checked again so this cache never imports a key for a foreign alg.
      if (typeof alg !== "string" || !(issuer.algorithms as string[]).includes(alg)) {
        throw new BrokerError("invalid_token", "alg_not_allowed");
      }
      if (kid !== undefined && typeof kid !== "string") throw new BrokerError("invalid_token", "token_malformed");
      const state = stateFor(issuer);
      const set = await usableSet(issuer, state);
      let index = selectKey(set.keys, alg, kid);
      if (index !== undefined) return importKey(set, index, alg);
      const retry = await refetchForUnknownKey(issuer, state, set, (candidate) => selectKey(candidate.keys, alg, kid) !== undefined);
      index = retry === undefined ? undefined : selectKey(retry.keys, alg, kid);
      if (retry === undefined || index === undefined) throw new BrokerError("invalid_token", "kid_unknown");
      return importKey(retry, index, alg);
    },
  };
}

/** KV key of an issuer's cached set: hashed so any URL fits KV's 512-byte key limit. `v1` names the value format. */
export async function jwksKvKey(issuer: Pick<IssuerConfig, "issuer" | "jwksUri">): Promise<string> {
  return `jwks:v1:${await sha256Hex(`${issuer.issuer}\n${issuer.jwksUri ?? ""}`)}`;
}

// --- Key selection (pure) --------------------------------------------------------------------

const EC_CURVES: Record<string, string> = { ES256: "P-256", ES384: "P-384" };

/** Number of significant bits in a base64url big-endian integer (an RSA modulus `n`). */
export function modulusBits(n: string): number {
  let bytes: Uint8Array;
  try {
    bytes = base64urlDecode(n);
  } catch {
    return 0;
  }
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start += 1;
  if (start === bytes.length) return 0;
  return (bytes.length - start - 1) * 8 + (32 - Math.clz32(bytes[start] ?? 0));
}

/**
 * Whether `jwk` may verify a token signed with `alg`. RFC 7517 §4.2-4.4: `use` other than "sig" and
 * `key_ops` without "verify" exclude the key; a key-level `alg` must match the token's.
 */
export function isUsableKey(jwk: PublicJwk, alg: string): boolean {
  if (jwk.use !== undefined && jwk.use !== "sig") return false;
  if (jwk.key_ops !== undefined && !jwk.key_ops.includes("verify")) return false;
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  if (/^(RS|PS)(256|384|512)$/.test(alg)) {
    return jwk.kty === "RSA" && typeof jwk.e === "string" && typeof jwk.n === "string" && modulusBits(jwk.n) >= MIN_RSA_MODULUS_BITS;
  }
  if (alg in EC_CURVES) {
    return jwk.kty === "EC" && jwk.crv === EC_CURVES[alg] && typeof jwk.x === "string" && typeof jwk.y === "string";
  }
  if (alg === "EdDSA") return jwk.kty === "OKP" && jwk.crv === "Ed25519" && typeof jwk.x === "string";
  return false;
}

/**
 * Index of the one key for this alg and kid. Without a kid, the set must hold exactly one usable key for the
 * alg; with one, exactly one usable key must carry it. Ambiguity is treated as no key (never "try them all").
 */
export function selectKey(keys: readonly PublicJwk[], alg: string, kid: string | undefined): number | undefined {
  let found: number | undefined;
  for (const [index, jwk] of keys.entries()) {
    if (!isUsableKey(jwk, alg) || (kid !== undefined && jwk.kid !== kid)) continue;
    if (found !== undefined) return undefined;
    found = index;
  }
  return found;
}

function importKey(set: KeySet, index: number, alg: string): Promise<CryptoKey> {
  const memoKey = `${index}:${alg}`;
  let key = set.imported.get(memoKey);
  if (key === undefined) {
    key = importPublicKey(set.keys[index], alg);
    set.imported.set(memoKey, key);
  }
  return key;
}

async function importPublicKey(jwk: PublicJwk | undefined, alg: string): Promise<CryptoKey> {
  // Only the key material goes to WebCrypto: `use`, `key_ops` and `alg` were checked by isUsableKey.
  const material: JWK = { kty: jwk?.kty ?? "" };
  for (const member of ["n", "e", "crv", "x", "y"] as const) {
    const value = jwk?.[member];
    if (value !== undefined) material[member] = value;
  }
  let imported: CryptoKey | Uint8Array;
  try {
    imported = await importJWK(material, alg, { extractable: false });
  } catch (cause) {
    // A key that looks usable but WebCrypto refuses is as good as absent.
    throw new BrokerError("invalid_token", "kid_unknown", { cause });
  }
  if (imported instanceof Uint8Array) throw new BrokerError("invalid_token", "kid_unknown");
  return imported;
}

// --- Parsing (pure) --------------------------------------------------------------------------

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const STRING_MEMBERS = ["kid", "use", "alg", "n", "e", "crv", "x", "y"] as const;

/** Keeps only public members of string type; undefined if `kty` is missing. */
export function publicJwk(value: unknown): PublicJwk | undefined {
  if (!isPlainObject(value) || typeof value["kty"] !== "string") return undefined;
  const jwk: PublicJwk = { kty: value["kty"] };
  for (const member of STRING_MEMBERS) {
    const memberValue = value[member];
    if (typeof memberValue === "string") jwk[member] = memberValue;
  }
  const keyOps = value["key_ops"];
  // A malformed key_ops is kept as an empty list, so the key is refused rather than its restriction ignored.
  if (keyOps !== undefined) jwk.key_ops = Array.isArray(keyOps) ? keyOps.filter((op): op is string => typeof op === "string") : [];
  return jwk;
}

/** RFC 7517 §5: a JSON object with a `keys` array. At most MAX_JWKS_KEYS; an empty set counts as garbage. */
export function parseJwks(body: unknown): PublicJwk[] {
  if (!isPlainObject(body) || !Array.isArray(body["keys"])) throw new JwksFetchError("jwks_invalid");
  const raw: unknown[] = body["keys"];
  if (raw.length === 0 || raw.length > MAX_JWKS_KEYS) throw new JwksFetchError("jwks_invalid");
  const keys = raw.map(publicJwk).filter((jwk): jwk is PublicJwk => jwk !== undefined);
  if (keys.length === 0) throw new JwksFetchError("jwks_invalid");
  return keys;
}

/** What the seal covers: the KV key (so a set cannot be moved to another issuer), the fetch time and the keys. */
function sealInput(kvKey: string, fetchedAt: number, keys: PublicJwk[]): Uint8Array {
  return new TextEncoder().encode(`${kvKey}\n${fetchedAt}\n${JSON.stringify(keys)}`);
}

async function sealStoredSet(set: KeySet, kvKey: string, key: CryptoKey): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, sealInput(kvKey, set.fetchedAt, set.keys)));
  return JSON.stringify({ fetchedAt: set.fetchedAt, keys: set.keys, mac: base64urlEncode(mac) });
}

/** The stored set, or undefined when it is malformed or its seal does not verify (then it is a cache miss). */
async function openStoredSet(text: string, kvKey: string, key: CryptoKey): Promise<KeySet | undefined> {
  try {
    const value: unknown = JSON.parse(text);
    if (!isPlainObject(value) || typeof value["fetchedAt"] !== "number" || !Number.isFinite(value["fetchedAt"])) return undefined;
    if (typeof value["mac"] !== "string" || !Array.isArray(value["keys"])) return undefined;
    const stored = value["keys"] as PublicJwk[];
    const valid = await crypto.subtle.verify("HMAC", key, base64urlDecode(value["mac"]), sealInput(kvKey, value["fetchedAt"], stored));
    if (!valid) return undefined;
    return { fetchedAt: value["fetchedAt"], keys: parseJwks(value), imported: new Map() };
  } catch {
    return undefined;
  }
}

/**
 * The HMAC key for sealing cached key sets, derived from a Worker secret (the broker's AWS secret key): whoever can
 * write KV but not read the Worker's secrets cannot forge a set. Rotating the secret only costs one refetch.
 */
export async function deriveJwksIntegrityKey(secret: string): Promise<CryptoKey> {
  const material = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`ci-credential-broker/jwks-cache/v1\n${secret}`));
  return crypto.subtle.importKey("raw", material, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

// --- HTTPS (injected fetch) ------------------------------------------------------------------


/**
 * OpenID Connect Discovery 1.0 §4: GET `${issuer}/.well-known/openid-configuration`; its `issuer` must equal
 * ours exactly (§4.3) and `jwks_uri` must be https (loopback http only when the issuer itself is).
 */
async function discoverJwksUri(fetchFn: FetchFn, issuer: IssuerConfig): Promise<string> {
  const doc = await fetchJson(fetchFn, `${issuer.issuer}/.well-known/openid-configuration`);
  if (!isPlainObject(doc) || doc["issuer"] !== issuer.issuer) throw new JwksFetchError("discovery_invalid");
  const jwksUri = doc["jwks_uri"];
  if (typeof jwksUri !== "string" || !URL.canParse(jwksUri)) throw new JwksFetchError("discovery_invalid");
  const url = new URL(jwksUri);
  const schemeOk = url.protocol === "https:" || (isLoopbackHttp(url) && isLoopbackHttp(new URL(issuer.issuer)));
  if (!schemeOk || url.username !== "" || url.password !== "") throw new JwksFetchError("discovery_jwks_uri_refused");
  return jwksUri;
}

/** GET a JSON document: timeout, no redirects, 200 only, body capped while streaming (Content-Length is not trusted). */
async function fetchJson(fetchFn: FetchFn, url: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetchFn(url, {
      method: "GET",
      headers: { accept: "application/json" },
      redirect: "manual",
      signal: AbortSignal.timeout(JWKS_FETCH_TIMEOUT_MS),
    });
  } catch {
    throw new JwksFetchError("network_error");
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw new JwksFetchError("http_status");
  }
  const read = await readTextCapped(response, MAX_JWKS_RESPONSE_BYTES);
  if (!read.ok) throw new JwksFetchError(read.failure === "too_large" ? "too_large" : read.failure === "read_failed" ? "network_error" : "invalid_json");
  try {
    return JSON.parse(read.text) as unknown;
  } catch {
    throw new JwksFetchError("invalid_json");
  }
}

// --- Encoding helpers ------------------------------------------------------------------------

function base64urlEncode(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function base64urlDecode(value: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(value)) throw new TypeError("not base64url");
  const base64 = value.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
