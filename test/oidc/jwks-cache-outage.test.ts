// The JWKS cache through an issuer's outage (src/oidc/jwks-cache.ts): freshness, the stale window, backoff, a refresh
// that never settles, and how long a request waits on another's refresh (an injected timer, no wall-clock wait).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { JWKS_FAILURE_BACKOFF_MS, JWKS_FRESH_MS, JWKS_INFLIGHT_MAX_MS } from "../../src/oidc/constants.ts";
import { createJwksCache } from "../../src/oidc/jwks-cache.ts";
import { manualTimers, settle } from "../support/manual-timers.ts";
import { harness, JWKS_UNAVAILABLE, rejection, TEST_INTEGRITY_KEY } from "./helpers.ts";

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

describe("JWKS cache: waiting on another request's refresh", () => {
  it("waits at most JWKS_INFLIGHT_MAX_MS (its timer, injected), then answers with what it has", async () => {
    const h = await harness();
    const timers = manualTimers();
    const jwks = createJwksCache({
      kv: env.JWKS_CACHE,
      fetch: h.network.fetch,
      now: h.now,
      integrityKey: TEST_INTEGRITY_KEY,
      startTimer: timers,
    });
    let release: (() => void) | undefined;
    const hung = new Promise<void>((resolve) => (release = resolve));
    h.network.route(h.config.issuer, async (request) => {
      await hung; // the first request's fetch does not answer
      return h.fake.handler(request);
    });
    const header = { alg: "RS256", kid: h.fake.key().kid };
    const first = jwks.getKey(h.config, header).catch(() => undefined);
    const joined = rejection(jwks.getKey(h.config, header));
    await settle();
    expect(timers.started).toEqual([JWKS_INFLIGHT_MAX_MS]);
    timers.fire();
    expect(await joined).toEqual(JWKS_UNAVAILABLE);
    expect(timers.cancelled).toBe(1);
    release?.();
    await first;
  });
});
