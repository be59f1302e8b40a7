import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import {
  JWKS_INFLIGHT_MAX_MS,
  JWKS_FAILURE_BACKOFF_MS,
  JWKS_FRESH_MS,
  JWKS_REFETCH_COOLDOWN_MS,
  MAX_JWKS_KEYS,
  MAX_JWKS_RESPONSE_BYTES,
} from "../../src/constants.ts";
import type { FetchFn } from "../../src/deps.ts";
import { createJwksCache, isUsableKey, jwksKvKey, modulusBits, selectKey } from "../../src/oidc/jwks-cache.ts";
import { createFakeIssuer, githubClaims } from "../support/fake-issuer.ts";
import { createFakeNetwork } from "../support/fake-network.ts";
import { harness, type Harness, invalidToken, JWKS_UNAVAILABLE, rejection, START_MS, TEST_INTEGRITY_KEY } from "./helpers.ts";

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

  it("a rotation seen within the cooldown of the last fetch waits for the cooldown", async () => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    await h.fake.rotate();
    h.advance(JWKS_REFETCH_COOLDOWN_MS - 1);
    expect(await rejection(h.verify(await h.fake.mint()))).toEqual(invalidToken("kid_unknown"));
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
    for (let i = 0; i < 10; i += 1) expect(await rejection(h.verify(await spam()))).toEqual(invalidToken("kid_unknown"));
    expect(h.fake.fetchCount).toBe(2);
    const burst = await Promise.all(Array.from({ length: 20 }, spam));
    for (const result of await Promise.allSettled(burst.map((token) => h.verify(token)))) expect(result.status).toBe("rejected");
    expect(h.fake.fetchCount).toBe(2);
    h.advance(JWKS_REFETCH_COOLDOWN_MS - 1);
    await rejection(h.verify(await spam()));
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

describe("JWKS cache: freshness, outage and stale window", () => {
  it("refetches once the set is older than JWKS_FRESH_MS", async () => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    h.advance(JWKS_FRESH_MS - 1);
    await h.verify(await h.fake.mint());
    expect(h.fake.fetchCount).toBe(1);
    h.advance(1);
    await h.verify(await h.fake.mint());
    expect(h.fake.fetchCount).toBe(2);
  });

  it("outage with a warm KV and cold memory still verifies (fresh, then stale)", async () => {
    const h = await harness();
    await h.verify(await h.fake.mint());
    h.fake.fail("down");
    h.newIsolate();
    await h.verify(await h.fake.mint());
    expect(h.fake.fetchCount).toBe(1); // fresh in KV: no fetch at all
    h.advance(JWKS_FRESH_MS + 60_000);
    h.newIsolate();
    await h.verify(await h.fake.mint());
    expect(h.fake.fetchCount).toBe(2); // tried, failed, served the stale set
    await h.verify(await h.fake.mint());
    expect(h.fake.fetchCount).toBe(2); // failure backoff: no fetch per request
  });

  it("outage with a cold cache is upstream_unavailable; retries are backed off", async () => {
    const h = await harness();
    h.fake.fail("network");
    expect(await rejection(h.verify(await h.fake.mint()))).toEqual(JWKS_UNAVAILABLE);
    expect(await rejection(h.verify(await h.fake.mint()))).toEqual(JWKS_UNAVAILABLE);
    expect(h.fake.fetchCount).toBe(1);
    h.advance(JWKS_FAILURE_BACKOFF_MS);
    h.fake.fail(null);
    await h.verify(await h.fake.mint());
    expect(h.fake.fetchCount).toBe(2);
  });

  it("serves the last good set until fresh + jwksMaxStaleSeconds, then upstream_unavailable", async () => {
    const h = await harness({ jwksMaxStaleSeconds: 3600 });
    await h.verify(await h.fake.mint());
    h.fake.fail("down");
    h.advance(JWKS_FRESH_MS + 3600 * 1000 - 1);
    await h.verify(await h.fake.mint());
    h.advance(1);
    expect(await rejection(h.verify(await h.fake.mint()))).toEqual(JWKS_UNAVAILABLE);
    // Also from KV in a new isolate.
    h.newIsolate();
    h.advance(JWKS_FAILURE_BACKOFF_MS);
    expect(await rejection(h.verify(await h.fake.mint()))).toEqual(JWKS_UNAVAILABLE);
    // The issuer recovers: the next attempt after the backoff succeeds.
    h.fake.fail(null);
    h.advance(JWKS_FAILURE_BACKOFF_MS);
    await h.verify(await h.fake.mint());
  });

  it.each([
    ["HTML", "garbage" as const, undefined],
    ["a redirect", "redirect" as const, undefined],
    ["a 503", "down" as const, undefined],
    ["keys not an array", null, { keys: "nope" }],
    ["no keys member", null, { jwks: [] }],
    ["an empty key set", null, { keys: [] }],
    ["a JSON array", null, []],
    ["not JSON", null, "\u00ff{"],
    [`more than ${MAX_JWKS_KEYS} keys`, null, "too-many"],
  ])("treats %s as an outage: stale set when warm, 503 when cold", async (_name, mode, body) => {
    const misbehave = (h: Harness) => {
      if (mode !== null) h.fake.fail(mode);
      else if (body === "too-many") {
        // The real key first: accepting the oversized set would make verification succeed.
        const real = h.fake.key().publicJwk;
        h.fake.setJwks({ keys: Array.from({ length: MAX_JWKS_KEYS + 1 }, (_, i) => ({ ...real, kid: i === 0 ? real.kid : `k${i}` })) });
      } else h.fake.setJwks(body);
    };
    const warm = await harness();
    await warm.verify(await warm.fake.mint());
    misbehave(warm);
    warm.advance(JWKS_FRESH_MS);
    await warm.verify(await warm.fake.mint());
    expect(warm.fake.fetchCount).toBe(2);

    const cold = await harness();
    misbehave(cold);
    expect(await rejection(cold.verify(await cold.fake.mint()))).toEqual(JWKS_UNAVAILABLE);
    expect(cold.network.callsTo("https://attacker.test")).toHaveLength(0);
  });

  it("caps an oversized JWKS on the stream (no Content-Length) and treats it as an outage", async () => {
    const h = await harness();
    h.fake.fail("oversized");
    const response = await h.fake.handler(new Request(h.fake.jwksUri));
    expect(response.headers.get("content-length")).toBeNull();
    const body = await response.text(); // valid JSON with the real keys: only the cap refuses it
    expect(body.length).toBeGreaterThan(MAX_JWKS_RESPONSE_BYTES);
    expect((JSON.parse(body) as { keys: unknown[] }).keys).toHaveLength(1);
    expect(await rejection(h.verify(await h.fake.mint()))).toEqual(JWKS_UNAVAILABLE);
  });

  it("accepts a JWKS just under the size cap", async () => {
    const h = await harness();
    const jwks = { keys: [h.fake.key().publicJwk], padding: "" };
    jwks.padding = "x".repeat(MAX_JWKS_RESPONSE_BYTES - JSON.stringify(jwks).length);
    expect(JSON.stringify(jwks).length).toBe(MAX_JWKS_RESPONSE_BYTES);
    h.fake.setJwks(jwks);
    await h.verify(await h.fake.mint());
  });

  it("fetches with redirect: manual and a timeout signal", async () => {
    const h = await harness();
    const seen: RequestInit[] = [];
    const spy: FetchFn = (input, init) => {
      seen.push(init ?? {});
      return h.network.fetch(input, init);
    };
    const cache = createJwksCache({ kv: env.JWKS_CACHE, fetch: spy, now: h.now, integrityKey: TEST_INTEGRITY_KEY });
    await cache.getKey(h.config, { alg: "RS256", kid: h.fake.key().kid });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.redirect).toBe("manual");
    expect(seen[0]?.signal).toBeInstanceOf(AbortSignal);
  });
});

