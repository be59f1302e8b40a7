import { describe, expect, it } from "vitest";
import { REDACTED, redactingLog, scrub } from "../../src/audit/redact.ts";

const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBwIn0.c2lnbmF0dXJl";

describe("scrub", () => {
  it.each([
    ["a role ARN", "User arn:aws:iam::111122223333:role/deploy is not authorized", true],
    ["an access key id", "key AKIAABCDEFGHIJKLMNOP leaked", true],
    ["a session key id", "ASIAABCDEFGHIJKLMNOP", true],
    ["a JWT inside an error message", `Unexpected token in "${JWT}"`, true],
    ["a repository", "acme/app", false],
    ["a ref", "refs/heads/main", false],
    ["the ARN format in words", "arn:<partition>:iam::<12 digits>:role/<name>", false],
  ])("%s", (_name, value, secret) => {
    expect(scrub(value)).toBe(secret ? REDACTED : value);
  });
});

describe("redactingLog", () => {
  it("checks every string of a line, nested ones too, and leaves the rest alone", () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = redactingLog((line) => lines.push(line));
    log({ message: "unhandled_exception", detail: `bad input ${JWT}`, status: 500, nested: { live: { rule: "r1", arn: "arn:aws:iam::111122223333:role/x" } }, list: ["ok", "AKIAABCDEFGHIJKLMNOP"] });
    expect(lines).toEqual([{ message: "unhandled_exception", detail: REDACTED, status: 500, nested: { live: { rule: "r1", arn: REDACTED } }, list: ["ok", REDACTED] }]);
  });
});
