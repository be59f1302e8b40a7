// POST /v1/credentials's token failures through the whole broker inside workerd: every case is 401 invalid_token with
// its internal reason in the log line and the audit event, STS never called, and one body for every failure.
import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { MAX_REQUEST_BODY_BYTES } from "../../src/http/constants.ts";
import { MAX_TOKEN_BYTES } from "../../src/oidc/constants.ts";
import { AUDIENCE, createHarness, type Harness, type HarnessOptions } from "../support/broker-harness.ts";
import {
  createFakeIssuer,
  generateSigningKey,
  hmacToken,
  signCompact,
  spkiPem,
  unsignedToken,
} from "../../sandbox/fakes/fake-issuer.ts";
import {
  attackerOrigin,
  EVIL_ORIGIN,
  expectRejected,
  normalisedBody,
  nowSeconds,
  payloadFor,
  post,
  times,
  utf8,
} from "./helpers.ts";

// --- Token failures: 401 invalid_token ----------------------------------------------------------

interface TokenCase {
  name: string;
  reason: string;
  token: (h: Harness) => Promise<string>;
  /** Rejected before any outbound request (no JWKS fetch either). */
  noFetch?: boolean;
  options?: HarnessOptions;
}

const tokenCases: TokenCase[] = [
  {
    name: "alg none, empty signature",
    reason: "token_malformed",
    noFetch: true,
    token: async (h) => unsignedToken({ alg: "none", typ: "JWT" }, payloadFor(h)),
  },
  {
    name: "alg none, junk signature",
    reason: "alg_not_allowed",
    noFetch: true,
    token: async (h) => unsignedToken({ alg: "none", typ: "JWT" }, payloadFor(h), "AAAA"),
  },
  {
    name: "HS256 with the issuer's RSA public key (SPKI PEM) as HMAC secret",
    reason: "alg_not_allowed",
    noFetch: true,
    token: async (h) =>
      hmacToken(
        { alg: "HS256", typ: "JWT", kid: h.issuer.key().kid },
        payloadFor(h),
        utf8.encode(await spkiPem(h.issuer.key().publicKey)),
      ),
  },
  {
    name: "HS256 with the issuer's RSA public key (JWK JSON) as HMAC secret",
    reason: "alg_not_allowed",
    noFetch: true,
    token: async (h) =>
      hmacToken(
        { alg: "HS256", typ: "JWT", kid: h.issuer.key().kid },
        payloadFor(h),
        utf8.encode(JSON.stringify(h.issuer.key().publicJwk)),
      ),
  },
  {
    name: "PS256 signed by a key the issuer serves (only the algorithm allowlist stops it)",
    reason: "alg_not_allowed",
    noFetch: true,
    token: async (h) => h.mint({}, { kid: await h.issuer.addKey({ alg: "PS256" }) }),
  },
  {
    name: "ES256 signed by a key the issuer serves (only the algorithm allowlist stops it)",
    reason: "alg_not_allowed",
    noFetch: true,
    token: async (h) => h.mint({}, { kid: await h.issuer.addKey({ alg: "ES256" }) }),
  },
  {
    name: "iss with a trailing slash",
    reason: "issuer_unknown",
    noFetch: true,
    token: (h) => h.mint({ iss: `${h.issuer.issuer}/` }),
  },
  {
    name: "iss with http:// scheme",
    reason: "issuer_unknown",
    noFetch: true,
    token: (h) => h.mint({ iss: h.issuer.issuer.replace("https://", "http://") }),
  },
  {
    name: "iss with an upper-case host",
    reason: "issuer_unknown",
    noFetch: true,
    token: (h) => h.mint({ iss: h.issuer.issuer.replace("https://issuer-", "https://ISSUER-") }),
  },
  {
    name: "aud https://github.com/acme (GitHub's default)",
    reason: "audience_mismatch",
    token: (h) => h.mint({ aud: "https://github.com/acme" }),
  },
  { name: "aud sts.amazonaws.com", reason: "audience_mismatch", token: (h) => h.mint({ aud: "sts.amazonaws.com" }) },
  {
    name: "expired by 11 s (tolerance 10 s)",
    reason: "token_expired",
    token: (h) => h.mint(times(h, { iat: -300, nbf: -600, exp: -11 })),
  },
  {
    name: "nbf 11 s ahead",
    reason: "token_not_yet_valid",
    token: (h) => h.mint(times(h, { iat: 0, nbf: 11, exp: 300 })),
  },
  { name: "missing jti", reason: "claim_missing", token: (h) => h.mint({}, { omit: ["jti"] }) },
  { name: "exp as a string", reason: "claims_invalid", token: (h) => h.mint({ exp: String(nowSeconds(h) + 300) }) },
  {
    name: "jku header pointing at an attacker's JWKS (token signed by the attacker)",
    reason: "header_forbidden",
    noFetch: true,
    token: async (h) => {
      const attacker = await attackerOrigin(h);
      return signCompact(
        { alg: "RS256", typ: "JWT", kid: attacker.kid, jku: `${EVIL_ORIGIN}/jwks` },
        payloadFor(h),
        attacker.privateKey,
      );
    },
  },
  {
    name: "jku header pointing elsewhere on an otherwise genuine token",
    reason: "header_forbidden",
    noFetch: true,
    token: async (h) => {
      await attackerOrigin(h);
      return h.mint({}, { header: { jku: `${EVIL_ORIGIN}/jwks` } });
    },
  },
  {
    name: "jwk header whose key points elsewhere (x5u at the attacker) on an otherwise genuine token",
    reason: "header_forbidden",
    noFetch: true,
    token: async (h) => {
      const attacker = await attackerOrigin(h);
      return h.mint({}, { header: { jwk: { ...attacker.publicJwk, x5u: `${EVIL_ORIGIN}/cert.pem` } } });
    },
  },
  {
    name: "x5u header pointing at the attacker",
    reason: "header_forbidden",
    noFetch: true,
    token: async (h) => {
      await attackerOrigin(h);
      return h.mint({}, { header: { x5u: `${EVIL_ORIGIN}/cert.pem` } });
    },
  },
  {
    name: "embedded jwk that is the attacker's own key (token signed by it)",
    reason: "header_forbidden",
    noFetch: true,
    token: async (h) => {
      await attackerOrigin(h);
      const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
      return signCompact({ alg: "RS256", typ: "JWT", jwk: await exportJWK(publicKey) }, payloadFor(h), privateKey);
    },
  },
  {
    name: "repository claim as an array",
    reason: "claims_invalid",
    token: (h) => h.mint({ repository: ["acme/app"] }),
  },
  {
    name: "token over 8 KiB",
    reason: "token_too_large",
    noFetch: true,
    token: (h) => h.mint({ padding: "x".repeat(MAX_TOKEN_BYTES) }),
  },
  {
    name: "token with 2 segments",
    reason: "token_malformed",
    noFetch: true,
    token: async (h) => (await h.mint()).split(".").slice(0, 2).join("."),
  },
  {
    name: "token with 4 segments",
    reason: "token_malformed",
    noFetch: true,
    token: async (h) => `${await h.mint()}.AAAA`,
  },
  {
    name: "token from an unknown issuer (reachable, serving its own keys)",
    reason: "issuer_unknown",
    noFetch: true,
    token: async (h) => {
      const stranger = await createFakeIssuer({
        issuer: `https://issuer-${crypto.randomUUID()}.example`,
        audience: AUDIENCE,
        now: h.now,
      });
      h.network.route(stranger.issuer, stranger.handler);
      return stranger.mint();
    },
  },
  {
    name: "token signed by a key the issuer does not serve (its own kid)",
    reason: "kid_unknown",
    token: async (h) => {
      const stray = await generateSigningKey();
      return signCompact({ alg: "RS256", typ: "JWT", kid: stray.kid }, payloadFor(h), stray.privateKey);
    },
  },
  {
    name: "token signed by a key the issuer does not serve (claiming the issuer's kid)",
    reason: "signature_invalid",
    token: async (h) => {
      const stray = await generateSigningKey();
      return signCompact({ alg: "RS256", typ: "JWT", kid: h.issuer.key().kid }, payloadFor(h), stray.privateKey);
    },
  },
];

