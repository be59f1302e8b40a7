// The JWKS cache (src/oidc/jwks-cache.ts): one fetch per cold issuer, key rotation and unknown kids (one refetch per
// cooldown, shared), the answer inside the cooldown, and the shape of an unknown kid. Outages:
// jwks-cache-outage.test.ts.
import { describe, expect, it } from "vitest";
import { JWKS_REFETCH_COOLDOWN_MS } from "../../src/oidc/constants.ts";
import { harness, invalidToken, rejection } from "./helpers.ts";

/**
 * An unknown kid met inside the refetch cooldown: "cannot verify yet", retry after the cooldown's remaining seconds.
 */
const refetchCooldown = (retryAfterSeconds: number) => ({
  code: "upstream_unavailable",
  reason: "jwks_refetch_cooldown",
  retryAfterSeconds,
});

describe("JWKS cache: rotation and unknown kid", () => {
  it("fetches once on a cold cache, then serves from memory", async () => {
    const h = await harness();
    for (let i = 0; i < 5; i += 1) await h.verify(await h.fake.mint());
    expect(h.fake.fetchCount).toBe(1);
  });

  it("shares one fetch among 20 concurrent requests on a cold cache", async () => {
    const h = await harness();
    const tokens = await Promise.all(Array.from({ length: 20 }, () => h.fake.mint()));
    await Promise.all(tokens.map((token) => h.verify(token)));
    expect(h.fake.fetchCount).toBe(1);
  });

  it("a new kid after rotation costs exactly one refetch; the old kid is then unknown without another", async () => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    const oldToken = await h.fake.mint();
    h.advance(JWKS_REFETCH_COOLDOWN_MS);
    await h.fake.rotate();
    await h.verify(await h.fake.mint());
    expect(h.fake.fetchCount).toBe(2);
    await h.verify(await h.fake.mint());
    expect(await rejection(h.verify(oldToken))).toEqual(invalidToken("kid_unknown"));
    expect(h.fake.fetchCount).toBe(2);
  });

  it("20 concurrent requests with the new kid share one refetch", async () => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    h.advance(JWKS_REFETCH_COOLDOWN_MS + 1);
    await h.fake.rotate();
    const tokens = await Promise.all(Array.from({ length: 20 }, () => h.fake.mint()));
    const results = await Promise.allSettled(tokens.map((token) => h.verify(token)));
    expect(results.every((result) => result.status === "fulfilled")).toBe(true);
    expect(h.fake.fetchCount).toBe(2);
  });

  it("a rotation seen within the cooldown of the last fetch: 503 until the cooldown ends, then one refetch", async () => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    await h.fake.rotate();
    h.advance(JWKS_REFETCH_COOLDOWN_MS - 1);
    // Not "invalid": the key may be new. Retry-After is the cooldown left, rounded up (1 ms -> 1 s).
    expect(await rejection(h.verify(await h.fake.mint()))).toEqual(refetchCooldown(1));
    expect(h.fake.fetchCount).toBe(1);
    h.advance(1);
    await h.verify(await h.fake.mint());
    expect(h.fake.fetchCount).toBe(2);
  });

  it("unknown-kid spam: at most one refetch per cooldown, sequential or concurrent", async () => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    h.advance(JWKS_REFETCH_COOLDOWN_MS);
    const spam = () => h.fake.mint({}, { header: { kid: crypto.randomUUID() } });
    for (let i = 0; i < 10; i += 1)
      expect(await rejection(h.verify(await spam()))).toEqual(invalidToken("kid_unknown"));
    expect(h.fake.fetchCount).toBe(2);
    const burst = await Promise.all(Array.from({ length: 20 }, spam));
    for (const result of await Promise.allSettled(burst.map((token) => h.verify(token))))
      expect(result.status).toBe("rejected");
    expect(h.fake.fetchCount).toBe(2);
    h.advance(JWKS_REFETCH_COOLDOWN_MS - 1);
    expect(await rejection(h.verify(await spam()))).toEqual(refetchCooldown(1));
    expect(h.fake.fetchCount).toBe(2);
    h.advance(1);
    const burst2 = await Promise.all(Array.from({ length: 20 }, spam));
    await Promise.allSettled(burst2.map((token) => h.verify(token)));
    expect(h.fake.fetchCount).toBe(3);
  });

  it("a refetch triggered by a new kid is written to KV, so a fresh isolate needs no fetch", async () => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    h.advance(JWKS_REFETCH_COOLDOWN_MS);
    await h.fake.rotate();
    await h.verify(await h.fake.mint());
    h.newIsolate();
    await h.verify(await h.fake.mint());
    expect(h.fake.fetchCount).toBe(2);
  });

  it("an isolate with an old set picks up a newer set from KV before fetching", async () => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    const stale = h.jwks;
    h.advance(JWKS_REFETCH_COOLDOWN_MS);
    await h.fake.rotate();
    h.newIsolate();
    await h.verify(await h.fake.mint()); // isolate 2: KV has the old set, kid unknown -> refetch -> KV updated
    expect(h.fake.fetchCount).toBe(2);
    h.jwks = stale; // isolate 1 again: memory holds the old set
    await h.verify(await h.fake.mint());
    expect(h.fake.fetchCount).toBe(2);
  });
});

