// The GitHub tokens of one CI job: reused from the job's cache until shortly before they expire (so git's many calls
// mint one token, not one each), minted under a lock when none is fit, listed for the post step, and revoked there.
// Platform-neutral: the store (token-cache.ts on Node), the mint, fetch and the clock are injected.
import type { FetchFn } from "../deps.ts";
import { GITHUB_TOKEN_CACHE_MARGIN_MS } from "./constants.ts";
import {
  parseApiUrl,
  parseGithubToken,
  revokeGithubToken,
  type GithubToken,
  type RevokeOutcome,
} from "./github-token.ts";

/** A minted token as the revocation list keeps it. */
export interface MintedToken {
  token: string;
  apiUrl: string;
  expiresAtMs: number;
}

/** Where a job keeps its tokens (files of mode 0600 in a private folder of the job's temp directory, on Node). */
export interface TokenStore {
  /** The cached broker answer for `key`, as written; undefined when none. */
  read(key: string): string | undefined;
  write(key: string, answer: string): void;
  remove(key: string): void;
  /** Appends one line to the job's revocation list. */
  recordMinted(line: string): void;
  /** The revocation list's lines. */
  minted(): string[];
  /** Empties the revocation list and the cache (after revoking). */
  clear(): void;
  /** Runs `fn` holding the mint lock for `key`: concurrent helpers of one job wait for the first one's token. */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** The broker's answer as the cache keeps it: its own JSON shape, so reading it back is the same strict parse. */
export function serializeGithubToken(token: GithubToken): string {
  return JSON.stringify({
    token: token.token,
    expires_at: token.expiresAt,
    permissions: token.permissions,
    repositories: token.repositories,
    api_url: token.apiUrl,
  });
}

/** The cached token for `key`, when it is valid and has more than GITHUB_TOKEN_CACHE_MARGIN_MS left. */
export function cachedGithubToken(store: TokenStore, key: string, nowMs: number): GithubToken | undefined {
  const text = store.read(key);
  if (text === undefined) return undefined;
  try {
    const token = parseGithubToken(text, nowMs);
    return token.expiresAtMs - nowMs > GITHUB_TOKEN_CACHE_MARGIN_MS ? token : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The job's token for `key`: the cached one while fit, else a new one from `mint`, recorded for revocation before it
 * is cached or returned (a crash after minting still leaves it on the list).
 */
export async function obtainGithubToken(
  store: TokenStore,
  key: string,
  mint: () => Promise<GithubToken>,
  now: () => number,
): Promise<{ token: GithubToken; minted: boolean }> {
  const cached = cachedGithubToken(store, key, now());
  if (cached !== undefined) return { token: cached, minted: false };
  return store.withLock(key, async () => {
    // Another helper of this job may have minted while we waited for the lock.
    const fresh = cachedGithubToken(store, key, now());
    if (fresh !== undefined) return { token: fresh, minted: false };
    const token = await mint();
    store.recordMinted(JSON.stringify({ token: token.token, api_url: token.apiUrl, expires_at: token.expiresAt }));
    store.write(key, serializeGithubToken(token));
    return { token, minted: true };
  });
}

/**
 * git rejected `password` (`erase`): forget the cached token for `key` when it is that one (or unreadable), so the next
 * `get` mints.
 */
export function forgetGithubToken(store: TokenStore, key: string, password: string | undefined): boolean {
  const text = store.read(key);
  if (text === undefined) return false;
  let cached: unknown;
  try {
    cached = (JSON.parse(text) as { token?: unknown }).token;
  } catch {
    cached = undefined;
  }
  if (typeof cached === "string" && cached !== password) return false;
  store.remove(key);
  return true;
}

/** The revocation list's entries that can still be used (expired tokens are dead already); unreadable lines skipped. */
export function mintedTokens(store: TokenStore, nowMs: number): MintedToken[] {
  const seen = new Set<string>();
  const tokens: MintedToken[] = [];
  for (const line of store.minted()) {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const apiUrl = parseApiUrl(entry.api_url);
    const expiresAtMs = typeof entry.expires_at === "string" ? Date.parse(entry.expires_at) : Number.NaN;
    if (
      typeof entry.token !== "string" ||
      !entry.token.startsWith("ghs_") ||
      apiUrl === undefined ||
      seen.has(entry.token)
    )
      continue;
    seen.add(entry.token);
    if (Number.isFinite(expiresAtMs) && expiresAtMs <= nowMs) continue;
    tokens.push({ token: entry.token, apiUrl, expiresAtMs });
  }
  return tokens;
}

export interface RevokeSummary {
  revoked: number;
  alreadyInvalid: number;
  /** One line per failure: API host and cause, never the token. */
  failures: string[];
}

/** Revokes every token the job minted that may still work, then empties the list and the cache. Never throws. */
export async function revokeJobTokens(store: TokenStore, fetch: FetchFn, nowMs: number): Promise<RevokeSummary> {
  const summary: RevokeSummary = { revoked: 0, alreadyInvalid: 0, failures: [] };
  for (const minted of mintedTokens(store, nowMs)) {
    const outcome: RevokeOutcome = await revokeGithubToken(minted, fetch);
    if (outcome === "revoked") summary.revoked++;
    else if (outcome === "already_invalid") summary.alreadyInvalid++;
    else summary.failures.push(`${new URL(minted.apiUrl).host}: ${outcome.failed}`);
  }
  store.clear();
  return summary;
}

/** The summary as one log line. */
export function describeRevocation(summary: RevokeSummary): string {
  const parts = [`Revoked ${summary.revoked} GitHub token${summary.revoked === 1 ? "" : "s"} this job minted`];
  if (summary.alreadyInvalid > 0) parts.push(`${summary.alreadyInvalid} no longer valid`);
  if (summary.failures.length > 0)
    parts.push(`${summary.failures.length} not revoked (${summary.failures.join("; ")}): they expire within the hour`);
  return parts.join(", ");
}
