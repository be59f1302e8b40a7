import { describe, expect, it } from "vitest";
import {
  credentialProcessJson,
  credentialVariables,
  parseCredentials,
  shellExports,
} from "../../src/client/credentials.ts";
import { ClientError } from "../../src/client/errors.ts";
import { credentialsBody, expectedCredentials, SECRET, SESSION_TOKEN, START_MS } from "./helpers.ts";

function reason(body: string): string {
  try {
    parseCredentials(body, START_MS, "req-1");
  } catch (error) {
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe("not_credentials");
    expect((error as ClientError).exitCode).toBe(10);
    expect((error as ClientError).requestId).toBe("req-1");
    return (error as ClientError).message;
  }
  throw new Error("accepted");
}

describe("parseCredentials", () => {
  it("accepts the broker's credential_process JSON", () => {
    expect(parseCredentials(JSON.stringify(credentialsBody()), START_MS)).toEqual(expectedCredentials());
  });

  it("accepts fractional seconds in Expiration", () => {
    const expiration = new Date(START_MS + 900_000).toISOString();
    expect(parseCredentials(JSON.stringify(credentialsBody({ Expiration: expiration })), START_MS).expiresAtMs).toBe(
      START_MS + 900_000,
    );
  });

  const rejected: Array<[string, string]> = [
    ["not JSON", "<html>"],
    ["an array", "[]"],
    ["null", "null"],
    ["a duplicate member", JSON.stringify(credentialsBody()).replace("{", `{"AccessKeyId":"ASIAOTHER000000000",`)],
    ["an extra member", JSON.stringify(credentialsBody({ Extra: 1 }))],
    ["a missing member", JSON.stringify({ ...credentialsBody(), SessionToken: undefined })],
    ["Version 2", JSON.stringify(credentialsBody({ Version: 2 }))],
    ["Version as a string", JSON.stringify(credentialsBody({ Version: "1" }))],
    ["a lower-case access key id", JSON.stringify(credentialsBody({ AccessKeyId: "asiaexample0000001" }))],
    ["a short access key id", JSON.stringify(credentialsBody({ AccessKeyId: "ASIA1" }))],
    ["a secret with a newline", JSON.stringify(credentialsBody({ SecretAccessKey: `${SECRET}\nAWS_X=1` }))],
    ["a secret with a quote", JSON.stringify(credentialsBody({ SecretAccessKey: `${SECRET}'` }))],
    ["an empty session token", JSON.stringify(credentialsBody({ SessionToken: "" }))],
    ["a session token with a space", JSON.stringify(credentialsBody({ SessionToken: `${SESSION_TOKEN} x` }))],
    ["a huge session token", JSON.stringify(credentialsBody({ SessionToken: "A".repeat(9000) }))],
    [
      "an Expiration that is not ISO 8601 UTC",
      JSON.stringify(credentialsBody({ Expiration: "Wed, 25 Nov 2026 12:15:00 GMT" })),
    ],
    ["an Expiration with an offset", JSON.stringify(credentialsBody({ Expiration: "2026-11-25T12:15:00+01:00" }))],
    ["an impossible date", JSON.stringify(credentialsBody({ Expiration: "2026-13-45T12:15:00Z" }))],
    ["expired credentials", JSON.stringify(credentialsBody({ Expiration: "2026-11-25T12:00:00Z" }))],
    ["an Expiration beyond 12 hours", JSON.stringify(credentialsBody({ Expiration: "2026-11-26T12:00:00Z" }))],
    ["an error body with status 200", JSON.stringify({ error: "forbidden", message: "x", request_id: "y" })],
  ];
  for (const [name, body] of rejected)
    it(`rejects ${name}`, () => expect(reason(body)).toMatch(/not credential_process JSON/));

  it("never quotes a value in its message", () => {
    const message = reason(JSON.stringify(credentialsBody({ SecretAccessKey: `${SECRET}\n` })));
    expect(message).not.toContain(SECRET);
  });
});

describe("outputs", () => {
  const credentials = expectedCredentials();

  it("credential_process JSON is Version 1 with the five members, in AWS's order", () => {
    expect(credentialProcessJson(credentials)).toBe(
      `{"Version":1,"AccessKeyId":"ASIAEXAMPLE0000001","SecretAccessKey":"${SECRET}","SessionToken":"${SESSION_TOKEN}","Expiration":"2026-11-25T12:15:00Z"}`,
    );
  });

  it("shell exports quote each value; region adds AWS_REGION and AWS_DEFAULT_REGION", () => {
    expect(shellExports(credentialVariables(credentials, "eu-west-1"))).toBe(
      "export AWS_ACCESS_KEY_ID='ASIAEXAMPLE0000001'\n" +
        `export AWS_SECRET_ACCESS_KEY='${SECRET}'\n` +
        `export AWS_SESSION_TOKEN='${SESSION_TOKEN}'\n` +
        "export AWS_REGION='eu-west-1'\n" +
        "export AWS_DEFAULT_REGION='eu-west-1'\n",
    );
    expect(credentialVariables(credentials, undefined).map(([name]) => name)).toEqual([
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
    ]);
    expect(shellExports([["X", "it's"]])).toBe(`export X='it'\\''s'\n`);
  });
});
