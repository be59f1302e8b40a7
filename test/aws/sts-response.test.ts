import { describe, expect, it } from "vitest";
import { parseAssumeRoleResponse, parseStsError } from "../../src/aws/sts-response.ts";
import { MAX_STS_RESPONSE_BYTES } from "../../src/aws/constants.ts";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../../src/http/constants.ts";
import { BrokerError } from "../../src/errors.ts";

const NS = "https://sts.amazonaws.com/doc/2011-06-15/";
const KEY = "ASIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
const TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKENAQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW";
const EXPIRATION = "2026-11-25T13:15:00Z";

/** A success body shaped like the AssumeRole example in the STS API reference (indented, with declaration). */
function success(parts: { credentials?: string; result?: string; root?: string; prolog?: string } = {}): string {
  const credentials =
    parts.credentials ??
    `<AccessKeyId>${KEY}</AccessKeyId>
      <SecretAccessKey>${SECRET}</SecretAccessKey>
      <SessionToken>${TOKEN}</SessionToken>
      <Expiration>${EXPIRATION}</Expiration>`;
  const result =
    parts.result ??
    `<SourceIdentity>gh-octocat</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/deploy/gh-1-1</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:gh-1-1</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      ${credentials}
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>`;
  return `${parts.prolog ?? '<?xml version="1.0" encoding="UTF-8"?>\n'}${parts.root ?? `<AssumeRoleResponse xmlns="${NS}">`}
  <AssumeRoleResult>
    ${result}
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>`;
}

function credentialsWith(
  overrides: Partial<Record<"AccessKeyId" | "SecretAccessKey" | "SessionToken" | "Expiration", string>>,
): string {
  const values = {
    AccessKeyId: KEY,
    SecretAccessKey: SECRET,
    SessionToken: TOKEN,
    Expiration: EXPIRATION,
    ...overrides,
  };
  return Object.entries(values)
    .map(([name, value]) => `<${name}>${value}</${name}>`)
    .join("");
}

function rejection(xml: string): BrokerError {
  try {
    parseAssumeRoleResponse(xml);
  } catch (error) {
    expect(error).toBeInstanceOf(BrokerError);
    return error as BrokerError;
  }
  throw new Error("expected sts_bad_response");
}

describe("parseAssumeRoleResponse: accepted bodies", () => {
  it("reads the credentials of an AWS-shaped success", () => {
    expect(parseAssumeRoleResponse(success())).toEqual({
      accessKeyId: KEY,
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
      expiration: EXPIRATION,
    });
  });

  it("reads a compact body without XML declaration, and ignores unknown sibling elements", () => {
    const xml = success({
      prolog: "",
      result: `<NewField a='1'/><Credentials>${credentialsWith({})}<Future>x</Future></Credentials>`,
    }).replace(/>\s+</g, "><");
    expect(parseAssumeRoleResponse(xml).accessKeyId).toBe(KEY);
  });

  it("decodes the predefined and numeric entities", () => {
    const xml = success({
      credentials: credentialsWith({ SecretAccessKey: "abc&amp;def&#43;ghi&#x2F;jkl&lt;&gt;&quot;&apos;" }),
    });
    expect(parseAssumeRoleResponse(xml).secretAccessKey).toBe(`abc&def+ghi/jkl<>"'`);
  });

  it.each(["2026-11-25T13:15:00Z", "2026-11-25T13:15:00.123Z", "2024-02-29T00:00:00Z"])(
    "accepts Expiration %s",
    (expiration) => {
      expect(
        parseAssumeRoleResponse(success({ credentials: credentialsWith({ Expiration: expiration }) })).expiration,
      ).toBe(expiration);
    },
  );
});

