// The HTTP-level rejection table of POST /v1/credentials: every case drives the whole broker inside workerd
// (createHarness) and checks status, public code, internal reason in the log line, headers, and that STS was never called.
import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { TOKEN_HASH_PREFIX_HEX_CHARS } from "../src/audit/constants.ts";
import { MAX_REQUEST_BODY_BYTES } from "../src/http/constants.ts";
import { MAX_TOKEN_BYTES } from "../src/oidc/constants.ts";
import {
  AUDIENCE,
  createHarness,
  expectAudit,
  expectNoLeak,
  type Harness,
  type HarnessOptions,
} from "./support/broker-harness.ts";
import {
  createFakeIssuer,
  generateSigningKey,
  githubClaims,
  hmacToken,
  signCompact,
  spkiPem,
  unsignedToken,
} from "./support/fake-issuer.ts";

const URL_CREDENTIALS = "https://broker.example/v1/credentials";
const EVIL_ORIGIN = "https://evil.example";
const utf8 = new TextEncoder();

// --- Helpers ------------------------------------------------------------------------------------

const nowSeconds = (h: Harness) => Math.floor(h.now() / 1000);

/** A GitHub-shaped payload the harness issuer would sign, for hand-built tokens. */
function payloadFor(h: Harness, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = nowSeconds(h);
  return { ...githubClaims(), iss: h.issuer.issuer, aud: AUDIENCE, iat, nbf: iat - 300, exp: iat + 300, ...overrides };
}

/** iat/nbf/exp relative to the harness clock, in seconds. */
function times(h: Harness, offsets: { iat: number; nbf: number; exp: number }): Record<string, number> {
  const t = nowSeconds(h);
  return { iat: t + offsets.iat, nbf: t + offsets.nbf, exp: t + offsets.exp };
}

async function sha256Prefix(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", utf8.encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, TOKEN_HASH_PREFIX_HEX_CHARS);
}

/**
 * The first error body seen for each public code, request id blanked. Every later rejection with the same code
 * must be byte-identical: the wire must not tell one token failure (or one denial) from another.
 */
const referenceBodies = new Map<string, string>();

function normalisedBody(text: string, requestId: string): string {
  expect(text.split(requestId)).toHaveLength(2); // the request id appears exactly once
  return text.replace(requestId, "<request_id>");
}

interface Expected {
  status: number;
  code: string;
  reason: string;
  /** The token sent, if any: must not be echoed, and its hash prefix must be logged. */
  token?: string;
}

/**
 * Asserts one rejected exchange end to end: status, leak-free body with the code, headers, exactly one
 * credential_exchange line carrying the internal reason, no STS call, and a body identical to its code's reference.
 */
async function expectRejected(
  h: Harness,
  response: Response,
  expected: Expected,
): Promise<{ body: Record<string, unknown>; text: string }> {
  const text = await response.clone().text();
  expect(response.status, text).toBe(expected.status);
  // The internal reason and the token itself are extra needles: neither may appear on the wire.
  const needles = [
    expected.reason,
    ...(expected.token === undefined
      ? []
      : [expected.token, ...expected.token.split(".").filter((s) => s.length >= 16)]),
  ];
  const body = await expectNoLeak(response, needles);
  expect(body.error).toBe(expected.code);
  const requestId = String(body.request_id);
  expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  expect(response.headers.get("cache-control")).toBe("no-store");
  expect(response.headers.get("x-request-id")).toBe(requestId);

  const events = h.events();
  expect(events).toHaveLength(1);
  const event = events[0] as Record<string, unknown>;
  expect(event.request_id).toBe(requestId);
  expect(event.code).toBe(expected.code);
  expect(event.reason).toBe(expected.reason);
  expect(event.status).toBe(expected.status);
  // The same event as an Analytics Engine data point: outcome from the code, nothing secret.
  const outcome = expected.code === "forbidden" ? "denied" : expected.status >= 500 ? "error" : "rejected";
  expectAudit(h, {
    request_id: requestId,
    outcome,
    code: expected.code,
    reason: expected.reason,
    status: expected.status,
  });
  if (
    expected.token !== undefined &&
    expected.code !== "invalid_request" &&
    expected.code !== "unsupported_media_type" &&
    expected.code !== "payload_too_large"
  ) {
    expect(event.token_sha256).toBe(await sha256Prefix(expected.token));
  }

  expect(h.sts.requestCount).toBe(0);

  const normalised = normalisedBody(text, requestId);
  const reference = referenceBodies.get(expected.code);
  if (reference === undefined) referenceBodies.set(expected.code, normalised);
  else expect(normalised).toBe(reference);
  return { body, text };
}

