import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { JWKS_FRESH_MS } from "../../src/oidc/constants.ts";
import { jwksKvKey } from "../../src/oidc/jwks-seal.ts";
import { createFakeIssuer, githubClaims } from "../support/fake-issuer.ts";
import { harness, invalidToken, rejection, START_MS } from "./helpers.ts";

describe("JWKS seal: KV entry", () => {
  it("stores { fetchedAt, keys, mac } with an expiration covering fresh + stale windows", async () => {
    const h = await harness({ jwksMaxStaleSeconds: 7200 });
    await h.verify(await h.fake.mint());
    const key = await jwksKvKey(h.config);
    const stored = JSON.parse((await env.JWKS_CACHE.get(key, "text")) ?? "null") as {
      fetchedAt: number;
      keys: { kid: string }[];
    };
    expect(stored.fetchedAt).toBe(START_MS);
    expect(stored.keys.map((jwk) => jwk.kid)).toEqual([h.fake.key().kid]);
    const listed = await env.JWKS_CACHE.list({ prefix: key });
    const ttl = (listed.keys[0]?.expiration ?? 0) - Date.now() / 1000;
    expect(ttl).toBeGreaterThan(7200 + JWKS_FRESH_MS / 1000 - 60);
    expect(ttl).toBeLessThanOrEqual(7200 + JWKS_FRESH_MS / 1000 + 1);
  });

  it("ignores a planted KV entry (no valid seal), even one dated in the future, and refuses the planted key", async () => {
    const h = await harness();
    // Someone with KV write access (the namespace also holds operator-written keys) plants their own key set.
    const attacker = await createFakeIssuer({ issuer: h.config.issuer, now: h.now });
    const planted = { fetchedAt: START_MS + 10 * 365 * 86_400_000, keys: [attacker.key().publicJwk], mac: "AAAA" };
    await env.JWKS_CACHE.put(await jwksKvKey(h.config), JSON.stringify(planted), { expirationTtl: 600 });
    expect(await rejection(h.verify(await attacker.mint()))).toEqual(invalidToken("kid_unknown"));
    expect(h.fake.fetchCount).toBe(1); // it went to the issuer instead
    await h.verify(await h.fake.mint()); // and the real key works
  });

  it("ignores a correctly sealed entry moved under another issuer's KV key", async () => {
    const a = await harness();
    await a.verify(await a.fake.mint()); // writes a sealed set for issuer A
    const b = await harness();
    const sealedForA = (await env.JWKS_CACHE.get(await jwksKvKey(a.config), "text")) ?? "";
    await env.JWKS_CACHE.put(await jwksKvKey(b.config), sealedForA, { expirationTtl: 600 });
    // A token for issuer B signed with A's key verifies only if A's set were taken as B's.
    const t = Math.floor(START_MS / 1000);
    const forged = await a.fake.sign(
      { alg: "RS256", typ: "JWT", kid: a.fake.key().kid },
      { ...githubClaims(), iss: b.config.issuer, aud: "ci-credential-broker", iat: t, nbf: t, exp: t + 300 },
    );
    expect(await rejection(b.verify(forged))).toEqual(invalidToken("kid_unknown"));
    expect(b.fake.fetchCount).toBe(1); // B's keys came from B
  });

  it("ignores a corrupt KV entry and fetches", async () => {
    const h = await harness();
    await env.JWKS_CACHE.put(await jwksKvKey(h.config), "{not json", { expirationTtl: 60 });
    await h.verify(await h.fake.mint());
    expect(h.fake.fetchCount).toBe(1);
  });

  it("never trusts keys in a KV entry beyond what the issuer config allows (alg, size)", async () => {
    const h = await harness();
    const kid = await h.fake.addKey({ modulusLength: 1024 });
    await env.JWKS_CACHE.put(
      await jwksKvKey(h.config),
      JSON.stringify({ fetchedAt: START_MS, keys: [h.fake.key(kid).publicJwk] }),
      {
        expirationTtl: 600,
      },
    );
    expect(await rejection(h.verify(await h.fake.mint({}, { kid })))).toEqual(invalidToken("kid_unknown"));
  });
});
