// Tests of the STS emulator: SigV4 verification against two independent signers (aws4fetch and AWS's own
// @smithy/signature-v4), AssumeRole's parameter rules at their boundaries, faults, and issued credentials.
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { AwsClient } from "aws4fetch";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createStsEmulator, isAwsRegionName, type StsEmulator, type StsEmulatorOptions } from "./sts-emulator.ts";

const REGION = "us-east-1";
const ENDPOINT = "https://sts.us-east-1.amazonaws.com/";
const FORM = "application/x-www-form-urlencoded; charset=utf-8";
/** The emulator's clock at the start of every test. */
const T0 = Date.UTC(2026, 10, 25, 20, 52, 0);
const PRINCIPAL = { accessKeyId: "AKIAEMULATORTEST0001", secretAccessKey: "emulator/test+secret/0000000000000000000" };
const ROLE = "arn:aws:iam::123456789012:role/ci/deploy";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

function setup(options: Partial<StsEmulatorOptions> = {}) {
  const clock = { ms: T0 };
  const sts = createStsEmulator({ now: () => clock.ms, principals: [PRINCIPAL], ...options });
  return { sts, clock };
}

function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
}

interface SignOptions {
  creds?: Creds;
  atMs?: number;
  region?: string;
  service?: string;
  headers?: Record<string, string>;
}

/** A POST signed by aws4fetch, the signer the broker uses. */
async function signPost(params: Record<string, string>, opts: SignOptions = {}): Promise<Request> {
  const client = new AwsClient({
    ...(opts.creds ?? PRINCIPAL),
    service: opts.service ?? "sts",
    region: opts.region ?? REGION,
  });
  return await client.sign(ENDPOINT, {
    method: "POST",
    body: new URLSearchParams(params).toString(),
    headers: { "content-type": FORM, ...opts.headers },
    aws: { datetime: amzDate(opts.atMs ?? T0) },
  });
}

function assumeRoleParams(extra: Record<string, string> = {}): Record<string, string> {
  return { Action: "AssumeRole", Version: "2011-06-15", RoleArn: ROLE, RoleSessionName: "ci-session", ...extra };
}

const IDENTITY_PARAMS = { Action: "GetCallerIdentity", Version: "2011-06-15" };

interface Answer {
  status: number;
  contentType: string | null;
  body: string;
  code: string | undefined;
}

async function send(sts: StsEmulator, request: Request): Promise<Answer> {
  const response = await sts.handler(request);
  const body = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body,
    code: xmlValue(body, "Code"),
  };
}

/** The text of the first `<name>` element, unescaped: enough XML for these flat documents. */
function xmlValue(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  if (match?.[1] === undefined) return undefined;
  return match[1].replace(
    /&(lt|gt|quot|apos|amp);/g,
    (_, e: string) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[e] ?? "",
  );
}

/** Credentials from an AssumeRole success. */
function credentialsOf(xml: string): Creds & { sessionToken: string; expiration: string } {
  return {
    accessKeyId: xmlValue(xml, "AccessKeyId") ?? "",
    secretAccessKey: xmlValue(xml, "SecretAccessKey") ?? "",
    sessionToken: xmlValue(xml, "SessionToken") ?? "",
    expiration: xmlValue(xml, "Expiration") ?? "",
  };
}

/** A request rebuilt with one thing changed after signing. */
function rebuilt(request: Request, body: string, headers: Record<string, string | null> = {}): Request {
  const copy = new Headers(request.headers);
  for (const [name, value] of Object.entries(headers)) {
    if (value === null) copy.delete(name);
    else copy.set(name, value);
  }
  return new Request(request.url, { method: request.method, headers: copy, body });
}