describe("401 invalid_token (Bearer header)", () => {
  it.each(tokenCases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const h = await createHarness(c.options);
    const token = await c.token(h);
    await expectRejected(h, await h.request(token), { status: 401, code: "invalid_token", reason: c.reason, token });
    // Nothing the token says about key locations is ever fetched.
    expect(h.network.callsTo(EVIL_ORIGIN)).toEqual([]);
    // Only the configured issuer is ever contacted, and shape/issuer/alg/header failures stop before any fetch.
    for (const call of h.network.calls) expect(call.url.startsWith(h.issuer.issuer)).toBe(true);
    if (c.noFetch === true) expect(h.network.calls).toEqual([]);
  });

  it("a token over 8 KiB in the JSON body is token_too_large too (body cap is 16 KiB)", async () => {
    const h = await createHarness();
    const token = await h.mint({ padding: "x".repeat(MAX_TOKEN_BYTES) });
    expect(token.length).toBeGreaterThan(MAX_TOKEN_BYTES);
    expect(token.length).toBeLessThan(MAX_REQUEST_BODY_BYTES - 100);
    const response = await h.fetch(
      post({ headers: { "content-type": "application/json" }, body: JSON.stringify({ token }) }),
    );
    await expectRejected(h, response, { status: 401, code: "invalid_token", reason: "token_too_large", token });
    expect(h.network.calls).toEqual([]);
  });

  it("different token failures on one broker answer byte-identical bodies except request_id", async () => {
    const h = await createHarness();
    const tokens = [
      unsignedToken({ alg: "none", typ: "JWT" }, payloadFor(h), "AAAA"),
      await h.mint({ aud: "https://github.com/acme" }),
      await h.mint(times(h, { iat: -300, nbf: -600, exp: -11 })),
      await h.mint({ iss: `${h.issuer.issuer}/` }),
      await h.mint({}, { omit: ["jti"] }),
    ];
    const bodies = new Set<string>();
    const reasons = new Set<unknown>();
    for (const token of tokens) {
      const response = await h.request(token);
      expect(response.status).toBe(401);
      const text = await response.text();
      const requestId = (JSON.parse(text) as { request_id: string }).request_id;
      bodies.add(normalisedBody(text, requestId));
      reasons.add(h.events().at(-1)?.reason);
    }
    expect(bodies.size).toBe(1);
    expect(reasons.size).toBe(tokens.length); // the log does tell them apart
    expect(h.sts.requestCount).toBe(0);
  });
});
