// What the rejection tables of POST /v1/credentials share: hand-built tokens' claims, and the assertions that a
// rejected exchange is rejected end to end (status, leak-free body, headers, one audit event, no STS call) or issued.
import { expect } from "vitest";
import { TOKEN_HASH_PREFIX_HEX_CHARS } from "../../src/audit/constants.ts";
import { AUDIENCE, expectAudit, expectNoLeak, type Harness } from "../support/broker-harness.ts";
import { generateSigningKey, githubClaims } from "../../sandbox/fakes/fake-issuer.ts";

export const URL_CREDENTIALS = "https://broker.example/v1/credentials";
export const EVIL_ORIGIN = "https://evil.example";
export const utf8 = new TextEncoder();

export const nowSeconds = (h: Harness) => Math.floor(h.now() / 1000);

/** A GitHub-shaped payload the harness issuer would sign, for hand-built tokens. */
export function payloadFor(h: Harness, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = nowSeconds(h);
  return { ...githubClaims(), iss: h.issuer.issuer, aud: AUDIENCE, iat, nbf: iat - 300, exp: iat + 300, ...overrides };
}

/** iat/nbf/exp relative to the harness clock, in seconds. */
export function times(h: Harness, offsets: { iat: number; nbf: number; exp: number }): Record<string, number> {
  const t = nowSeconds(h);
  return { iat: t + offsets.iat, nbf: t + offsets.nbf, exp: t + offsets.exp };
}

export async function sha256Prefix(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", utf8.encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, TOKEN_HASH_PREFIX_HEX_CHARS);
}

/**
 * The first error body seen for each public code, request id blanked. Every later rejection with the same code
 * must be byte-identical: the wire must not tell one token failure (or one denial) from another.
 */
export const referenceBodies = new Map<string, string>();

export function normalisedBody(text: string, requestId: string): string {
  expect(text.split(requestId)).toHaveLength(2); // the request id appears exactly once
  return text.replace(requestId, "<request_id>");
}

export interface Expected {
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
export async function expectRejected(
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
export async function expectIssued(h: Harness, response: Response): Promise<Record<string, unknown>> {
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

export function post(init: { headers?: Record<string, string>; body?: BodyInit | null }): Request {
  return new Request(URL_CREDENTIALS, { method: "POST", headers: init.headers ?? {}, body: init.body ?? null });
}

/** A streamed body of `totalBytes` in `chunkBytes` chunks; records how much was pulled and whether it was cancelled. */
export function countingStream(totalBytes: number, chunkBytes: number) {
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

/** Serves the attacker's key set at EVIL_ORIGIN, so a broker that followed jku/x5u would find a key there. */
export async function attackerOrigin(h: Harness) {
  const attacker = await generateSigningKey({ kid: "attacker-key" });
  h.network.route(
    EVIL_ORIGIN,
    () =>
      new Response(JSON.stringify({ keys: [attacker.publicJwk] }), { headers: { "content-type": "application/json" } }),
  );
  return attacker;
}