/** Asserts a 200 in the credential_process shape, one STS call, and an `issued` log line. */
async function expectIssued(h: Harness, response: Response): Promise<Record<string, unknown>> {
  const text = await response.clone().text();
  expect(response.status, text).toBe(200);
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(body.Version).toBe(1);
  expect(body.AccessKeyId).toEqual(expect.any(String));
  expect(body.SecretAccessKey).toEqual(expect.any(String));
  expect(body.SessionToken).toEqual(expect.any(String));
  expect(response.headers.get("cache-control")).toBe("no-store");
  expect(h.sts.requestCount).toBe(1);
  const events = h.events();
  expect(events).toHaveLength(1);
  expect(events[0]?.outcome).toBe("issued");
  expect(events[0]?.request_id).toBe(response.headers.get("x-request-id"));
  expectAudit(h, { outcome: "issued", code: undefined, reason: undefined, status: 200, sts_attempts: 1 });
  return body;
}

function post(init: { headers?: Record<string, string>; body?: BodyInit | null }): Request {
  return new Request(URL_CREDENTIALS, { method: "POST", headers: init.headers ?? {}, body: init.body ?? null });
}

/** A streamed body of `totalBytes` in `chunkBytes` chunks; records how much was pulled and whether it was cancelled. */
function countingStream(totalBytes: number, chunkBytes: number) {
  const state = { pulled: 0, cancelled: false };
  const chunk = utf8.encode(" ".repeat(chunkBytes));
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled >= totalBytes) {
        controller.close();
        return;
      }
      state.pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

// --- Baseline -----------------------------------------------------------------------------------

describe("baseline", () => {
  it("a genuine token gets 200 with credentials (every rejection below differs from it in one respect)", async () => {
    const h = await createHarness();
    await expectIssued(h, await h.request(await h.mint()));
  });
});

// --- Token failures: 401 invalid_token ----------------------------------------------------------

interface TokenCase {
  name: string;
  reason: string;
  token: (h: Harness) => Promise<string>;
  /** Rejected before any outbound request (no JWKS fetch either). */
  noFetch?: boolean;
  options?: HarnessOptions;
}