async function smithySigned(
  init: { method: "GET" | "POST"; query?: Record<string, string>; body?: string; headers?: Record<string, string> },
  creds: Creds = PRINCIPAL,
): Promise<Request> {
  const url = new URL(ENDPOINT);
  const signer = new SignatureV4({ service: "sts", region: REGION, credentials: creds, sha256: Sha256 });
  const signed = await signer.sign(
    {
      method: init.method,
      protocol: url.protocol,
      hostname: url.hostname,
      path: url.pathname,
      query: init.query ?? {},
      headers: { host: url.host, ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
    },
    { signingDate: new Date(T0) },
  );
  const headers = new Headers();
  for (const [name, value] of Object.entries(signed.headers)) if (name !== "host") headers.set(name, value);
  const target = new URL(ENDPOINT);
  for (const [name, value] of Object.entries(init.query ?? {})) target.searchParams.append(name, value);
  return new Request(target, { method: init.method, headers, ...(init.body === undefined ? {} : { body: init.body }) });
}

describe("AssumeRole success", () => {
  it("accepts an aws4fetch-signed POST and answers AWS's XML with a correct Expiration", async () => {
    const { sts } = setup();
    const answer = await send(sts, await signPost(assumeRoleParams()));
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe("text/xml");
    expect(
      answer.body.startsWith(
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>',
      ),
    ).toBe(true);
    const creds = credentialsOf(answer.body);
    expect(creds.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(creds.secretAccessKey).toHaveLength(40);
    expect(creds.sessionToken.length).toBeGreaterThan(500);
    expect(creds.sessionToken).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(creds.expiration).toBe("2026-11-25T21:52:00Z"); // T0 + default 3600 s
    expect(xmlValue(answer.body, "AssumedRoleId")).toMatch(/^AROA[A-Z2-7]{17}:ci-session$/);
    expect(xmlValue(answer.body, "Arn")).toBe("arn:aws:sts::123456789012:assumed-role/deploy/ci-session");
    expect(xmlValue(answer.body, "RequestId")).toMatch(UUID);
    expect(answer.body).not.toContain("<SourceIdentity>");
    expect(answer.body).not.toContain("<PackedPolicySize>");
    expect(sts.requestCount).toBe(1);
    expect(sts.assumeRoleCalls).toHaveLength(1);
    expect(sts.assumeRoleCalls[0]).toMatchObject({
      roleArn: ROLE,
      roleSessionName: "ci-session",
      durationSeconds: 3600,
      tags: [],
      transitiveTagKeys: [],
      policyArns: [],
      accessKeyId: PRINCIPAL.accessKeyId,
      issuedAccessKeyId: creds.accessKeyId,
      expiration: creds.expiration,
    });
  });

  it("records every parsed parameter and answers SourceIdentity and PackedPolicySize when sent", async () => {
    const { sts } = setup();
    const policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}';
    const answer = await send(
      sts,
      await signPost(
        assumeRoleParams({
          DurationSeconds: "900",
          SourceIdentity: "octo-org",
          ExternalId: "ext:id/1",
          Policy: policy,
          "PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
          "Tags.member.2.Key": "ref",
          "Tags.member.2.Value": "refs/heads/main",
          "Tags.member.1.Key": "repository",
          "Tags.member.1.Value": "octo-org/octo-repo",
          "TransitiveTagKeys.member.1": "repository",
        }),
      ),
    );
    expect(answer.status).toBe(200);
    expect(xmlValue(answer.body, "SourceIdentity")).toBe("octo-org");
    expect(Number(xmlValue(answer.body, "PackedPolicySize"))).toBeGreaterThanOrEqual(1);
    expect(credentialsOf(answer.body).expiration).toBe("2026-11-25T21:07:00Z");
    expect(sts.assumeRoleCalls[0]).toMatchObject({
      durationSeconds: 900,
      sourceIdentity: "octo-org",
      externalId: "ext:id/1",
      policy,
      policyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
      tags: [
        { key: "repository", value: "octo-org/octo-repo" },
        { key: "ref", value: "refs/heads/main" },
      ],
      transitiveTagKeys: ["repository"],
    });
    expect(sts.assumeRoleCalls[0]?.params.RoleSessionName).toBe("ci-session");
  });

  it("keeps a role's AssumedRoleId stable across sessions and issues fresh keys each time", async () => {
    const { sts } = setup();
    const first = await send(sts, await signPost(assumeRoleParams()));
    const second = await send(sts, await signPost(assumeRoleParams({ RoleSessionName: "other" })));
    expect(xmlValue(first.body, "AssumedRoleId")?.split(":")[0]).toBe(
      xmlValue(second.body, "AssumedRoleId")?.split(":")[0],
    );
    expect(credentialsOf(first.body).accessKeyId).not.toBe(credentialsOf(second.body).accessKeyId);
  });

  it("accepts a POST and a GET signed by @smithy/signature-v4", async () => {
    const { sts } = setup();
    const body = new URLSearchParams(assumeRoleParams()).toString();
    const post = await send(sts, await smithySigned({ method: "POST", body, headers: { "content-type": FORM } }));
    expect(post.status).toBe(200);
    const get = await send(
      sts,
      await smithySigned({ method: "GET", query: assumeRoleParams({ RoleSessionName: "via-get" }) }),
    );
    expect(get.status).toBe(200);
    expect(xmlValue(get.body, "Arn")).toBe("arn:aws:sts::123456789012:assumed-role/deploy/via-get");
  });

  it("accepts an aws4fetch-signed GET with the parameters in the query string", async () => {
    const { sts } = setup();
    const client = new AwsClient({ ...PRINCIPAL, service: "sts", region: REGION });
    const url = `${ENDPOINT}?${new URLSearchParams(assumeRoleParams({ RoleSessionName: "q@get" })).toString()}`;
    const answer = await send(sts, await client.sign(url, { method: "GET", aws: { datetime: amzDate(T0) } }));
    expect(answer.status).toBe(200);
  });

  it("ignores a body that is not form-encoded, as the query protocol does", async () => {
    const { sts } = setup();
    const answer = await send(sts, await signPost(assumeRoleParams(), { headers: { "content-type": "text/plain" } }));
    expect([answer.status, answer.code]).toEqual([400, "MissingAction"]);
  });
});

describe("SigV4 verification", () => {
  it("refuses a body changed after signing", async () => {
    const { sts } = setup();
    const request = await signPost(assumeRoleParams());
    const tampered = rebuilt(request, new URLSearchParams(assumeRoleParams({ RoleSessionName: "evil" })).toString());
    const answer = await send(sts, tampered);
    expect([answer.status, answer.code]).toEqual([403, "SignatureDoesNotMatch"]);
    expect(answer.contentType).toBe("text/xml");
    expect(sts.assumeRoleCalls).toHaveLength(0);
  });

  it("refuses a signed header changed after signing, and a signed header removed", async () => {
    const { sts } = setup();
    const request = await signPost(assumeRoleParams(), { headers: { "x-broker-test": "one" } });
    const body = new URLSearchParams(assumeRoleParams()).toString();
    expect(request.headers.get("authorization")).toContain("x-broker-test");
    expect((await send(sts, rebuilt(request, body))).status).toBe(200); // the unmodified copy passes
    expect((await send(sts, rebuilt(request, body, { "x-broker-test": "two" }))).code).toBe("SignatureDoesNotMatch");
    expect((await send(sts, rebuilt(request, body, { "x-broker-test": null }))).code).toBe("SignatureDoesNotMatch");
  });

  it("refuses an X-Amz-Date changed after signing", async () => {
    const { sts } = setup();
    const request = await signPost(assumeRoleParams());
    const answer = await send(
      sts,
      rebuilt(request, new URLSearchParams(assumeRoleParams()).toString(), { "x-amz-date": amzDate(T0 + 1000) }),
    );
    expect([answer.status, answer.code]).toEqual([403, "SignatureDoesNotMatch"]);
  });

  it("accepts a date exactly 5 minutes off and refuses one more second either way", async () => {
    const { sts } = setup();
    const fiveMinutes = 5 * 60 * 1000;
    expect((await send(sts, await signPost(assumeRoleParams(), { atMs: T0 - fiveMinutes }))).status).toBe(200);
    expect((await send(sts, await signPost(assumeRoleParams(), { atMs: T0 + fiveMinutes }))).status).toBe(200);
    const late = await send(sts, await signPost(assumeRoleParams(), { atMs: T0 - fiveMinutes - 1000 }));
    expect([late.status, late.code]).toEqual([403, "SignatureDoesNotMatch"]);
    expect(xmlValue(late.body, "Message")).toMatch(/^Signature expired/);
    const early = await send(sts, await signPost(assumeRoleParams(), { atMs: T0 + fiveMinutes + 1000 }));
    expect([early.status, early.code]).toEqual([403, "SignatureDoesNotMatch"]);
    expect(xmlValue(early.body, "Message")).toMatch(/^Signature not yet current/);
  });

  it("refuses the wrong secret, region scope or service scope with SignatureDoesNotMatch", async () => {
    const { sts } = setup();
    const wrongSecret = await signPost(assumeRoleParams(), {
      creds: { ...PRINCIPAL, secretAccessKey: "not-the-secret-0000000000000000000000000" },
    });
    const wrongRegion = await signPost(assumeRoleParams(), { region: "eu-west-1" });
    const wrongService = await signPost(assumeRoleParams(), { service: "iam" });
    for (const request of [wrongSecret, wrongRegion, wrongService]) {
      const answer = await send(sts, request);
      expect([answer.status, answer.code]).toEqual([403, "SignatureDoesNotMatch"]);
    }
    expect(sts.requestCount).toBe(3);
    expect(sts.assumeRoleCalls).toHaveLength(0);
  });

  it("verifies the configured region", async () => {
    const { sts } = setup({ region: "eu-west-1" });
    expect((await send(sts, await signPost(assumeRoleParams(), { region: "eu-west-1" }))).status).toBe(200);
    expect((await send(sts, await signPost(assumeRoleParams()))).code).toBe("SignatureDoesNotMatch");
  });

  it("answers as the regional endpoint it is told: any region name, signed for that region only", async () => {
    const { sts } = setup();
    for (const region of ["eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"]) {
      const request = await signPost(IDENTITY_PARAMS, { region });
      expect((await sts.handler(request, region)).status).toBe(200);
    }
    // Signed for one region, sent to another region's endpoint (or to the global one): AWS refuses it.
    expect((await send(sts, await signPost(IDENTITY_PARAMS, { region: "eu-west-1" }))).code).toBe(
      "SignatureDoesNotMatch",
    );
    const answer = await sts.handler(await signPost(IDENTITY_PARAMS, { region: "eu-west-1" }), "eu-central-1");
    expect(answer.status).toBe(403);
    expect(xmlValue(await answer.text(), "Code")).toBe("SignatureDoesNotMatch");
  });

  it("knows region names from other strings", () => {
    for (const name of ["us-east-1", "eu-central-2", "us-gov-west-1", "cn-northwest-1", "il-central-1"])
      expect(isAwsRegionName(name)).toBe(true);
    for (const name of ["", "us-east", "US-EAST-1", "us_east_1", "eu-west-1/", "../x", "us-east-123"])
      expect(isAwsRegionName(name)).toBe(false);
  });

  it("answers InvalidClientTokenId for an unknown access key", async () => {
    const { sts } = setup();
    const answer = await send(
      sts,
      await signPost(assumeRoleParams(), { creds: { ...PRINCIPAL, accessKeyId: "AKIAUNKNOWNKEY000001" } }),
    );
    expect([answer.status, answer.code]).toEqual([403, "InvalidClientTokenId"]);
  });

  it("answers MissingAuthenticationToken without Authorization and IncompleteSignature when it is garbled", async () => {
    const { sts } = setup();
    const body = new URLSearchParams(assumeRoleParams()).toString();
    const signed = await signPost(assumeRoleParams());
    const missing = await send(sts, rebuilt(signed, body, { authorization: null }));
    expect([missing.status, missing.code]).toEqual([403, "MissingAuthenticationToken"]);
    const auth = signed.headers.get("authorization") ?? "";
    const garbled = [
      "Bearer abc",
      "AWS4-HMAC-SHA256 garbage",
      auth.replace(/Signature=[0-9a-f]+/, "Signature=xyz"),
      auth.replace(/SignedHeaders=[^,]+/, "SignedHeaders=content-type"),
      auth.replace(/Credential=[^,]+/, `Credential=${PRINCIPAL.accessKeyId}/20261125/us-east-1/sts`),
    ];
    for (const value of garbled) {
      const answer = await send(sts, rebuilt(signed, body, { authorization: value }));
      expect([answer.status, answer.code]).toEqual([403, "IncompleteSignature"]);
    }
    const noDate = await send(sts, rebuilt(signed, body, { "x-amz-date": null }));
    expect(noDate.code).toBe("IncompleteSignature");
  });

  it("refuses a declared payload hash that is not the body's", async () => {
    const { sts } = setup();
    const body = new URLSearchParams(assumeRoleParams()).toString();
    const request = await smithySigned({ method: "POST", body, headers: { "content-type": FORM } });
    expect(request.headers.get("x-amz-content-sha256")).toMatch(/^[0-9a-f]{64}$/);
    const answer = await send(
      sts,
      rebuilt(request, new URLSearchParams(assumeRoleParams({ RoleSessionName: "evil" })).toString()),
    );
    expect([answer.status, answer.code]).toEqual([400, "XAmzContentSHA256Mismatch"]);
    expect(sts.assumeRoleCalls).toHaveLength(0);
  });

  it("refuses a query string changed after signing", async () => {
    const { sts } = setup();
    const request = await smithySigned({ method: "GET", query: assumeRoleParams() });
    const url = new URL(request.url);
    url.searchParams.set("RoleSessionName", "evil");
    const answer = await send(sts, new Request(url, { method: "GET", headers: request.headers }));
    expect(answer.code).toBe("SignatureDoesNotMatch");
  });

  it("requires the session token of a principal that holds temporary credentials", async () => {
    const temporary = {
      accessKeyId: "ASIAPRINCIPAL0000001",
      secretAccessKey: "temporary-principal-secret-000000000000",
      sessionToken: "principal-token",
    };
    const { sts } = setup({ principals: [temporary] });
    expect((await send(sts, await signPost(IDENTITY_PARAMS, { creds: temporary }))).status).toBe(200);
    const { sessionToken: _omit, ...withoutToken } = temporary;
    expect((await send(sts, await signPost(IDENTITY_PARAMS, { creds: withoutToken }))).code).toBe(
      "InvalidClientTokenId",
    );
    expect(
      (await send(sts, await signPost(IDENTITY_PARAMS, { creds: { ...temporary, sessionToken: "other" } }))).code,
    ).toBe("InvalidClientTokenId");
    // A long-term key must not carry a token.
    const { sts: plain } = setup();
    expect(
      (await send(plain, await signPost(IDENTITY_PARAMS, { creds: { ...PRINCIPAL, sessionToken: "x" } }))).code,
    ).toBe("InvalidClientTokenId");
  });
});

describe("Action and Version", () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ["missing Action", { Version: "2011-06-15" }, "MissingAction"],
    ["unknown Action", { Action: "GetSessionToken", Version: "2011-06-15" }, "InvalidAction"],
    ["missing Version", { Action: "AssumeRole", RoleArn: ROLE, RoleSessionName: "s1" }, "MissingParameter"],
    [
      "wrong Version",
      { Action: "AssumeRole", Version: "2011-06-16", RoleArn: ROLE, RoleSessionName: "s1" },
      "InvalidAction",
    ],
  ];
  it.each(cases)("%s answers 400 %s", async (_name, params, code) => {
    const { sts } = setup();
    const answer = await send(sts, await signPost(params));
    expect([answer.status, answer.code]).toEqual([400, code]);
  });

  it("answers other HTTP methods with an error", async () => {
    const { sts } = setup();
    const answer = await send(sts, new Request(ENDPOINT, { method: "PUT", body: "x" }));
    expect(answer.status).toBe(405);
  });
});