describe("parseAssumeRoleResponse: refused bodies", () => {
  const cases: Array<[string, string]> = [
    ["empty body", ""],
    ["whitespace", "  \n "],
    ["HTML error page", "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"],
    ["HTML without doctype", "<html><body>Service Unavailable</body></html>"],
    ["JSON", '{"AccessKeyId":"ASIAIOSFODNN7EXAMPLE"}'],
    [
      "an STS error body",
      `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>`,
    ],
    [
      "another action's response",
      success({ root: `<GetCallerIdentityResponse xmlns="${NS}">` }).replace(
        "</AssumeRoleResponse>",
        "</GetCallerIdentityResponse>",
      ),
    ],
    ["missing namespace", success({ root: "<AssumeRoleResponse>" })],
    ["wrong namespace", success({ root: '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2099-01-01/">' })],
    [
      "namespace prefix",
      success({ root: `<sts:AssumeRoleResponse xmlns:sts="${NS}">` }).replace(
        "</AssumeRoleResponse>",
        "</sts:AssumeRoleResponse>",
      ),
    ],
    [
      "duplicate Credentials",
      success({
        result: `<Credentials>${credentialsWith({})}</Credentials><Credentials>${credentialsWith({ AccessKeyId: "ASIAATTACKER00000000" })}</Credentials>`,
      }),
    ],
    [
      "duplicate AssumeRoleResult",
      success({
        result: `<Credentials>${credentialsWith({})}</Credentials></AssumeRoleResult><AssumeRoleResult><Credentials>${credentialsWith({})}</Credentials>`,
      }),
    ],
    [
      "duplicate AccessKeyId",
      success({ credentials: `${credentialsWith({})}<AccessKeyId>ASIAATTACKER00000000</AccessKeyId>` }),
    ],
    ["missing Credentials", success({ result: "<AssumedRoleUser/>" })],
    [
      "missing AccessKeyId",
      success({ credentials: credentialsWith({}).replace(/<AccessKeyId>.*<\/AccessKeyId>/, "") }),
    ],
    [
      "missing SessionToken",
      success({ credentials: credentialsWith({}).replace(/<SessionToken>.*<\/SessionToken>/, "") }),
    ],
    ["missing Expiration", success({ credentials: credentialsWith({}).replace(/<Expiration>.*<\/Expiration>/, "") })],
    [
      "Credentials nested one level too deep",
      success({ result: `<Wrapper><Credentials>${credentialsWith({})}</Credentials></Wrapper>` }),
    ],
    ["lower-case AccessKeyId", success({ credentials: credentialsWith({ AccessKeyId: "asiaiosfodnn7example" }) })],
    ["short AccessKeyId", success({ credentials: credentialsWith({ AccessKeyId: "ASIA123" }) })],
    ["AccessKeyId with spaces", success({ credentials: credentialsWith({ AccessKeyId: ` ${KEY} ` }) })],
    ["unknown key prefix", success({ credentials: credentialsWith({ AccessKeyId: "AROAIOSFODNN7EXAMPLE" }) })],
    ["empty SecretAccessKey", success({ credentials: credentialsWith({ SecretAccessKey: "" }) })],
    [
      "SecretAccessKey with a space",
      success({ credentials: credentialsWith({ SecretAccessKey: "wJalrXUtnFEMI K7MDENG" }) }),
    ],
    ["SessionToken with a newline", success({ credentials: credentialsWith({ SessionToken: `${TOKEN}&#10;x` }) })],
    ["element inside AccessKeyId", success({ credentials: credentialsWith({ AccessKeyId: `<b>${KEY}</b>` }) })],
    ["Expiration not a date", success({ credentials: credentialsWith({ Expiration: "tomorrow" }) })],
    ["Expiration Feb 30", success({ credentials: credentialsWith({ Expiration: "2026-02-30T00:00:00Z" }) })],
    ["Expiration hour 24", success({ credentials: credentialsWith({ Expiration: "2026-11-25T24:00:00Z" }) })],
    ["Expiration without zone", success({ credentials: credentialsWith({ Expiration: "2026-11-25T13:15:00" }) })],
    ["Expiration with offset", success({ credentials: credentialsWith({ Expiration: "2026-11-25T13:15:00+02:00" }) })],
    ["CDATA section", success({ credentials: credentialsWith({ SecretAccessKey: `<![CDATA[${SECRET}]]>` }) })],
    ["comment", success({ credentials: `<!-- hi -->${credentialsWith({})}` })],
    ["processing instruction", success({ credentials: `<?php echo 1 ?>${credentialsWith({})}` })],
    ["DOCTYPE with an entity", `<!DOCTYPE r [<!ENTITY k "${KEY}">]>${success({ prolog: "" })}`],
    ["unknown entity", success({ credentials: credentialsWith({ SecretAccessKey: "abc&k;defghijklmnop" }) })],
    ["bare ampersand", success({ credentials: credentialsWith({ SecretAccessKey: "abc&defghijklmnopq" }) })],
    ["NUL character reference", success({ credentials: credentialsWith({ SecretAccessKey: "abc&#0;defghijklmnop" }) })],
    [
      "surrogate character reference",
      success({ credentials: credentialsWith({ SecretAccessKey: "abc&#xD800;defghijklmnop" }) }),
    ],
    [
      "out-of-range character reference",
      success({ credentials: credentialsWith({ SecretAccessKey: "abc&#x110000;defghijklmnop" }) }),
    ],
    [
      "raw control character",
      success({ credentials: credentialsWith({ SecretAccessKey: "abc\u0001defghijklmnopq" }) }),
    ],
    ["unclosed element", success().replace("</AssumeRoleResponse>", "")],
    ["mismatched end tag", success().replace("</Credentials>", "</Credential>")],
    ["trailing text after root", `${success()}junk`],
    ["a second root", `${success()}${success({ prolog: "" })}`],
    ["mixed content", success({ result: `text<Credentials>${credentialsWith({})}</Credentials>` })],
    ["duplicate attribute", success({ root: `<AssumeRoleResponse xmlns="${NS}" xmlns="${NS}">` })],
    ["unquoted attribute", success({ root: "<AssumeRoleResponse xmlns=https://sts.amazonaws.com/doc/2011-06-15/>" })],
    [
      "very deep nesting",
      success({ result: `${"<a>".repeat(20)}${"</a>".repeat(20)}<Credentials>${credentialsWith({})}</Credentials>` }),
    ],
    [
      "oversized body",
      success({
        result: `<Pad>${"x".repeat(MAX_STS_RESPONSE_BYTES)}</Pad><Credentials>${credentialsWith({})}</Credentials>`,
      }),
    ],
  ];

  it.each(cases)("%s -> upstream_unavailable/sts_bad_response", (_label, xml) => {
    const error = rejection(xml);
    expect(error.code).toBe("upstream_unavailable");
    expect(error.reason).toBe("sts_bad_response");
    expect(error.retryAfterSeconds).toBe(UPSTREAM_RETRY_AFTER_SECONDS);
  });

  it("never copies the body into the error", () => {
    const error = rejection(success({ credentials: credentialsWith({ Expiration: "soon" }) }));
    const everything = `${error.message} ${String(error.cause)} ${JSON.stringify(error)} ${error.stack ?? ""}`;
    for (const secret of [SECRET, TOKEN, KEY, "123456789012"]) expect(everything).not.toContain(secret);
  });
});

