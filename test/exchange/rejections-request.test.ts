// POST /v1/credentials's malformed requests through the whole broker inside workerd: 413, 415 and 400, each with its
// internal reason in the log line, the body read no further than its cap, and STS never called.
import { describe, expect, it } from "vitest";
import { MAX_REQUEST_BODY_BYTES } from "../../src/http/constants.ts";
import { createHarness, type Harness } from "../support/broker-harness.ts";
import { countingStream, expectIssued, expectRejected, post, utf8 } from "./helpers.ts";

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
