// Tests of the STS emulator's requests and answers: AssumeRole's success shape, Action and Version, GetCallerIdentity
// and the credentials it issues (their expiry, role chaining). SigV4, parameter rules and faults have their own files.
import { AwsClient } from "aws4fetch";
import { describe, expect, it } from "vitest";
import {
  REGION,
  ENDPOINT,
  FORM,
  T0,
  PRINCIPAL,
  ROLE,
  UUID,
  setup,
  amzDate,
  signPost,
  assumeRoleParams,
  IDENTITY_PARAMS,
  send,
  xmlValue,
  credentialsOf,
  smithySigned,
} from "./sts-requests.ts";

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