describe("JWKS cache: an unknown kid inside the refetch cooldown", () => {
  it("answers 503 jwks_refetch_cooldown with the cooldown's remaining seconds, rounded up, without fetching", async () => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    await h.fake.rotate();
    const leftSeconds = JWKS_REFETCH_COOLDOWN_MS / 1000 - 20;
    h.advance(20_000);
    expect(await rejection(h.verify(await h.fake.mint()))).toEqual(refetchCooldown(leftSeconds));
    h.advance(500);
    expect(await rejection(h.verify(await h.fake.mint()))).toEqual(refetchCooldown(leftSeconds)); // leftSeconds - 0.5 s, rounded up
    expect(h.fake.fetchCount).toBe(1);
    // The client's retry after Retry-After lands past the cooldown: one refetch, the new key verifies.
    h.advance(leftSeconds * 1000 - 500);
    await h.verify(await h.fake.mint());
    expect(h.fake.fetchCount).toBe(2);
  });

  it("outside the cooldown, a kid still unknown after the refetch is final: 401 kid_unknown", async () => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    h.advance(JWKS_REFETCH_COOLDOWN_MS);
    const stray = () => h.fake.mint({}, { header: { kid: crypto.randomUUID() } });
    expect(await rejection(h.verify(await stray()))).toEqual(invalidToken("kid_unknown"));
    expect(h.fake.fetchCount).toBe(2);
  });

  it("a cold isolate's first fetch counts as fresh: an unknown kid is final at once", async () => {
    const h = await harness();
    expect(await rejection(h.verify(await h.fake.mint({}, { header: { kid: "never-published" } })))).toEqual(
      invalidToken("kid_unknown"),
    );
    expect(h.fake.fetchCount).toBe(1);
  });

  it("a set another isolate fetched (read from KV) before the token arrived is not final either", async () => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    h.advance(JWKS_REFETCH_COOLDOWN_MS);
    await h.fake.rotate();
    h.newIsolate();
    await h.verify(await h.fake.mint()); // isolate 2: KV set lacks the kid, past the cooldown: refetch, KV updated
    expect(h.fake.fetchCount).toBe(2);
    await h.fake.rotate();
    h.advance(10_000);
    h.newIsolate(); // isolate 3 starts from the KV set fetched 10 s ago, which lacks the newest key
    expect(await rejection(h.verify(await h.fake.mint()))).toEqual(
      refetchCooldown(JWKS_REFETCH_COOLDOWN_MS / 1000 - 10),
    );
    expect(h.fake.fetchCount).toBe(2);
  });

  it("a refetch that fails (issuer down) is not final: 503 with the cooldown it armed", async () => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    h.advance(JWKS_REFETCH_COOLDOWN_MS);
    await h.fake.rotate();
    h.fake.fail("down");
    expect(await rejection(h.verify(await h.fake.mint()))).toEqual(refetchCooldown(JWKS_REFETCH_COOLDOWN_MS / 1000));
    expect(h.fake.fetchCount).toBe(2);
    h.fake.fail(null);
    h.advance(JWKS_REFETCH_COOLDOWN_MS);
    await h.verify(await h.fake.mint());
  });
});