/** Serves the attacker's key set at EVIL_ORIGIN, so a broker that followed jku/x5u would find a key there. */
async function attackerOrigin(h: Harness) {
  const attacker = await generateSigningKey({ kid: "attacker-key" });
  h.network.route(
    EVIL_ORIGIN,
    () =>
      new Response(JSON.stringify({ keys: [attacker.publicJwk] }), { headers: { "content-type": "application/json" } }),
  );
  return attacker;
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

describe("accepted within tolerance or when configured", () => {
  it("a token expired by 9 s is ACCEPTED (clock tolerance 10 s): 200 with credentials", async () => {
    const h = await createHarness();
    await expectIssued(h, await h.request(await h.mint(times(h, { iat: -300, nbf: -600, exp: -9 }))));
  });

  it("with audiences [sts.amazonaws.com] configured, a token with that aud gets 200", async () => {
    const h = await createHarness({ issuerConfig: { audiences: ["sts.amazonaws.com"] } });
    await expectIssued(h, await h.request(await h.mint({ aud: "sts.amazonaws.com" })));
  });

  it("with audiences [sts.amazonaws.com] configured, the default audience is then refused", async () => {
    const h = await createHarness({ issuerConfig: { audiences: ["sts.amazonaws.com"] } });
    const token = await h.mint({ aud: AUDIENCE });
    await expectRejected(h, await h.request(token), {
      status: 401,
      code: "invalid_token",
      reason: "audience_mismatch",
      token,
    });
  });

  // Control for the PS256/ES256 rows: the same tokens are otherwise valid, so only the allowlist rejected them.
  it.each(["PS256", "ES256"])(
    "a %s token from a served key gets 200 once the issuer's algorithms allow it",
    async (alg) => {
      const h = await createHarness({ issuerConfig: { algorithms: ["RS256", alg] } });
      await expectIssued(h, await h.request(await h.mint({}, { kid: await h.issuer.addKey({ alg }) })));
    },
  );
});

// --- Request errors -----------------------------------------------------------------------------

describe("413 payload_too_large", () => {
  const oversized = (token: string) => JSON.stringify({ token, padding: "x".repeat(MAX_REQUEST_BODY_BYTES) });

  it("body over 16 KiB with a truthful Content-Length", async () => {
    const h = await createHarness();
    const token = await h.mint();
    const body = oversized(token);
    const request = post({
      headers: { "content-type": "application/json", "content-length": String(utf8.encode(body).byteLength) },
      body,
    });
    expect(Number(request.headers.get("content-length"))).toBeGreaterThan(MAX_REQUEST_BODY_BYTES);
    await expectRejected(h, await h.fetch(request), {
      status: 413,
      code: "payload_too_large",
      reason: "body_too_large",
      token,
    });
    expect(h.network.calls).toEqual([]);
  });

  it("body over 16 KiB streamed under a lying small Content-Length: counted on the stream, reading stops at the cap", async () => {
    const h = await createHarness();
    const token = await h.mint();
    const { stream, state } = countingStream(1024 * 1024, 4 * 1024);
    const request = post({
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": "10" },
      body: stream,
    });
    expect(request.headers.get("content-length")).toBe("10");
    await expectRejected(h, await h.fetch(request), {
      status: 413,
      code: "payload_too_large",
      reason: "body_too_large",
      token,
    });
    expect(state.pulled).toBeLessThan(64 * 1024); // never drained the whole megabyte
    expect(state.cancelled).toBe(true);
    expect(h.network.calls).toEqual([]);
  });

  it("body over 16 KiB streamed with no Content-Length", async () => {
    const h = await createHarness();
    const token = await h.mint();
    const { stream, state } = countingStream(1024 * 1024, 4 * 1024);
    const request = post({
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: stream,
    });
    expect(request.headers.get("content-length")).toBeNull();
    await expectRejected(h, await h.fetch(request), {
      status: 413,
      code: "payload_too_large",
      reason: "body_too_large",
      token,
    });
    expect(state.pulled).toBeLessThan(64 * 1024);
    expect(state.cancelled).toBe(true);
    expect(h.network.calls).toEqual([]);
  });

  it("a body of exactly 16 KiB is read (not 413)", async () => {
    const h = await createHarness();
    const token = await h.mint();
    const prefix = JSON.stringify({ token }).slice(0, -1);
    // Pad with JSON whitespace up to exactly the cap: valid JSON, so the request goes all the way through.
    const body = `${prefix}${" ".repeat(MAX_REQUEST_BODY_BYTES - prefix.length - 1)}}`;
    expect(utf8.encode(body).byteLength).toBe(MAX_REQUEST_BODY_BYTES);
    await expectIssued(h, await h.fetch(post({ headers: { "content-type": "application/json" }, body })));
  });
});

describe("415 unsupported_media_type", () => {
  it.each([
    ["text/plain", "text/plain", (token: string) => JSON.stringify({ token })],
    ["form", "application/x-www-form-urlencoded", (token: string) => `token=${token}`],
  ])("content type %s", async (_name, contentType, makeBody) => {
    const h = await createHarness();
    const token = await h.mint();
    const response = await h.fetch(post({ headers: { "content-type": contentType }, body: makeBody(token) }));
    await expectRejected(h, response, {
      status: 415,
      code: "unsupported_media_type",
      reason: "content_type_not_json",
      token,
    });
    expect(h.network.calls).toEqual([]);
    expect(h.events()[0]?.token_sha256).toBeUndefined();
  });
});

describe("400 invalid_request", () => {
  interface RequestCase {
    name: string;
    reason: string;
    request: (token: string, h: Harness) => Promise<Request> | Request;
  }
  const json = { "content-type": "application/json" };
  const requestCases: RequestCase[] = [
    {
      name: "duplicate token key",
      reason: "json_duplicate_key",
      request: async (token, h) =>
        post({
          headers: json,
          body: `{"token":${JSON.stringify(token)},"token":${JSON.stringify(await h.mint({ repository: "acme/other" }))}}`,
        }),
    },
    { name: "no token at all (no header, no body)", reason: "token_missing", request: () => post({}) },
    {
      name: "no token (empty JSON object)",
      reason: "token_missing",
      request: () => post({ headers: json, body: "{}" }),
    },
    {
      name: "token in both header and body",
      reason: "token_in_header_and_body",
      request: (token) =>
        post({ headers: { ...json, authorization: `Bearer ${token}` }, body: JSON.stringify({ token }) }),
    },
    {
      name: "unknown body field",
      reason: "body_invalid",
      request: (token) => post({ headers: json, body: JSON.stringify({ token, scope: "admin" }) }),
    },
    {
      name: "duration_seconds 899",
      reason: "body_invalid",
      request: (token) => post({ headers: json, body: JSON.stringify({ token, duration_seconds: 899 }) }),
    },
  ];

  it.each(requestCases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const h = await createHarness();
    const token = await h.mint();
    const response = await h.fetch(await c.request(token, h));
    await expectRejected(h, response, { status: 400, code: "invalid_request", reason: c.reason, token });
    expect(h.network.calls).toEqual([]);
    // Rejected before the token was even looked at.
    expect(h.events()[0]?.token_sha256).toBeUndefined();
  });
});

// --- Policy denials: 403 forbidden --------------------------------------------------------------

