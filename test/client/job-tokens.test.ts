// The job's tokens: one mint for many calls while the cached token has time left, a new one near its expiry, helpers
// that wait for each other, a rejected token forgotten, and every minted token revoked once.
import { describe, expect, it } from "vitest";
import { GITHUB_TOKEN_CACHE_MARGIN_MS } from "../../src/client/constants.ts";
import { parseGithubToken, type GithubToken } from "../../src/client/github-token.ts";
import {
  cachedGithubToken,
  describeRevocation,
  forgetGithubToken,
  mintedTokens,
  obtainGithubToken,
  revokeJobTokens,
  type TokenStore,
} from "../../src/client/job-tokens.ts";
import { GHS, START_MS, tokenBody } from "./helpers.ts";

/** An in-memory store with a real lock (a queue), as the file store behaves. */
function memoryStore() {
  const files = new Map<string, string>();
  const minted: string[] = [];
  let lock = Promise.resolve();
  const store: TokenStore = {
    read: (key) => files.get(key),
    write: (key, answer) => void files.set(key, answer),
    remove: (key) => void files.delete(key),
    recordMinted: (line) => void minted.push(line),
    minted: () => [...minted],
    clear: () => {
      files.clear();
      minted.length = 0;
    },
    async withLock(_key, fn) {
      const previous = lock;
      let release: () => void = () => undefined;
      lock = new Promise((resolve) => (release = resolve));
      await previous;
      try {
        return await fn();
      } finally {
        release();
      }
    },
  };
  return { store, files, minted };
}

function tokenAt(n: number, issuedMs: number, lifetimeMs = 3_600_000): GithubToken {
  return parseGithubToken(
    JSON.stringify(
      tokenBody(
        {
          token: `${GHS.slice(0, -2)}${String(n).padStart(2, "0")}`,
          expires_at: new Date(issuedMs + lifetimeMs).toISOString(),
        },
        issuedMs,
      ),
    ),
    issuedMs,
  );
}

describe("obtainGithubToken", () => {
  it("mints once, then reuses the cached token until GITHUB_TOKEN_CACHE_MARGIN_MS before it expires", async () => {
    const { store, minted } = memoryStore();
    let now = START_MS;
    let mints = 0;
    const mint = async () => tokenAt(++mints, now);
    const first = await obtainGithubToken(store, "k", mint, () => now);
    expect(first.minted).toBe(true);
    now = START_MS + 3_600_000 - GITHUB_TOKEN_CACHE_MARGIN_MS - 1;
    expect(await obtainGithubToken(store, "k", mint, () => now)).toEqual({ token: first.token, minted: false });
    now += 1;
    const second = await obtainGithubToken(store, "k", mint, () => now);
    expect(second.minted).toBe(true);
    expect(second.token.token).not.toBe(first.token.token);
    expect(minted.map((line) => JSON.parse(line).token)).toEqual([first.token.token, second.token.token]);
  });

  it("concurrent helpers of one job mint one token: the second finds the first's under the lock", async () => {
    const { store } = memoryStore();
    let mints = 0;
    const mint = async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return tokenAt(++mints, START_MS);
    };
    const [a, b] = await Promise.all([
      obtainGithubToken(store, "k", mint, () => START_MS),
      obtainGithubToken(store, "k", mint, () => START_MS),
    ]);
    expect(mints).toBe(1);
    expect(a.token.token).toBe(b.token.token);
  });

  it("a token minted but never cached (a crash) is still on the revocation list; an unreadable cache entry is a miss", async () => {
    const { store, files, minted } = memoryStore();
    files.set("k", "{not json");
    expect(cachedGithubToken(store, "k", START_MS)).toBeUndefined();
    await expect(
      obtainGithubToken(
        {
          ...store,
          write: () => {
            throw new Error("disk full");
          },
        },
        "k",
        async () => tokenAt(1, START_MS),
        () => START_MS,
      ),
    ).rejects.toThrow("disk full");
    expect(minted).toHaveLength(1);
  });
});

describe("forgetGithubToken (git's erase)", () => {
  it("forgets the cached token git rejected, and only that one", async () => {
    const { store, files } = memoryStore();
    const { token } = await obtainGithubToken(
      store,
      "k",
      async () => tokenAt(1, START_MS),
      () => START_MS,
    );
    expect(forgetGithubToken(store, "k", "ghs_someone_elses_token_0000000000")).toBe(false);
    expect(files.has("k")).toBe(true);
    expect(forgetGithubToken(store, "k", token.token)).toBe(true);
    expect(files.has("k")).toBe(false);
    expect(forgetGithubToken(store, "k", token.token)).toBe(false);
  });
});

describe("revoking the job's tokens", () => {
  it("revokes each live token once (expired ones are dead already), then clears list and cache", async () => {
    const { store, files } = memoryStore();
    const a = tokenAt(1, START_MS);
    const b = tokenAt(2, START_MS);
    for (const token of [a, b, a])
      store.recordMinted(JSON.stringify({ token: token.token, api_url: token.apiUrl, expires_at: token.expiresAt }));
    store.recordMinted(
      JSON.stringify({
        token: `${GHS.slice(0, -2)}99`,
        api_url: "https://api.github.com",
        expires_at: new Date(START_MS - 1).toISOString(),
      }),
    );
    store.recordMinted("garbage");
    store.recordMinted(JSON.stringify({ token: "ghp_personal", api_url: "https://api.github.com" }));
    store.write("k", "{}");
    expect(mintedTokens(store, START_MS).map((token) => token.token)).toEqual([a.token, b.token]);
    const seen: string[] = [];
    const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      seen.push(request.headers.get("authorization") ?? "");
      return new Response(null, { status: seen.length === 1 ? 204 : 401 });
    };
    const summary = await revokeJobTokens(store, fetch, START_MS);
    expect(seen).toEqual([`Bearer ${a.token}`, `Bearer ${b.token}`]);
    expect(summary).toEqual({ revoked: 1, alreadyInvalid: 1, failures: [] });
    expect(store.minted()).toEqual([]);
    expect(files.size).toBe(0);
    expect(describeRevocation(summary)).toBe("Revoked 1 GitHub token this job minted, 1 no longer valid");
    expect(describeRevocation({ revoked: 0, alreadyInvalid: 0, failures: ["api.github.com: HTTP 500"] })).toBe(
      "Revoked 0 GitHub tokens this job minted, 1 not revoked (api.github.com: HTTP 500): they expire within the hour",
    );
  });
});