describe("JWKS cache: usable keys only", () => {
  it("never uses a 1024-bit RSA key", async () => {
    const h = await harness();
    const kid = await h.fake.addKey({ modulusLength: 1024 });
    expect(await rejection(h.verify(await h.fake.mint({}, { kid })))).toEqual(invalidToken("kid_unknown"));
    // Even as the only key, for a token without kid.
    h.fake.setJwks({ keys: [h.fake.key(kid).publicJwk] });
    h.newIsolate();
    h.advance(JWKS_FRESH_MS);
    expect(await rejection(h.verify(await h.fake.mint({}, { kid, header: { kid: undefined } })))).toEqual(invalidToken("kid_unknown"));
  });

  it.each([
    ["use: enc", { use: "enc" }],
    ["key_ops without verify", { key_ops: ["encrypt"] }],
    ["malformed key_ops", { key_ops: "verify" }],
    ["alg RS384 on the key", { alg: "RS384" }],
    ["kty EC", { kty: "EC" }],
  ])("never uses a key with %s", async (_name, jwk) => {
    const h = await harness();
    const kid = await h.fake.addKey({ jwk });
    expect(await rejection(h.verify(await h.fake.mint({}, { kid })))).toEqual(invalidToken("kid_unknown"));
  });

  it("uses a key with key_ops [verify] and a key without use", async () => {
    const h = await harness();
    const a = await h.fake.addKey({ jwk: { key_ops: ["verify"] } });
    const b = await h.fake.addKey({ jwk: { use: undefined } });
    await h.verify(await h.fake.mint({}, { kid: a }));
    await h.verify(await h.fake.mint({}, { kid: b }));
  });

  it("drops private members: a JWKS that leaks the private key still yields a public verification key", async () => {
    const h = await harness();
    const signer = h.fake.key();
    const leaked = { ...(await exportJWK(signer.privateKey)), kid: signer.kid, alg: "RS256", use: "sig" };
    expect(leaked).toHaveProperty("d");
    h.fake.setJwks({ keys: [leaked] });
    const key = await h.jwks.getKey(h.config, { alg: "RS256", kid: signer.kid });
    expect(key.type).toBe("public");
    expect(key.usages).toEqual(["verify"]);
  });

  it("refuses an alg outside the issuer's list without fetching", async () => {
    const h = await harness();
    expect(await rejection(h.jwks.getKey(h.config, { alg: "HS256", kid: "x" }))).toEqual(invalidToken("alg_not_allowed"));
    expect(await rejection(h.jwks.getKey(h.config, {}))).toEqual(invalidToken("alg_not_allowed"));
    expect(h.network.calls).toHaveLength(0);
  });

  it("modulusBits counts significant bits; selectKey refuses ambiguous kids", async () => {
    const h = await harness();
    const jwk = h.fake.key().publicJwk as { kty: string; n: string; e: string; kid: string };
    expect(modulusBits(jwk.n)).toBe(2048);
    expect(modulusBits("AAAB")).toBe(1);
    expect(modulusBits("!!")).toBe(0);
    expect(isUsableKey(jwk, "RS256")).toBe(true);
    expect(isUsableKey(jwk, "PS256")).toBe(false); // the key says alg RS256
    expect(selectKey([jwk, jwk], "RS256", jwk.kid)).toBeUndefined();
    expect(selectKey([jwk], "RS256", jwk.kid)).toBe(0);
  });
});