describe("JWKS cache: the shape of an unknown kid", () => {
  const garbage = [
    ["a path", "../../etc/passwd"],
    ["5,000 characters", "k".repeat(5_000)],
    ["a URL", "https://attacker.test/jwks.json"],
    ["spaces and quotes", "' or 1=1 --"],
  ] as const;

  it.each(garbage)("%s inside the cooldown: 401 kid_malformed at once, no refetch", async (_name, kid) => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    h.advance(1_000);
    expect(await rejection(h.jwks.getKey(h.config, { alg: "RS256", kid }))).toEqual(invalidToken("kid_malformed"));
    expect(h.fake.fetchCount).toBe(1);
  });

  it.each(garbage)("%s outside the cooldown: 401 kid_malformed without a refetch", async (_name, kid) => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    h.advance(JWKS_REFETCH_COOLDOWN_MS);
    expect(await rejection(h.jwks.getKey(h.config, { alg: "RS256", kid }))).toEqual(invalidToken("kid_malformed"));
    // A real-shaped kid now still refetches: garbage did not arm the cooldown.
    expect(await rejection(h.verify(await h.fake.mint({}, { header: { kid: crypto.randomUUID() } })))).toEqual(
      invalidToken("kid_unknown"),
    );
    expect(h.fake.fetchCount).toBe(2);
  });

  it("a garbage kid in a token (header decoded, signature never checked) is 401 kid_malformed", async () => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    h.advance(1_000);
    expect(await rejection(h.verify(await h.fake.mint({}, { header: { kid: "../../etc/passwd" } })))).toEqual(
      invalidToken("kid_malformed"),
    );
    expect(h.fake.fetchCount).toBe(1);
  });

  it.each([
    ["a UUID", "0b3e4f6a-3c1d-4e5f-9a8b-7c6d5e4f3a2b"],
    ["a SHA-1 hex thumbprint", "78167F727DEC5D801DD1C8784C704A1C880EC0E1"],
    ["an RFC 7638 thumbprint", "kewiQq9jiC84CvSsJYOB-N6A8WFLSV20Mb-y7IlWDSQ"],
    ["base64 with + / =", "ZR+iPrkP5j2j9sFIYfjr6RBNAxA="],
  ])("%s, unknown inside the cooldown, still waits for a rotation: 503 jwks_refetch_cooldown", async (_name, kid) => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    h.advance(20_000);
    expect(await rejection(h.jwks.getKey(h.config, { alg: "RS256", kid }))).toEqual(
      refetchCooldown(JWKS_REFETCH_COOLDOWN_MS / 1000 - 20),
    );
    expect(h.fake.fetchCount).toBe(1);
  });

  it("a base64 kid with + / = published by a rotation is found by one refetch", async () => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    const kid = await h.fake.addKey({ kid: "ZR+iPrkP5j2j9sFIYfjr6RBNAxA=" });
    h.advance(JWKS_REFETCH_COOLDOWN_MS);
    await h.verify(await h.fake.mint({}, { kid }));
    expect(h.fake.fetchCount).toBe(2);
  });

  it("checks only kids missing from the cached set: a published kid of any shape verifies", async () => {
    const h = await harness();
    const kid = await h.fake.addKey({ kid: "https://vault.example/keys/signing/1" });
    await h.verify(await h.fake.mint({}, { kid }));
    expect(h.fake.fetchCount).toBe(1);
  });
});
