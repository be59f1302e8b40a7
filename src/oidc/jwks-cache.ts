// The JWKS cache chain: isolate memory -> KV (sealed, with fetched-at time) -> HTTPS fetch of the issuer's key set.
// I/O through injected KV and fetch; time from the injected clock. Key locations come from config or discovery only.
import { KV_MIN_EXPIRATION_TTL_SECONDS } from "../constants.ts";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../http/constants.ts";
import {
  JWKS_FAILURE_BACKOFF_MS,
  JWKS_FRESH_MS,
  JWKS_INFLIGHT_MAX_MS,
  JWKS_REFETCH_COOLDOWN_MS,
  JWKS_STORED_FUTURE_SKEW_MS,
} from "./constants.ts";
import type { Clock, FetchFn, LogFn } from "../deps.ts";
import { BrokerError } from "../errors.ts";
import { withinMs, type StartTimer } from "../http/deadline.ts";
import type { IssuerConfig } from "./issuers.ts";
import { fetchIssuerKeys, JwksFetchError } from "./jwks-fetch.ts";
import { keySelector, type KeySelector } from "./jwks-keys.ts";
import { isPlausibleKid } from "./kid-shape.ts";
import { jwksKvKey, openKeySet, sealKeySet, type StoredKeySet } from "./jwks-seal.ts";

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
  /** Bounds the wait on another request's refresh; default the real timer. Injected so a test expires it at will. */
  startTimer?: StartTimer;
}

export interface JwksCache {
  /**
   * The verification key for this token header. Throws `invalid_token` (`alg_not_allowed`, `kid_unknown`; `kid_missing`
   * or `kid_malformed` for a kid not in the cached set that no issuer would publish: no refetch), or
   * `upstream_unavailable`
   * (`jwks_unavailable`; `jwks_refetch_cooldown` for a real-shaped kid not yet looked up, see docs/security.md).
   */
  getKey(issuer: IssuerConfig, header: { alg?: string; kid?: string }): Promise<CryptoKey>;
}