describe("JWKS cache: discovery", () => {
  it("uses the discovery document when jwksUri is absent", async () => {
    const h = await harness({ jwksUri: undefined });
    await h.verify(await h.fake.mint());
    expect(h.fake.discoveryCount).toBe(1);
    expect(h.fake.fetchCount).toBe(1);
    expect(h.network.calls.map((call) => call.url)).toEqual([h.fake.discoveryUri, h.fake.jwksUri]);
  });

  it.each([
    ["http", (jwksUri: string) => jwksUri.replace("https://", "http://")],
    ["ftp", (jwksUri: string) => jwksUri.replace("https://", "ftp://")],
    ["credentials in the URL", (jwksUri: string) => jwksUri.replace("https://", "https://user:pw@")],
    ["not a URL", () => "not a url"],
    ["loopback http for an https issuer", () => "http://127.0.0.1:8788/.well-known/jwks"],
  ])("refuses a discovered jwks_uri with %s, without fetching it", async (_name, alter) => {
    const h = await harness({ jwksUri: undefined });
    h.fake.setDiscovery({ issuer: h.fake.issuer, jwks_uri: alter(h.fake.jwksUri) });
    expect(await rejection(h.verify(await h.fake.mint()))).toEqual(JWKS_UNAVAILABLE);
    expect(h.fake.fetchCount).toBe(0);
    expect(h.network.calls).toHaveLength(1);
  });

  it("refuses a discovery document whose issuer differs from the configured one", async () => {
    const h = await harness({ jwksUri: undefined });
    h.fake.setDiscovery({ issuer: `${h.fake.issuer}/`, jwks_uri: h.fake.jwksUri });
    expect(await rejection(h.verify(await h.fake.mint()))).toEqual(JWKS_UNAVAILABLE);
    expect(h.fake.fetchCount).toBe(0);
  });

  it("allows loopback http discovery and JWKS only for a loopback http issuer (the sandbox)", async () => {
    const issuer = `http://127.0.0.1:8788/${crypto.randomUUID()}`;
    const now = () => START_MS;
    const fake = await createFakeIssuer({ issuer, now });
    const network = createFakeNetwork({ [issuer]: fake.handler });
    const config = { ...(await harness()).config, issuer, jwksUri: undefined };
    const cache = createJwksCache({ kv: env.JWKS_CACHE, fetch: network.fetch, now, integrityKey: TEST_INTEGRITY_KEY });
    await cache.getKey(config, { alg: "RS256", kid: fake.key().kid });
    expect(fake.fetchCount).toBe(1);
  });
});