describe("parseStsError", () => {
  it("reads Type and Code, and drops the Message with its ARNs", () => {
    const xml = `<ErrorResponse xmlns="${NS}">
  <Error>
    <Type>Sender</Type>
    <Code>AccessDenied</Code>
    <Message>User: arn:aws:iam::123456789012:user/broker is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/deploy</Message>
  </Error>
  <RequestId>4a6e3d8c-example</RequestId>
</ErrorResponse>`;
    const info = parseStsError(xml);
    expect(info).toEqual({ type: "Sender", code: "AccessDenied" });
    expect(JSON.stringify(info)).not.toMatch(/arn:|123456789012/);
  });

  it.each<[string, string, { type: string | undefined; code: string } | undefined]>([
    [
      "throttling",
      `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>`,
      { type: "Sender", code: "Throttling" },
    ],
    [
      "no namespace, no Type",
      "<ErrorResponse><Error><Code>InternalFailure</Code></Error></ErrorResponse>",
      { type: undefined, code: "InternalFailure" },
    ],
    [
      "older Response/Errors shape",
      "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>x</Message></Error></Errors><RequestID>1</RequestID></Response>",
      { type: undefined, code: "RequestLimitExceeded" },
    ],
    [
      "odd Type dropped, Code kept",
      "<ErrorResponse><Error><Type>not a type!</Type><Code>ValidationError</Code></Error></ErrorResponse>",
      { type: undefined, code: "ValidationError" },
    ],
    ["HTML", "<html><body>502</body></html>", undefined],
    ["empty", "", undefined],
    ["success body", success(), undefined],
    ["no Code", "<ErrorResponse><Error><Type>Sender</Type></Error></ErrorResponse>", undefined],
    ["two Codes", "<ErrorResponse><Error><Code>A</Code><Code>B</Code></Error></ErrorResponse>", undefined],
    ["Code with spaces", "<ErrorResponse><Error><Code>Access Denied</Code></Error></ErrorResponse>", undefined],
    [
      "Code holding an ARN-ish value",
      "<ErrorResponse><Error><Code>arn:aws:iam::123456789012:root</Code></Error></ErrorResponse>",
      undefined,
    ],
    ["Code with markup", "<ErrorResponse><Error><Code><b>X</b></Code></Error></ErrorResponse>", undefined],
    ["truncated", "<ErrorResponse><Error><Code>Throttling</Code>", undefined],
  ])("%s", (_label, xml, expected) => {
    expect(parseStsError(xml)).toEqual(expected);
  });
});
