// Private keys from PEM (PKCS#1 or PKCS#8, generated here) as the PKCS#8 DER WebCrypto imports.
import { describe, expect, it } from "vitest";
import { derLength, pemToPkcs8, wrapPkcs1 } from "../../src/crypto/pem.ts";
import { generateAppKey, unwrapPkcs8 } from "../../sandbox/fakes/github-app-key.ts";

describe("pemToPkcs8", () => {
  it("DER lengths: short form below 128, long form above", () => {
    expect(derLength(0x7f)).toEqual([0x7f]);
    expect(derLength(0x80)).toEqual([0x81, 0x80]);
    expect(derLength(1190)).toEqual([0x82, 0x04, 0xa6]);
    expect(derLength(70_000)).toEqual([0x83, 0x01, 0x11, 0x70]);
  });

  it("wraps PKCS#1 into exactly the PKCS#8 WebCrypto exports, and accepts both PEM forms", async () => {
    const key = await generateAppKey();
    const fromPkcs8 = pemToPkcs8(key.pkcs8Pem);
    expect(wrapPkcs1(unwrapPkcs8(fromPkcs8))).toEqual(fromPkcs8);
    expect(pemToPkcs8(key.pkcs1Pem)).toEqual(fromPkcs8);
    // Escaped newlines (as in .dev.vars or a one-line secret) are tolerated.
    expect(pemToPkcs8(key.pkcs1Pem.replaceAll("\n", "\\n"))).toEqual(fromPkcs8);
  });

  it.each([
    ["empty", ""],
    [
      "a public key",
      "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----",
    ],
    ["mismatched labels", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"],
    ["not base64", "-----BEGIN RSA PRIVATE KEY-----\n!!!!\n-----END RSA PRIVATE KEY-----"],
    ["not DER", `-----BEGIN PRIVATE KEY-----\n${btoa("x".repeat(100))}\n-----END PRIVATE KEY-----`],
  ])("refuses %s", (_label, pem) => {
    expect(() => pemToPkcs8(pem)).toThrow();
  });
});