describe("JWKS cache: a refresh that never settles", () => {
  it("is replaced once it has run longer than any fetch could, so a cancelled request cannot wedge the issuer", async () => {
    const h = await harness();
    let release: (() => void) | undefined;
    const hung = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    h.network.route(h.config.issuer, async (request) => {
      calls += 1;
      if (calls === 1) await hung; // the first refresh's fetch never answers (its request was cancelled)
      return h.fake.handler(request);
    });
    const first = h.verify(await h.fake.mint()).catch(() => undefined);
    h.advance(JWKS_INFLIGHT_MAX_MS + 1);
    await h.verify(await h.fake.mint()); // starts its own refresh instead of joining the dead one
    expect(calls).toBe(2);
    release?.();
    await first;
  });
});

describe("JWKS cache: KV entry", () => {
  it("stores { fetchedAt, keys, mac } with an expiration covering fresh + stale windows", async () => {
    const h = await harness({ jwksMaxStaleSeconds: 7200 });
    await h.verify(await h.fake.mint());
    const key = await jwksKvKey(h.config);
    const stored = JSON.parse((await env.JWKS_CACHE.get(key, "text")) ?? "null") as { fetchedAt: number; keys: { kid: string }[] };
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
    await env.JWKS_CACHE.put(await jwksKvKey(h.config), JSON.stringify({ fetchedAt: START_MS, keys: [h.fake.key(kid).publicJwk] }), {
      expirationTtl: 600,
    });
    expect(await rejection(h.verify(await h.fake.mint({}, { kid })))).toEqual(invalidToken("kid_unknown"));
  });
});
