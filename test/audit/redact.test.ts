import { describe, expect, it } from "vitest";
import { REDACTED, redactingLog, scrub } from "../../src/audit/redact.ts";

const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBwIn0.c2lnbmF0dXJl";
/** A GitHub App installation token, classic, and stateless (`ghs_` + a JWT, about 520 characters, two dots). */
const GHS = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";
const GHS_STATELESS = `ghs_eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${"eyJpbnN0YWxsYXRpb25faWQiOjkwMDAwMDAsInJlcG9zaXRvcnlfaWRzIjpbODc0NTYzMjEwXX0".repeat(5)}.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk`;

describe("scrub: masks the secret-shaped substring, keeps the rest", () => {
  it.each([
    [
      "a role ARN",
      "User arn:aws:iam::111122223333:role/deploy is not authorized",
      `User ${REDACTED} is not authorized`,
    ],
    ["an access key id", "key AKIAABCDEFGHIJKLMNOP leaked", `key ${REDACTED} leaked`],
    ["a session key id", "ASIAABCDEFGHIJKLMNOP", REDACTED],
    ["a JWT inside an error message", `Unexpected token in "${JWT}"`, `Unexpected token in "${REDACTED}"`],
    ["two secrets in one value", `AKIAABCDEFGHIJKLMNOP and ${JWT}`, `${REDACTED} and ${REDACTED}`],
    ["a branch named like a key id", "refs/heads/AKIAABCDEFGHIJKLMNOP-fix", `refs/heads/${REDACTED}-fix`],
    ["a repository named like a key id keeps its owner", "evil/AKIAABCDEFGHIJKLMNOP", `evil/${REDACTED}`],
    ["a GitHub installation token", `Authorization: Bearer ${GHS}`, `Authorization: Bearer ${REDACTED}`],
    ["a stateless installation token, prefix and all", `token=${GHS_STATELESS};`, `token=${REDACTED};`],
    ["a personal access token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop", REDACTED],
    ["a repository", "acme/app", "acme/app"],
    ["a branch starting like a token prefix", "refs/heads/ghs_fix", "refs/heads/ghs_fix"],
    ["a ref", "refs/heads/main", "refs/heads/main"],
    [
      "the ARN format in words",
      "arn:<partition>:iam::<12 digits>:role/<name>",
      "arn:<partition>:iam::<12 digits>:role/<name>",
    ],
  ])("%s", (_name, value, expected) => {
    expect(scrub(value)).toBe(expected);
  });

  it("never leaves the account id of an ARN behind", () => {
    expect(scrub("arn:aws-us-gov:iam::111122223333:role/path/deploy")).not.toContain("111122223333");
  });
});

describe("redactingLog", () => {
  it("checks every string of a line, nested ones too, and leaves the rest alone", () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = redactingLog((line) => lines.push(line));
    log({
      message: "unhandled_exception",
      detail: `bad input ${JWT}`,
      status: 500,
      nested: { live: { rule: "r1", arn: "arn:aws:iam::111122223333:role/x" } },
      list: ["ok", "AKIAABCDEFGHIJKLMNOP"],
    });
    expect(lines).toEqual([
      {
        message: "unhandled_exception",
        detail: `bad input ${REDACTED}`,
        status: 500,
        nested: { live: { rule: "r1", arn: REDACTED } },
        list: ["ok", REDACTED],
      },
    ]);
  });
});