/** A valid policy document of exactly `length` characters. */
function policyOfLength(length: number): string {
  const shell = (pad: string) =>
    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${pad}"}]}`;
  const policy = shell("x".repeat(length - shell("").length));
  expect(policy).toHaveLength(length);
  return policy;
}

function tagParams(
  count: number,
  make: (i: number) => [string, string] = (i) => [`k${i}`, `v${i}`],
): Record<string, string> {
  const params: Record<string, string> = {};
  for (let i = 1; i <= count; i++) {
    const [key, value] = make(i);
    params[`Tags.member.${i}.Key`] = key;
    params[`Tags.member.${i}.Value`] = value;
  }
  return params;
}

function policyArnParams(count: number): Record<string, string> {
  const params: Record<string, string> = {};
  for (let i = 1; i <= count; i++) params[`PolicyArns.member.${i}.arn`] = `arn:aws:iam::123456789012:policy/p${i}`;
  return params;
}

describe("AssumeRole parameter rules", () => {
  type Case = [name: string, params: Record<string, string | undefined>, expected: "ok" | string];
  const cases: Case[] = [
    // RoleSessionName: 2..64 of [\w+=,.@-]
    ["session name of 1 char", { RoleSessionName: "a" }, "ValidationError"],
    ["session name of 2 chars", { RoleSessionName: "ab" }, "ok"],
    ["session name of 64 chars", { RoleSessionName: "s".repeat(64) }, "ok"],
    ["session name of 65 chars", { RoleSessionName: "s".repeat(65) }, "ValidationError"],
    ["session name with all allowed symbols", { RoleSessionName: "a_Z9+=,.@-" }, "ok"],
    ["session name with a space", { RoleSessionName: "ci session" }, "ValidationError"],
    ["session name with a slash", { RoleSessionName: "octo/repo" }, "ValidationError"],
    ["missing session name", { RoleSessionName: undefined }, "ValidationError"],
    // RoleArn
    ["missing role ARN", { RoleArn: undefined }, "ValidationError"],
    ["role ARN with a short account", { RoleArn: "arn:aws:iam::12345:role/deploy-role" }, "ValidationError"],
    ["a user ARN as role ARN", { RoleArn: "arn:aws:iam::123456789012:user/deploy" }, "ValidationError"],
    ["an S3 ARN as role ARN", { RoleArn: "arn:aws:s3:::bucket/role/deploy" }, "ValidationError"],
    ["role ARN with a trailing slash", { RoleArn: "arn:aws:iam::123456789012:role/ci/" }, "ValidationError"],
    ["GovCloud role ARN", { RoleArn: "arn:aws-us-gov:iam::123456789012:role/deploy" }, "ok"],
    // DurationSeconds: 900..43200 and <= the role's MaxSessionDuration (3600 by default)
    ["duration 899", { DurationSeconds: "899" }, "ValidationError"],
    ["duration 900", { DurationSeconds: "900" }, "ok"],
    ["duration 3600", { DurationSeconds: "3600" }, "ok"],
    ["duration 3601 above the default role maximum", { DurationSeconds: "3601" }, "ValidationError"],
    ["duration 43201", { DurationSeconds: "43201" }, "ValidationError"],
    ["duration not an integer", { DurationSeconds: "900.5" }, "ValidationError"],
    ["duration not a number", { DurationSeconds: "soon" }, "ValidationError"],
    // SourceIdentity: 2..64 of [\w+=,.@-], not aws:
    ["source identity of 1 char", { SourceIdentity: "a" }, "ValidationError"],
    ["source identity of 2 chars", { SourceIdentity: "ab" }, "ok"],
    ["source identity of 64 chars", { SourceIdentity: "i".repeat(64) }, "ok"],
    ["source identity of 65 chars", { SourceIdentity: "i".repeat(65) }, "ValidationError"],
    ["source identity starting aws:", { SourceIdentity: "aws:me" }, "ValidationError"],
    ["source identity starting AWS:", { SourceIdentity: "AWS:me" }, "ValidationError"],
    ["source identity with a space", { SourceIdentity: "gh-octo cat" }, "ValidationError"],
    ["source identity with a slash", { SourceIdentity: "octo/cat" }, "ValidationError"],
    ["source identity with all allowed symbols", { SourceIdentity: "a_Z9+=,.@-" }, "ok"],
    // Tags: at most 50; key 1..128, value 0..256, [\p{L}\p{Z}\p{N}_.:/=+\-@]; unique keys, case-insensitively
    ["50 tags", tagParams(50), "ok"],
    ["51 tags", tagParams(51), "ValidationError"],
    ["tag key of 128 chars", tagParams(1, () => ["k".repeat(128), "v"]), "ok"],
    ["tag key of 129 chars", tagParams(1, () => ["k".repeat(129), "v"]), "ValidationError"],
    ["empty tag key", tagParams(1, () => ["", "v"]), "ValidationError"],
    ["tag value of 256 chars", tagParams(1, () => ["k", "v".repeat(256)]), "ok"],
    ["tag value of 257 chars", tagParams(1, () => ["k", "v".repeat(257)]), "ValidationError"],
    ["empty tag value", tagParams(1, () => ["k", ""]), "ok"],
    ["tag with every allowed symbol and Unicode letters", tagParams(1, () => ["ключ _.:/=+-@", "значение 42"]), "ok"],
    ["tag value with *", tagParams(1, () => ["k", "refs/*"]), "ValidationError"],
    ["tag value with a comma", tagParams(1, () => ["k", "a,b"]), "ValidationError"],
    ["tag key with <", tagParams(1, () => ["<k>", "v"]), "ValidationError"],
    ["duplicate tag keys differing in case", tagParams(2, (i) => [i === 1 ? "Repo" : "repo", "v"]), "ValidationError"],
    ["tag key starting aws:", tagParams(1, () => ["aws:repo", "v"]), "ValidationError"],
    ["tag key starting AWS:", tagParams(1, () => ["AWS:repo", "v"]), "ValidationError"],
    ["tag key without a value", { "Tags.member.1.Key": "k" }, "ValidationError"],
    // TransitiveTagKeys must name requested tags
    [
      "transitive key present in tags (case-insensitive)",
      { ...tagParams(1, () => ["repo", "v"]), "TransitiveTagKeys.member.1": "REPO" },
      "ok",
    ],
    [
      "transitive key not in tags",
      { ...tagParams(1, () => ["repo", "v"]), "TransitiveTagKeys.member.1": "ref" },
      "ValidationError",
    ],
    ["transitive key without tags", { "TransitiveTagKeys.member.1": "repo" }, "ValidationError"],
    // Policy: JSON object, at most 2048 characters
    ["policy of 2048 chars", { Policy: policyOfLength(2048) }, "ok"],
    ["policy of 2049 chars", { Policy: policyOfLength(2049) }, "PackedPolicyTooLarge"],
    ["policy that is not JSON", { Policy: '{"Version":"2012-10-17",' }, "MalformedPolicyDocument"],
    ["policy that is a JSON array", { Policy: "[]" }, "MalformedPolicyDocument"],
    ["empty policy", { Policy: "" }, "ValidationError"],
    ["policy with a character above U+00FF", { Policy: '{"Sid":"\u0100"}' }, "ValidationError"],
    [
      "policy and tags too large once packed",
      { Policy: policyOfLength(2048), ...tagParams(10, (i) => [`key${i}`, "v".repeat(256)]) },
      "PackedPolicyTooLarge",
    ],
    // PolicyArns: at most 10
    ["10 policy ARNs", policyArnParams(10), "ok"],
    ["11 policy ARNs", policyArnParams(11), "ValidationError"],
    ["policy ARN that names a role", { "PolicyArns.member.1.arn": ROLE }, "ValidationError"],
    // ExternalId: 2..1224 of [\w+=,.@:\/-]
    ["external id of 1 char", { ExternalId: "e" }, "ValidationError"],
    ["external id of 2 chars", { ExternalId: "e1" }, "ok"],
    ["external id of 1224 chars", { ExternalId: "e".repeat(1224) }, "ok"],
    ["external id of 1225 chars", { ExternalId: "e".repeat(1225) }, "ValidationError"],
    ["external id with a space", { ExternalId: "ext id" }, "ValidationError"],
  ];

  it.each(cases)("%s -> %s", async (_name, overrides, expected) => {
    const { sts } = setup();
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...assumeRoleParams(), ...overrides }))
      if (value !== undefined) params[key] = value;
    const answer = await send(sts, await signPost(params));
    if (expected === "ok") {
      expect(answer.status, answer.body).toBe(200);
      expect(sts.assumeRoleCalls).toHaveLength(1);
    } else {
      expect([answer.status, answer.code]).toEqual([400, expected]);
      expect(xmlValue(answer.body, "Type")).toBe("Sender");
      expect(sts.assumeRoleCalls).toHaveLength(0);
    }
  });

  it("accepts DurationSeconds up to a longer role maximum, and 43200 at most", async () => {
    const { sts } = setup({ roleMaxSessionSeconds: 43_200 });
    const ok = await send(sts, await signPost(assumeRoleParams({ DurationSeconds: "43200" })));
    expect(ok.status).toBe(200);
    expect(credentialsOf(ok.body).expiration).toBe("2026-11-26T08:52:00Z");
    expect((await send(sts, await signPost(assumeRoleParams({ DurationSeconds: "43201" })))).code).toBe(
      "ValidationError",
    );
  });

  it("reports every member constraint in one AWS-style message and escapes what it echoes", async () => {
    const { sts } = setup();
    const answer = await send(
      sts,
      await signPost(assumeRoleParams({ RoleSessionName: "<a&b>", DurationSeconds: "1" })),
    );
    expect(answer.code).toBe("ValidationError");
    expect(answer.body).toContain("2 validation errors detected: ");
    expect(answer.body).toContain("Value '&lt;a&amp;b&gt;' at 'roleSessionName'");
    expect(answer.body).not.toContain("<a&b>");
  });

  it("caps role chaining at one hour", async () => {
    const { sts } = setup({ roleMaxSessionSeconds: 43_200 });
    const first = credentialsOf((await send(sts, await signPost(assumeRoleParams()))).body);
    const chained = await send(sts, await signPost(assumeRoleParams({ DurationSeconds: "3601" }), { creds: first }));
    expect([chained.status, chained.code]).toEqual([400, "ValidationError"]);
    const ok = await send(sts, await signPost(assumeRoleParams({ DurationSeconds: "3600" }), { creds: first }));
    expect(ok.status).toBe(200);
    expect(sts.assumeRoleCalls[1]?.accessKeyId).toBe(first.accessKeyId);
  });
});

