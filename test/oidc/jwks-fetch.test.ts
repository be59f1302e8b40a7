import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { JWKS_FRESH_MS, MAX_JWKS_KEYS, MAX_JWKS_RESPONSE_BYTES } from "../../src/oidc/constants.ts";
import type { FetchFn } from "../../src/deps.ts";
import { createJwksCache } from "../../src/oidc/jwks-cache.ts";
import { createFakeIssuer } from "../support/fake-issuer.ts";
import { createFakeNetwork } from "../support/fake-network.ts";
import { harness, type Harness, JWKS_UNAVAILABLE, rejection, START_MS, TEST_INTEGRITY_KEY } from "./helpers.ts";

describe("JWKS fetch: discovery", () => {
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

describe("JWKS fetch: garbage, size cap and redirects", () => {
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
        h.fake.setJwks({
          keys: Array.from({ length: MAX_JWKS_KEYS + 1 }, (_, i) => ({ ...real, kid: i === 0 ? real.kid : `k${i}` })),
        });
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
