import { describe, expect, it } from "vitest";
import { MAX_KID_CHARS } from "../../src/oidc/constants.ts";
import { isPlausibleKid } from "../../src/oidc/kid-shape.ts";

describe("isPlausibleKid", () => {
  it.each([
    ["GitHub Actions (UUID)", "38826b17-6a30-5f9b-b169-8beb8202f723"],
    ["GitHub Actions (SHA-1 hex thumbprint)", "1F2AB83404C08EC9EA0BB99DAED02186B091DBF4"],
    ["GitLab (RFC 7638 base64url)", "_2nr4525S5ArP0KNXCLrH6p0n3auC_DYqPIuO37h3NA"],
    ["Google (SHA-1 hex)", "a3b762f871cdb3bae0044c649622fc1396eda3e3"],
    ["Entra ID (base64url x5t)", "L1KfKFI_jnXbwWc22xZxw1sUHH0"],
    ["base64 with + / = (Cognito, WSO2)", "ZR+iPrkP5j2j9sFIYfjr6RBNAxA="],
    ["base64 SHA-256, padded", "Aa7d2ujzT+1Kz2gPf9y6/NxdISRb3LdcqoEzGLK0tP8="],
    ["base64 SHA-512 (88 chars)", `${"Ab+/".repeat(21)}AB==`],
    ["a date", "2011-04-29"],
    ["name and version", "signing-key:3"],
    ["dotted", "k1.v2"],
    ["one character", "1"],
    ["the longest allowed", "a".repeat(MAX_KID_CHARS)],
  ])("accepts %s", (_name, kid) => {
    expect(isPlausibleKid(kid)).toBe(true);
  });

  it.each([
    ["a path", "../../etc/passwd"],
    ["an absolute path", "/etc/passwd"],
    ["5,000 characters", "a".repeat(5_000)],
    ["one over the limit", "a".repeat(MAX_KID_CHARS + 1)],
    ["empty", ""],
    ["a space", "key 1"],
    ["percent-encoding", "%2e%2e%2f"],
    ["a URL", "https://attacker.test/keys/1"],
    ["padding in the middle", "ab=cd"],
    ["three padding characters", "abcd==="],
    ["base64 without its padding", "ZR+iPrkP5j2j9sFIYfjr6RBNAxA"],
    ["base64 and base64url mixed", "ab+cd_ef"],
    ["a NUL", "ab\u0000cd"],
    ["non-ASCII", "kéy"],
    ["markup", "<script>"],
    ["a quote", "a'b"],
  ])("refuses %s", (_name, kid) => {
    expect(isPlausibleKid(kid)).toBe(false);
  });
});