/** A key set as cached in memory: the stored form, and jose's selector over it (which memoises imported keys). */
interface KeySet extends StoredKeySet {
  select: KeySelector;
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

function unavailable(): BrokerError {
  return new BrokerError("upstream_unavailable", "jwks_unavailable", {
    retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS,
  });
}

function keySet(stored: StoredKeySet): KeySet {
  return { fetchedAt: stored.fetchedAt, keys: stored.keys, select: keySelector(stored.keys) };
}

/**
 * When the next HTTPS refetch for an unknown kid may start: JWKS_REFETCH_COOLDOWN_MS after the newer of the set's
 * fetch time and the last attempt, and never within JWKS_FAILURE_BACKOFF_MS of a failure.
 */
function refetchAllowedAt(state: IssuerState): number {
  const last = Math.max(state.set?.fetchedAt ?? -Infinity, state.lastAttemptAt ?? -Infinity);
  return Math.max(last + JWKS_REFETCH_COOLDOWN_MS, (state.lastFailureAt ?? -Infinity) + JWKS_FAILURE_BACKOFF_MS);
}

/** The isolate's cache: its options and one state per issuer configuration. */
interface Cache extends JwksCacheOptions {
  states: Map<string, IssuerState>;
}

function stateFor(cache: Cache, issuer: IssuerConfig): IssuerState {
  // Keyed by issuer and configured JWKS URL, so two configs never share keys by accident.
  const id = `${issuer.issuer}\n${issuer.jwksUri ?? ""}`;
  let state = cache.states.get(id);
  if (state === undefined) {
    state = {
      set: undefined,
      lastAttemptAt: undefined,
      lastFailureAt: undefined,
      inflight: undefined,
      kvKey: undefined,
    };
    cache.states.set(id, state);
  }
  return state;
}

const inBackoff = (state: IssuerState, at: number): boolean =>
  state.lastFailureAt !== undefined && at - state.lastFailureAt < JWKS_FAILURE_BACKOFF_MS;
const cooledDown = (state: IssuerState, at: number) => at >= refetchAllowedAt(state);

async function kvKeyFor(issuer: IssuerConfig, state: IssuerState): Promise<string> {
  state.kvKey ??= jwksKvKey(issuer);
  return state.kvKey;
}

async function readKv(cache: Cache, issuer: IssuerConfig, state: IssuerState): Promise<KeySet | undefined> {
  try {
    const kvKey = await kvKeyFor(issuer, state);
    const text = await cache.kv.get(kvKey, "text");
    if (text === null) return undefined;
    const stored = await openKeySet(text, kvKey, await cache.integrityKey);
    // A set "fetched" in the future would stay fresh forever and block every refetch: never trust one.
    if (stored === undefined || stored.fetchedAt > cache.now() + JWKS_STORED_FUTURE_SKEW_MS) return undefined;
    return keySet(stored);
  } catch {
    return undefined; // KV trouble is a cache miss, never a verification failure.
  }
}

async function writeKv(cache: Cache, issuer: IssuerConfig, state: IssuerState, set: KeySet): Promise<void> {
  // The entry must outlive the fresh and stale windows, or a cold isolate loses the last good set in an outage.
  const expirationTtl = Math.max(
    KV_MIN_EXPIRATION_TTL_SECONDS,
    Math.ceil(JWKS_FRESH_MS / 1000) + issuer.jwksMaxStaleSeconds,
  );
  try {
    const kvKey = await kvKeyFor(issuer, state);
    await cache.kv.put(kvKey, await sealKeySet(set, kvKey, await cache.integrityKey), { expirationTtl });
  } catch {
    // Best effort: the set is still in memory; the next isolate refetches.
  }
}

/** One HTTPS refresh (discovery if needed, then JWKS). Failures are recorded, never thrown. */
async function fetchInto(cache: Cache, issuer: IssuerConfig, state: IssuerState): Promise<void> {
  const startedAt = cache.now();
  state.lastAttemptAt = startedAt;
  try {
    const keys = await fetchIssuerKeys(cache.fetch, issuer);
    const set = keySet({ fetchedAt: cache.now(), keys });
    state.set = set;
    state.lastFailureAt = undefined;
    await writeKv(cache, issuer, state, set);
  } catch (error) {
    state.lastFailureAt = startedAt;
    const reason = error instanceof JwksFetchError ? error.reason : "fetch_failed";
    cache.log?.({ message: "jwks_fetch_failed", issuer: issuer.id, reason });
  }
}

/**
 * Runs `body` as the issuer's single in-flight refresh, or joins the one already running.
 * Joiners do not run their own body: they re-read `state.set` afterwards.
 */
async function singleFlight(cache: Cache, state: IssuerState, body: () => Promise<void>): Promise<void> {
  const at = cache.now();
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
  await withinMs(JWKS_INFLIGHT_MAX_MS, () => running.promise, { startTimer: cache.startTimer });
}

/** A set young enough to use (fresh, or stale within the issuer's window), refreshing as needed. */
async function usableSet(cache: Cache, issuer: IssuerConfig, state: IssuerState): Promise<KeySet> {
  const at = cache.now();
  const fresh = (set: KeySet | undefined): boolean => set !== undefined && at - set.fetchedAt < JWKS_FRESH_MS;
  if (state.set !== undefined && fresh(state.set)) return state.set;
  if (state.inflight !== undefined || !inBackoff(state, at)) {
    await singleFlight(cache, state, async () => {
      // Another isolate may have refreshed already: KV is far cheaper than the issuer.
      const stored = await readKv(cache, issuer, state);
      if (stored !== undefined && (state.set === undefined || stored.fetchedAt > state.set.fetchedAt))
        state.set = stored;
      if (fresh(state.set)) return;
      await fetchInto(cache, issuer, state);
    });
  }
  const set = state.set;
  // Serve the last good set through an outage, but only within fresh + jwksMaxStaleSeconds.
  if (set !== undefined && at - set.fetchedAt < JWKS_FRESH_MS + issuer.jwksMaxStaleSeconds * 1000) return set;
  throw unavailable();
}

/**
 * The kid is not in `seen`: look again, at most one HTTPS fetch per issuer per JWKS_REFETCH_COOLDOWN_MS, shared
 * by every concurrent request. Returns the newest set this isolate holds afterwards (`seen` when nothing changed).
 */
async function refetchForUnknownKey(
  cache: Cache,
  issuer: IssuerConfig,
  state: IssuerState,
  seen: KeySet,
  wanted: (set: KeySet) => Promise<boolean>,
): Promise<KeySet> {
  if (state.set !== undefined && state.set !== seen) return state.set; // refreshed while we looked
  const at = cache.now();
  if (state.inflight === undefined && !cooledDown(state, at)) return seen;
  await singleFlight(cache, state, async () => {
    const stored = await readKv(cache, issuer, state);
    if (stored !== undefined && (state.set === undefined || stored.fetchedAt > state.set.fetchedAt)) state.set = stored;
    if (state.set !== undefined && state.set !== seen && (await wanted(state.set))) return;
    if (cooledDown(state, at)) await fetchInto(cache, issuer, state);
  });
  return state.set ?? seen;
}

/** JwksCache.getKey over this isolate's state. */
async function getKey(cache: Cache, issuer: IssuerConfig, header: { alg?: string; kid?: string }): Promise<CryptoKey> {
  const { alg, kid } = header;
  // jose already enforces `algorithms`; checked again so this cache never imports a key for a foreign alg.
  if (typeof alg !== "string" || !(issuer.algorithms as string[]).includes(alg)) {
    throw new BrokerError("invalid_token", "alg_not_allowed");
  }
  if (kid !== undefined && typeof kid !== "string") throw new BrokerError("invalid_token", "token_malformed");
  const lookedAt = cache.now();
  const state = stateFor(cache, issuer);
  const set = await usableSet(cache, issuer, state);
  const key = await set.select({ alg, kid });
  if (key !== undefined) return key;
  // Only a kid shaped like a published one may wait for a rotation; garbage is final now, and costs no fetch.
  if (kid === undefined) throw new BrokerError("invalid_token", "kid_missing");
  if (!isPlausibleKid(kid)) throw new BrokerError("invalid_token", "kid_malformed");
  // A key found but refused at import counts as found: no fetch for it, and the select below says kid_unknown.
  const wanted = (candidate: KeySet) =>
    candidate.select({ alg, kid }).then(
      (found) => found !== undefined,
      () => true,
    );
  const newest = await refetchForUnknownKey(cache, issuer, state, set, wanted);
  const retried = newest === set ? undefined : await newest.select({ alg, kid });
  if (retried !== undefined) return retried;
  // Final only when the issuer was asked after this request began: the kid is then really not published.
  if (newest.fetchedAt >= lookedAt) throw new BrokerError("invalid_token", "kid_unknown");
  // Otherwise the key may have been published since our newest set (a rotation inside the refetch cooldown):
  // "cannot verify yet", answered with the time until this isolate may look again (docs/security.md).
  const waitMs = refetchAllowedAt(state) - cache.now();
  throw new BrokerError("upstream_unavailable", "jwks_refetch_cooldown", {
    retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
  });
}

export function createJwksCache(options: JwksCacheOptions): JwksCache {
  const cache: Cache = { ...options, states: new Map() };
  return { getKey: (issuer, header) => getKey(cache, issuer, header) };
}