describe("403 forbidden (policy denials, identical bodies)", () => {
  interface DenialCase {
    name: string;
    reason: string;
    claims: Record<string, unknown>;
    body?: Record<string, unknown>;
    ruleId?: string;
  }
  const denials: DenialCase[] = [
    { name: "repository acme/app-evil", reason: "no_matching_rule", claims: { repository: "acme/app-evil" } },
    { name: "branch refs/heads/dev", reason: "no_matching_rule", claims: { ref: "refs/heads/dev" } },
    { name: "event pull_request_target", reason: "no_matching_rule", claims: { event_name: "pull_request_target" } },
    {
      name: "role deploy requested by a pull_request token",
      reason: "role_not_granted",
      claims: { event_name: "pull_request", ref: "refs/pull/7/merge" },
      body: { role: "deploy" },
    },
    {
      name: "duration_seconds 3601 for deploy (max 3600)",
      reason: "duration_exceeds_role",
      claims: {},
      body: { role: "deploy", duration_seconds: 3601 },
      ruleId: "acme-app-main-deploy",
    },
  ];

  it.each(denials.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const h = await createHarness();
    const token = await h.mint(c.claims);
    await expectRejected(h, await h.request(token, c.body), {
      status: 403,
      code: "forbidden",
      reason: c.reason,
      token,
    });
    const event = h.events()[0] as Record<string, unknown>;
    expect(event.outcome).toBe("denied");
    if (c.ruleId !== undefined) expect(event.rule_id).toBe(c.ruleId);
    expect(event.role_alias).toBeUndefined();
  });

  it("3600 s for deploy is within the role's limit (control for the 3601 row)", async () => {
    const h = await createHarness();
    await expectIssued(h, await h.request(await h.mint(), { role: "deploy", duration_seconds: 3600 }));
  });
});

// --- Logging hygiene ----------------------------------------------------------------------------

describe("logging hygiene: the log holds the token's hash prefix, never the token or the broker's secret", () => {
  const scenarios: Array<[string, (h: Harness) => Promise<{ token: string; response: Response }>]> = [
    [
      "expired token (401)",
      async (h) => {
        const token = await h.mint(times(h, { iat: -300, nbf: -600, exp: -11 }));
        return { token, response: await h.request(token) };
      },
    ],
    [
      "jku header (401)",
      async (h) => {
        await attackerOrigin(h);
        const token = await h.mint({}, { header: { jku: `${EVIL_ORIGIN}/jwks` } });
        return { token, response: await h.request(token) };
      },
    ],
    [
      "audience mismatch (401)",
      async (h) => {
        const token = await h.mint({ aud: "https://github.com/acme" });
        return { token, response: await h.request(token) };
      },
    ],
    [
      "policy denial (403)",
      async (h) => {
        const token = await h.mint({ repository: "acme/app-evil" });
        return { token, response: await h.request(token) };
      },
    ],
    [
      "token in the JSON body, duration_seconds 3601 (403)",
      async (h) => {
        const token = await h.mint();
        return {
          token,
          response: await h.fetch(
            post({
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ token, role: "deploy", duration_seconds: 3601 }),
            }),
          ),
        };
      },
    ],
    [
      "token in an oversized body (413)",
      async (h) => {
        const token = await h.mint();
        return {
          token,
          response: await h.fetch(
            post({
              headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
              body: "x".repeat(MAX_REQUEST_BODY_BYTES + 1),
            }),
          ),
        };
      },
    ],
    [
      "issued credentials (200)",
      async (h) => {
        const token = await h.mint();
        return { token, response: await h.request(token) };
      },
    ],
  ];

  it.each(scenarios)("%s", async (_name, run) => {
    const h = await createHarness();
    const { token, response } = await run(h);
    const logText = JSON.stringify(h.logs);
    expect(h.logs.length).toBeGreaterThan(0);
    expect(logText).not.toContain(token);
    for (const segment of token.split(".")) if (segment.length >= 16) expect(logText).not.toContain(segment);
    const secret = String(h.env.AWS_SECRET_ACCESS_KEY);
    expect(secret.length).toBeGreaterThanOrEqual(16);
    expect(logText).not.toContain(secret);
    const event = h.events()[0] as Record<string, unknown>;
    if (response.status === 413) {
      expect(event.token_sha256).toBeUndefined();
    } else {
      expect(event.token_sha256).toMatch(new RegExp(`^[0-9a-f]{${TOKEN_HASH_PREFIX_HEX_CHARS}}$`));
      expect(event.token_sha256).toBe(await sha256Prefix(token));
    }
    if (response.status === 200) {
      // What we hand out is never logged either.
      const issued = (await response.json()) as Record<string, string>;
      for (const field of ["SecretAccessKey", "SessionToken"]) expect(logText).not.toContain(String(issued[field]));
    }
  });
});