describe("faults", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("answers queued faults first, in order, one per request, then normally", async () => {
    const { sts } = setup();
    sts.inject("throttle", 2);
    sts.inject("internal_error");
    sts.inject("service_unavailable");
    sts.inject("access_denied");
    const seen: Array<[number, string | undefined, string | undefined]> = [];
    for (let i = 0; i < 6; i++) {
      const answer = await send(sts, await signPost(assumeRoleParams()));
      seen.push([answer.status, answer.code, xmlValue(answer.body, "Type")]);
    }
    expect(seen).toEqual([
      [400, "Throttling", "Sender"],
      [400, "Throttling", "Sender"],
      [500, "InternalFailure", "Receiver"],
      [503, "ServiceUnavailable", "Receiver"],
      [403, "AccessDenied", "Sender"],
      [200, undefined, undefined],
    ]);
    expect(sts.requestCount).toBe(6);
    expect(sts.assumeRoleCalls).toHaveLength(1);
  });

  it("answers errors in AWS's XML shape with the request id and the ARNs in the message", async () => {
    const { sts } = setup();
    sts.inject("access_denied");
    const answer = await send(sts, await signPost(assumeRoleParams()));
    expect(answer.contentType).toBe("text/xml");
    expect(answer.body).toMatch(
      /^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type><Code>AccessDenied<\/Code><Message>[^<]*<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/,
    );
    expect(xmlValue(answer.body, "Message")).toBe(
      `User: arn:aws:iam::000000000000:user/broker is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`,
    );
  });

  it("hangs until the request's signal aborts, then rejects with its reason", async () => {
    const { sts } = setup();
    sts.inject("hang");
    const controller = new AbortController();
    const signed = await signPost(assumeRoleParams());
    const pending = sts.handler(new Request(signed, { signal: controller.signal }));
    let settled = false;
    void pending.then(
      () => (settled = true),
      () => (settled = true),
    );
    await Promise.resolve();
    expect(settled).toBe(false);
    const reason = new Error("attempt timed out");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect((await send(sts, await signPost(assumeRoleParams()))).status).toBe(200);
  });

  it("rejects at once when the signal has already aborted", async () => {
    const { sts } = setup();
    sts.inject("hang");
    const reason = new Error("already gone");
    await expect(
      sts.handler(new Request(ENDPOINT, { method: "POST", signal: AbortSignal.abort(reason) })),
    ).rejects.toBe(reason);
  });

  it("gives up a hang after 30 s when nothing aborts", async () => {
    vi.useFakeTimers();
    const { sts } = setup();
    sts.inject("hang");
    const pending = sts.handler(new Request(ENDPOINT, { method: "POST" }));
    const outcome = expect(pending).rejects.toThrow(/hang/);
    await vi.advanceTimersByTimeAsync(29_999);
    let settled = false;
    void pending.catch(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await outcome;
  });

  it("denyRole answers AccessDenied for that role only, naming caller and role", async () => {
    const { sts } = setup();
    const denied = "arn:aws:iam::123456789012:role/forbidden";
    sts.denyRole(denied);
    const answer = await send(sts, await signPost(assumeRoleParams({ RoleArn: denied })));
    expect([answer.status, answer.code]).toEqual([403, "AccessDenied"]);
    expect(xmlValue(answer.body, "Message")).toBe(
      `User: arn:aws:iam::000000000000:user/broker is not authorized to perform: sts:AssumeRole on resource: ${denied}`,
    );
    expect((await send(sts, await signPost(assumeRoleParams()))).status).toBe(200);
    expect(sts.assumeRoleCalls.map((call) => call.roleArn)).toEqual([ROLE]);
  });
});

