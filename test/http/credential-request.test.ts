import { describe, expect, it } from "vitest";
import { BrokerError } from "../../src/errors.ts";
import { parseCredentialRequest, type RawCredentialRequest } from "../../src/http/credential-request.ts";
import { hasDuplicateKey } from "../../src/http/strict-json.ts";

const TOKEN = "aaa.bbb.ccc";
const encode = (text: string) => new TextEncoder().encode(text);

function raw(overrides: Partial<RawCredentialRequest> & { json?: string }): RawCredentialRequest {
  return {
    authorization: overrides.authorization ?? null,
    contentType:
      overrides.contentType === undefined
        ? overrides.json === undefined
          ? null
          : "application/json"
        : overrides.contentType,
    body: overrides.body ?? encode(overrides.json ?? ""),
  };
}

function failure(input: RawCredentialRequest): { code: string; reason: string } {
  try {
    parseCredentialRequest(input);
  } catch (error) {
    if (error instanceof BrokerError) return { code: error.code, reason: error.reason };
    throw error;
  }
  throw new Error("expected a BrokerError");
}

describe("parseCredentialRequest", () => {
  it("takes the token from a Bearer header with no body", () => {
    expect(parseCredentialRequest(raw({ authorization: `Bearer ${TOKEN}` }))).toEqual({
      token: TOKEN,
      role: undefined,
      durationSeconds: undefined,
    });
    expect(parseCredentialRequest(raw({ authorization: `bearer ${TOKEN}` })).token).toBe(TOKEN);
  });

  it("takes token, role and duration from a JSON body", () => {
    const parsed = parseCredentialRequest(
      raw({ json: JSON.stringify({ token: TOKEN, role: "deploy", duration_seconds: 1800 }) }),
    );
    expect(parsed).toEqual({ token: TOKEN, role: "deploy", durationSeconds: 1800 });
  });

  it("accepts a header token with role options in the body, and charset=utf-8", () => {
    const parsed = parseCredentialRequest(
      raw({
        authorization: `Bearer ${TOKEN}`,
        contentType: "application/json; charset=UTF-8",
        json: '{"role":"readonly"}',
      }),
    );
    expect(parsed).toEqual({ token: TOKEN, role: "readonly", durationSeconds: undefined });
  });

  const table: Array<[string, RawCredentialRequest, string, string]> = [
    ["no token anywhere", raw({}), "invalid_request", "token_missing"],
    ["empty JSON object", raw({ json: "{}" }), "invalid_request", "token_missing"],
    ["Basic auth scheme", raw({ authorization: "Basic dXNlcjpwYXNz" }), "invalid_request", "authorization_malformed"],
    [
      "Bearer with two tokens",
      raw({ authorization: `Bearer ${TOKEN} ${TOKEN}` }),
      "invalid_request",
      "authorization_malformed",
    ],
    [
      "text/plain body",
      raw({ contentType: "text/plain", json: `{"token":"${TOKEN}"}` }),
      "unsupported_media_type",
      "content_type_not_json",
    ],
    [
      "form body",
      raw({ contentType: "application/x-www-form-urlencoded", json: `token=${TOKEN}` }),
      "unsupported_media_type",
      "content_type_not_json",
    ],
    [
      "json with latin1 charset",
      raw({ contentType: "application/json; charset=latin1", json: "{}" }),
      "unsupported_media_type",
      "content_type_not_json",
    ],
    [
      "body without content type",
      raw({ contentType: null, body: encode(`{"token":"${TOKEN}"}`) }),
      "unsupported_media_type",
      "content_type_not_json",
    ],
    ["malformed JSON", raw({ json: '{"token":' }), "invalid_request", "json_malformed"],
    [
      "duplicate token key",
      raw({ json: `{"token":"${TOKEN}","token":"x.y.z"}` }),
      "invalid_request",
      "json_duplicate_key",
    ],
    [
      "duplicate key via escape",
      raw({ json: `{"token":"${TOKEN}","\\u0074oken":"x.y.z"}` }),
      "invalid_request",
      "json_duplicate_key",
    ],
    ["JSON array", raw({ json: `["${TOKEN}"]` }), "invalid_request", "body_invalid"],
    ["token as number", raw({ json: '{"token":5}' }), "invalid_request", "body_invalid"],
    ["unknown field", raw({ json: `{"token":"${TOKEN}","duration":900}` }), "invalid_request", "body_invalid"],
    [
      "duration below 900",
      raw({ json: `{"token":"${TOKEN}","duration_seconds":899}` }),
      "invalid_request",
      "body_invalid",
    ],
    [
      "duration above 43200",
      raw({ json: `{"token":"${TOKEN}","duration_seconds":43201}` }),
      "invalid_request",
      "body_invalid",
    ],
    [
      "duration not an integer",
      raw({ json: `{"token":"${TOKEN}","duration_seconds":900.5}` }),
      "invalid_request",
      "body_invalid",
    ],
    [
      "duration as string",
      raw({ json: `{"token":"${TOKEN}","duration_seconds":"900"}` }),
      "invalid_request",
      "body_invalid",
    ],
    [
      "role with bad characters",
      raw({ json: `{"token":"${TOKEN}","role":"Deploy!"}` }),
      "invalid_request",
      "body_invalid",
    ],
    [
      "token in header and body",
      raw({ authorization: `Bearer ${TOKEN}`, json: `{"token":"${TOKEN}"}` }),
      "invalid_request",
      "token_in_header_and_body",
    ],
    [
      "invalid UTF-8",
      raw({ contentType: "application/json", body: new Uint8Array([0x7b, 0xff, 0x7d]) }),
      "invalid_request",
      "body_not_utf8",
    ],
  ];
  it.each(table)("rejects %s", (_name, input, code, reason) => {
    expect(failure(input)).toEqual({ code, reason });
  });
});

describe("hasDuplicateKey", () => {
  const table: Array<[string, boolean]> = [
    ['{"a":1,"b":2}', false],
    ['{"a":1,"a":2}', true],
    ['{"a":{"a":1},"b":{"a":2}}', false],
    ['{"a":{"x":1,"x":2}}', true],
    ['[{"a":1},{"a":1}]', false],
    ['{"a":"\\"a\\"","b":["a","a"]}', false],
    ['{"__proto__":1,"__proto__":2}', true],
    ['{"a\\\\":1,"a\\\\":2}', true],
  ];
  it.each(table)("%s -> %s", (text, expected) => {
    expect(hasDuplicateKey(text)).toBe(expected);
  });
});
