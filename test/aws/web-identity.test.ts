import { describe, expect, it } from "vitest";
import type { AssumeRoleInput } from "../../src/aws/session.ts";
import { assumeRoleWithWebIdentity, type WebIdentityCallDeps } from "../../src/aws/web-identity.ts";
import { BrokerError } from "../../src/errors.ts";

const ENDPOINT = "https://sts.us-east-1.amazonaws.com/";
const NS = "https://sts.amazonaws.com/doc/2011-06-15/";
const input: AssumeRoleInput = {
  roleArn: "arn:aws:iam::111122223333:role/acme-app-deploy",
  roleSessionName: "gh-1-1-acme.app",
  durationSeconds: 900,
  sourceIdentity: "gh-octocat",
  tags: [{ key: "Repository", value: "acme/app" }],
  transitiveTagKeys: ["Repository"],
  sessionPolicy: '{"Version":"2012-10-17","Statement":[]}',
  policyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
  externalId: undefined,
};

const success = (action = "AssumeRoleWithWebIdentity") =>
  `<${action}Response xmlns="${NS}"><${action}Result><SubjectFromWebIdentityToken>repo:acme/app:rule:r:role:deploy</SubjectFromWebIdentityToken>` +
  `<Audience>sts.amazonaws.com</Audience><Credentials><AccessKeyId>ASIAABCDEFGHIJKLMNOP</AccessKeyId><SecretAccessKey>abcdefghijklmnopqrstuvwxyz0123456789ABCD</SecretAccessKey>` +
  `<SessionToken>IQoJb3JpZ2luX2VjEXAMPLEEXAMPLE</SessionToken><Expiration>2026-11-25T12:15:00Z</Expiration></Credentials><Provider>broker.example</Provider></${action}Result></${action}Response>`;
const stsError = (code: string, status = 400) =>
  new Response(
    `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>arn:aws:iam::111122223333:role/x</Message></Error></ErrorResponse>`,
    { status },
  );

function harness(answers: Array<() => Response>) {
  const requests: Request[] = [];
  const bodies: string[] = [];
  let clock = 0;
  let minted = 0;
  const deps: WebIdentityCallDeps = {
    stsEndpoint: ENDPOINT,
    fetch: async (request) => {
      const req = request as Request;
      requests.push(req);
      // Bytes then UTF-8: workerd warns when .text() meets a form content type.
      bodies.push(new TextDecoder().decode(await req.clone().arrayBuffer()));
      const next = answers.shift();
      if (next === undefined) throw new Error("no answer left");
      return next();
    },
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    random: () => 0.5,
    mintToken: async () => `header.payload.signature-${++minted}`,
  };
  return { deps, requests, bodies, minted: () => minted };
}

describe("assumeRoleWithWebIdentity", () => {
  it("sends the documented parameters, unsigned: no Authorization, X-Amz-Date or security token", async () => {
    const h = harness([() => new Response(success(), { status: 200 })]);
    const result = await assumeRoleWithWebIdentity(input, h.deps);
    expect(result.credentials.accessKeyId).toBe("ASIAABCDEFGHIJKLMNOP");
    const request = h.requests[0] as Request;
    expect(request.method).toBe("POST");
    expect(request.url).toBe(ENDPOINT);
    for (const header of ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"])
      expect(request.headers.has(header)).toBe(false);
    const form = new URLSearchParams(h.bodies[0]);
    expect([...form.keys()]).toEqual([
      "Action",
      "Version",
      "RoleArn",
      "RoleSessionName",
      "WebIdentityToken",
      "DurationSeconds",
      "Policy",
      "PolicyArns.member.1.arn",
    ]);
    expect(Object.fromEntries(form)).toMatchObject({
      Action: "AssumeRoleWithWebIdentity",
      Version: "2011-06-15",
      WebIdentityToken: "header.payload.signature-1",
      DurationSeconds: "900",
    });
  });

  it("retries IDPCommunicationError and throttling with the same token, then succeeds", async () => {
    const h = harness([
      () => stsError("IDPCommunicationError"),
      () => stsError("Throttling"),
      () => new Response(success(), { status: 200 }),
    ]);
    const result = await assumeRoleWithWebIdentity(input, h.deps);
    expect(result.attempts).toBe(3);
    expect(h.minted()).toBe(1);
    expect(new Set(h.bodies).size).toBe(1);
  });

  it.each([
    ["InvalidIdentityToken", "internal_error", "sts_identity_token_rejected"],
    ["IDPRejectedClaim", "internal_error", "sts_identity_token_rejected"],
    ["ExpiredTokenException", "internal_error", "sts_broker_credentials"],
    ["AccessDenied", "forbidden", "sts_access_denied"],
  ])("%s is final: %s/%s, no ARN kept", async (code, expectedCode, reason) => {
    const h = harness([() => stsError(code, code === "AccessDenied" ? 403 : 400)]);
    const error = await assumeRoleWithWebIdentity(input, h.deps).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(BrokerError);
    expect(error).toMatchObject({ code: expectedCode, reason });
    expect(String((error as BrokerError).cause)).not.toContain("arn:aws");
    expect(h.requests).toHaveLength(1);
  });

  it("parses strictly: an AssumeRole-shaped answer is not this action's", async () => {
    const h = harness([() => new Response(success("AssumeRole"), { status: 200 })]);
    await expect(assumeRoleWithWebIdentity(input, h.deps)).rejects.toMatchObject({
      code: "upstream_unavailable",
      reason: "sts_bad_response",
    });
  });

  it("refuses a role with an external id before minting or calling STS", async () => {
    const h = harness([]);
    await expect(assumeRoleWithWebIdentity({ ...input, externalId: "ext-1" }, h.deps)).rejects.toMatchObject({
      code: "config_invalid",
      reason: "external_id_unsupported",
    });
    expect(h.minted()).toBe(0);
    expect(h.requests).toHaveLength(0);
  });
});