describe("GetCallerIdentity and issued credentials", () => {
  it("identifies a principal", async () => {
    const { sts } = setup({ principals: [{ ...PRINCIPAL, arn: "arn:aws:iam::111122223333:user/ci-broker" }] });
    const answer = await send(sts, await signPost(IDENTITY_PARAMS));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(
      /^<GetCallerIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><GetCallerIdentityResult>/,
    );
    expect(xmlValue(answer.body, "Arn")).toBe("arn:aws:iam::111122223333:user/ci-broker");
    expect(xmlValue(answer.body, "Account")).toBe("111122223333");
    expect(xmlValue(answer.body, "UserId")).toMatch(/^AIDA[A-Z2-7]{17}$/);
    expect(xmlValue(answer.body, "RequestId")).toMatch(UUID);
  });

  it("identifies issued credentials until they expire, then answers ExpiredToken", async () => {
    const { sts, clock } = setup();
    const assumed = await send(sts, await signPost(assumeRoleParams({ DurationSeconds: "900" })));
    const creds = credentialsOf(assumed.body);
    const identity = await send(sts, await signPost(IDENTITY_PARAMS, { creds }));
    expect(identity.status).toBe(200);
    expect(xmlValue(identity.body, "Arn")).toBe("arn:aws:sts::123456789012:assumed-role/deploy/ci-session");
    expect(xmlValue(identity.body, "UserId")).toBe(xmlValue(assumed.body, "AssumedRoleId"));
    expect(xmlValue(identity.body, "Account")).toBe("123456789012");

    clock.ms = T0 + 900_000 - 1000;
    expect((await send(sts, await signPost(IDENTITY_PARAMS, { creds, atMs: clock.ms }))).status).toBe(200);
    clock.ms = T0 + 900_000;
    const expired = await send(sts, await signPost(IDENTITY_PARAMS, { creds, atMs: clock.ms }));
    expect([expired.status, expired.code]).toEqual([403, "ExpiredToken"]);
  });

  it("refuses issued credentials without their session token, or with another one", async () => {
    const { sts } = setup();
    const creds = credentialsOf((await send(sts, await signPost(assumeRoleParams()))).body);
    const { sessionToken, ...keysOnly } = creds;
    const without = await send(sts, await signPost(IDENTITY_PARAMS, { creds: keysOnly }));
    expect([without.status, without.code]).toEqual([403, "InvalidClientTokenId"]);
    const other = await send(
      sts,
      await signPost(IDENTITY_PARAMS, { creds: { ...keysOnly, sessionToken: `${sessionToken.slice(0, -4)}AAAA` } }),
    );
    expect(other.code).toBe("InvalidClientTokenId");
  });

  it("shortens the life of issued credentials to credentialLifetimeSeconds", async () => {
    const { sts, clock } = setup({ credentialLifetimeSeconds: 60 });
    const assumed = await send(sts, await signPost(assumeRoleParams({ DurationSeconds: "900" })));
    const creds = credentialsOf(assumed.body);
    expect(creds.expiration).toBe("2026-11-25T20:53:00Z");
    expect(sts.assumeRoleCalls[0]?.durationSeconds).toBe(900);
    clock.ms = T0 + 60_000;
    expect((await send(sts, await signPost(IDENTITY_PARAMS, { creds, atMs: clock.ms }))).code).toBe("ExpiredToken");
  });

  it("truncates Expiration to whole seconds", async () => {
    const { sts, clock } = setup();
    clock.ms = T0 + 999;
    const creds = credentialsOf((await send(sts, await signPost(assumeRoleParams()))).body);
    expect(creds.expiration).toBe("2026-11-25T21:52:00Z");
  });
});
