// The pre-authentication limit per client address (src/admission/address-limit.ts) through the whole broker: floods,
// IPv6 prefixes, the real rate-limiting bindings, a missing binding.
import { base64url } from "jose";
import { describe, expect, it } from "vitest";
import {
  ADDRESS_LIMIT_PER_PERIOD,
  ADDRESS_LIMIT_PERIOD_SECONDS,
  NETWORK_LIMIT_PER_PERIOD,
} from "../../src/admission/constants.ts";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../../src/http/constants.ts";
import { AUDIENCE, type Harness } from "../support/broker-harness.ts";
import { githubClaims, unsignedToken } from "../support/fake-issuer.ts";
import { harness, expectRefused, expectError } from "./admission-helpers.ts";

const URL_CREDENTIALS = "https://broker.example/v1/credentials";

function post(h: Harness, token: string, headers: Record<string, string> = {}): Promise<Response> {
  return h.fetch(
    new Request(URL_CREDENTIALS, { method: "POST", headers: { authorization: `Bearer ${token}`, ...headers } }),
  );
}

describe("pre-authentication limit per client address", () => {
  /** A token with the harness issuer's `iss` and a fresh unknown kid: the kind of garbage that costs a JWKS lookup. */
  function garbage(h: Harness): string {
    const iat = Math.floor(h.now() / 1000);
    const payload = { ...githubClaims(), iss: h.issuer.issuer, aud: AUDIENCE, iat, nbf: iat, exp: iat + 300 };
    return unsignedToken(
      { alg: "RS256", typ: "JWT", kid: crypto.randomUUID() },
      payload,
      base64url.encode(crypto.getRandomValues(new Uint8Array(256))),
    );
  }

  const WINDOW = String(ADDRESS_LIMIT_PERIOD_SECONDS);
  const unknownIssuer = () => unsignedToken({ alg: "RS256", typ: "JWT" }, { iss: "https://nobody.example" }, "AAAA");

  it(`a garbage flood from one address trips after ${ADDRESS_LIMIT_PER_PERIOD} requests, before any further JWKS or STS call`, async () => {
    const h = await harness();
    const flood = { "cf-connecting-ip": "203.0.113.9" };
    for (let i = 0; i < ADDRESS_LIMIT_PER_PERIOD; i++)
      await expectError(await post(h, garbage(h), flood), 401, "invalid_token");
    const networkCalls = h.network.calls.length;
    const jwksFetches = h.issuer.fetchCount;
    for (let i = 0; i < 30; i++) {
      // X-Forwarded-For is the client's to write: it changes nothing.
      const response = await post(h, garbage(h), { ...flood, "x-forwarded-for": `192.0.2.${i}` });
      await expectRefused(h, response, {
        status: 429,
        code: "rate_limited",
        reason: "rate_limited_address",
        retryAfter: WINDOW,
      });
    }
    expect(h.network.calls.length).toBe(networkCalls);
    expect(h.issuer.fetchCount).toBe(jwksFetches);
    expect(h.sts.requestCount).toBe(0);
    // Refused before verification: the log line has no verification time, no issuer.
    const limited = h.events().filter((event) => event.reason === "rate_limited_address");
    expect(limited).toHaveLength(30);
    for (const event of limited)
      expect(event).toMatchObject({ verify_ms: undefined, issuer: undefined, admission_ms: expect.any(Number) });
    // A valid token from that address waits too; another address is not affected.
    await expectRefused(h, await post(h, await h.mint(), flood), {
      status: 429,
      code: "rate_limited",
      reason: "rate_limited_address",
      retryAfter: WINDOW,
    });
    expect((await post(h, await h.mint(), { "cf-connecting-ip": "198.51.100.7" })).status).toBe(200);
    // The next window lets the address in again.
    h.advance(ADDRESS_LIMIT_PERIOD_SECONDS * 1000);
    expect((await post(h, await h.mint(), flood)).status).toBe(200);
  });

  it("one IPv6 host cannot escape by rotating through its /64", async () => {
    const h = await harness();
    for (let i = 0; i < ADDRESS_LIMIT_PER_PERIOD; i++)
      await expectError(
        await post(h, unknownIssuer(), { "cf-connecting-ip": `2001:db8:5:6::${i.toString(16)}` }),
        401,
        "invalid_token",
      );
    await expectRefused(h, await post(h, garbage(h), { "cf-connecting-ip": "2001:db8:5:6:ffff::1" }), {
      status: 429,
      code: "rate_limited",
      reason: "rate_limited_address",
      retryAfter: WINDOW,
    });
    // The neighbouring /64 has its own budget.
    expect((await post(h, await h.mint(), { "cf-connecting-ip": "2001:db8:5:7::1" })).status).toBe(200);
  });

  it("one IPv6 /48 cannot escape by rotating through its 65,536 /64s: the enclosing /48 has a budget too", async () => {
    const h = await harness({ admission: { addressLimit: 5, networkLimit: 12 } });
    // Twelve /64s of 2001:db8:77::/48, one request each: every /64 far below its own limit ...
    for (let i = 0; i < 12; i++)
      await expectError(
        await post(h, unknownIssuer(), { "cf-connecting-ip": `2001:db8:77:${i.toString(16)}::1` }),
        401,
        "invalid_token",
      );
    // ... and yet the thirteenth /64 is refused: the /48 has spent its window.
    await expectRefused(h, await post(h, await h.mint(), { "cf-connecting-ip": "2001:db8:77:ffff::1" }), {
      status: 429,
      code: "rate_limited",
      reason: "rate_limited_address",
      retryAfter: WINDOW,
    });
    expect(h.addressLimiters.network.keys.at(-1)).toMatch(/:v6:2001:db8:77::\/48$/);
    // Another /48 is not affected; IPv4 clients never touch the /48 limiter.
    expect((await post(h, await h.mint(), { "cf-connecting-ip": "2001:db8:78::1" })).status).toBe(200);
    const asked = h.addressLimiters.network.keys.length;
    expect((await post(h, await h.mint(), { "cf-connecting-ip": "192.0.2.44" })).status).toBe(200);
    expect(h.addressLimiters.network.keys).toHaveLength(asked);
    // The default /48 budget is the default /64 budget times eight.
    expect(NETWORK_LIMIT_PER_PERIOD).toBe(8 * ADDRESS_LIMIT_PER_PERIOD);
  });

  it("once an address is limited, even a cold broker makes no JWKS call for it", async () => {
    const h = await harness({ admission: { addressLimit: 3 } });
    // Garbage that fails before any fetch (unknown issuer) spends the address's budget ...
    for (let i = 0; i < 3; i++) await expectError(await h.request(unknownIssuer()), 401, "invalid_token");
    // ... and then tokens naming the real issuer, valid or not, are refused without a single fetch.
    for (const token of [garbage(h), await h.mint()]) {
      await expectRefused(h, await h.request(token), {
        status: 429,
        code: "rate_limited",
        reason: "rate_limited_address",
        retryAfter: WINDOW,
      });
    }
    expect(h.issuer.fetchCount).toBe(0);
    expect(h.issuer.discoveryCount).toBe(0);
    expect(h.network.calls).toEqual([]);
    h.advance(ADDRESS_LIMIT_PERIOD_SECONDS * 1000);
    expect((await h.request(await h.mint())).status).toBe(200);
  });

  it("malformed requests are refused before the address limit and do not count against it", async () => {
    const h = await harness({ admission: { addressLimit: 1 } });
    for (const token of ["not-a-jwt", "a.b", "a.b.c.d.e", `${"x".repeat(9000)}.b.c`]) {
      await expectError(await h.request(token), 401, "invalid_token");
    }
    expect((await h.request(await h.mint())).status).toBe(200);
    // The limit is live (limit 1): the valid token above was its first and only count.
    await expectRefused(h, await h.request(await h.mint()), {
      status: 429,
      code: "rate_limited",
      reason: "rate_limited_address",
      retryAfter: WINDOW,
    });
  });

  it("the real rate-limiting bindings of wrangler.toml (Miniflare's): an address is refused within two windows' worth, others are not", async () => {
    const h = await harness({ admission: { realAddressLimiters: true } });
    const flood = { "cf-connecting-ip": "203.0.113.77" };
    // Windows follow the wall clock here: a flood may straddle one boundary, so allow up to two windows' worth.
    let allowed = 0;
    let refused: Response | undefined;
    while (refused === undefined && allowed <= 2 * ADDRESS_LIMIT_PER_PERIOD) {
      const response = await post(h, unknownIssuer(), flood);
      if (response.status === 429) refused = response;
      else allowed++;
    }
    expect(allowed).toBeGreaterThanOrEqual(ADDRESS_LIMIT_PER_PERIOD);
    expect(refused).toBeDefined();
    await expectRefused(h, refused as Response, {
      status: 429,
      code: "rate_limited",
      reason: "rate_limited_address",
      retryAfter: WINDOW,
    });
    expect((await post(h, await h.mint(), { "cf-connecting-ip": "2001:db8:99::1" })).status).toBe(200);
  });

  it("no ADDRESS_LIMITER binding -> 503, before any verification", async () => {
    const h = await harness({ admission: { realAddressLimiters: true }, env: { ADDRESS_LIMITER: undefined } });
    await expectRefused(h, await h.request(await h.mint()), {
      status: 503,
      code: "upstream_unavailable",
      reason: "admission_unavailable",
      retryAfter: String(UPSTREAM_RETRY_AFTER_SECONDS),
    });
    expect(h.issuer.fetchCount).toBe(0);
    expect(h.sts.requestCount).toBe(0);
  });
});
