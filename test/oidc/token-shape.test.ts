import { describe, expect, it } from "vitest";
import { MAX_TOKEN_BYTES } from "../../src/oidc/constants.ts";
import { checkTokenShape, decodeSegmentJson, peekIssuer } from "../../src/oidc/token-shape.ts";
import { encodeSegment } from "../support/fake-issuer.ts";
import { invalidToken, rejection } from "./helpers.ts";

const header = encodeSegment({ alg: "RS256", typ: "JWT", kid: "k1" });
const payload = encodeSegment({
  iss: "https://token.actions.githubusercontent.com",
  sub: "repo:acme/app:ref:refs/heads/main",
});
const signature = "c2lnbmF0dXJlLWJ5dGVz";
const good = `${header}.${payload}.${signature}`;

const shape = (token: string) => rejection(Promise.resolve().then(() => checkTokenShape(token)));

describe("checkTokenShape", () => {
  it("accepts three base64url segments", () => {
    expect(() => checkTokenShape(good)).not.toThrow();
  });

  it.each([
    ["two segments", `${header}.${payload}`],
    ["four segments", `${good}.${signature}`],
    ["five segments (JWE)", `${good}.${signature}.${signature}`],
    ["empty signature (alg none style)", `${header}.${payload}.`],
    ["empty header", `.${payload}.${signature}`],
    ["padding =", `${header}.${payload}.${signature}==`],
    ["standard base64 +/", `${header}.${payload}.ab+/cd`],
    ["whitespace", `${header}.${payload}.${signature} `],
    ["Bearer prefix", `Bearer ${good}`],
    ["non-ASCII", `${header}.${payload}.sïg`],
    ["impossible base64url length (4n+1)", `${header}.${payload}.abcde`],
    ["empty string", ""],
  ])("rejects %s as token_malformed", async (_name, token) => {
    expect(await shape(token)).toEqual(invalidToken("token_malformed"));
  });

  it("rejects a token over MAX_TOKEN_BYTES as token_too_large, counting UTF-8 bytes", async () => {
    const filler = "A".repeat(MAX_TOKEN_BYTES);
    expect(await shape(`${header}.${filler}.${signature}`)).toEqual(invalidToken("token_too_large"));
    // Under the cap in UTF-16 units but over it in UTF-8 bytes.
    const wide = "é".repeat(MAX_TOKEN_BYTES / 2 + 1);
    expect(wide.length).toBeLessThan(MAX_TOKEN_BYTES);
    expect(await shape(wide)).toEqual(invalidToken("token_too_large"));
  });

  it("accepts a token of exactly MAX_TOKEN_BYTES and rejects one byte more", async () => {
    const exact = `AAAA.AAAA.${"A".repeat(MAX_TOKEN_BYTES - 10)}`;
    expect(exact.length).toBe(MAX_TOKEN_BYTES);
    expect(() => checkTokenShape(exact)).not.toThrow();
    expect(await shape(`${exact}AA`)).toEqual(invalidToken("token_too_large"));
  });
});

describe("decodeSegmentJson", () => {
  it.each([
    ["not JSON", "bm90IGpzb24"],
    ["a JSON array", encodeSegment(["iss"])],
    ["JSON null", encodeSegment(null)],
    ["a JSON string", encodeSegment("x")],
    ["invalid UTF-8", "_w"],
  ])("rejects %s", async (_name, segment) => {
    expect(await rejection(Promise.resolve().then(() => decodeSegmentJson(segment)))).toEqual(
      invalidToken("token_malformed"),
    );
  });
});

describe("peekIssuer", () => {
  it("returns the unverified iss", () => {
    expect(peekIssuer(good)).toBe("https://token.actions.githubusercontent.com");
  });

  it.each([
    ["a malformed token", "a.b"],
    ["a non-string iss", `${header}.${encodeSegment({ iss: ["https://x"] })}.${signature}`],
    ["a missing iss", `${header}.${encodeSegment({ sub: "x" })}.${signature}`],
    ["a non-JSON payload", `${header}.bm90IGpzb24.${signature}`],
  ])("returns undefined for %s", (_name, token) => {
    expect(peekIssuer(token)).toBeUndefined();
  });
});
