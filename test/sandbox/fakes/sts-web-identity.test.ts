// The emulator's AssumeRoleWithWebIdentity refuses what AWS refuses (wrong aud, expired, unpublished key, unknown
// provider, unreachable provider) and reads tags and source identity from a good token.
import { AwsClient } from "aws4fetch";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { createFakeNetwork } from "../../support/fake-network.ts";
import { createStsEmulator } from "../../../sandbox/fakes/sts-emulator.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const ISSUER = "https://broker.example";
const STS = "https://sts.us-east-1.amazonaws.com/";

async function setup(options: { providerDown?: boolean } = {}) {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const published = { ...(await exportJWK(publicKey)), kid: "current", alg: "ES256", use: "sig" };
  const network = createFakeNetwork({
    [ISSUER]: (request) => {
      if (options.providerDown === true) return new Response("down", { status: 503 });
      const path = new URL(request.url).pathname;
      if (path === "/.well-known/openid-configuration")
        return Response.json({ issuer: ISSUER, jwks_uri: `${ISSUER}/.well-known/jwks.json` });
      if (path === "/.well-known/jwks.json") return Response.json({ keys: [published] });
      return new Response("not found", { status: 404 });
    },
  });
  const sts = createStsEmulator({
    now: () => NOW,
    principals: [],
    webIdentity: { providers: [{ url: ISSUER, clientIds: ["sts.amazonaws.com"] }], fetch: network.fetch },
  });
  const claims = {
    iss: ISSUER,
    sub: "repo:acme/app:rule:main:role:deploy",
    aud: "sts.amazonaws.com",
    iat: NOW / 1000,
    exp: NOW / 1000 + 300,
    jti: crypto.randomUUID(),
    "https://aws.amazon.com/tags": {
      principal_tags: { Repository: ["acme/app"], Team: ["platform"] },
      transitive_tag_keys: ["Repository"],
    },
    "https://aws.amazon.com/source_identity": "gh-octocat",
  };
  const sign = (payload: Record<string, unknown> = {}, key: CryptoKey = privateKey, kid = "current") =>
    new SignJWT({ ...claims, ...payload }).setProtectedHeader({ alg: "ES256", kid, typ: "JWT" }).sign(key);
  const call = (token: string, extra: Record<string, string> = {}) =>
    sts.handler(
      new Request(STS, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          Action: "AssumeRoleWithWebIdentity",
          Version: "2011-06-15",
          RoleArn: "arn:aws:iam::111122223333:role/acme-app-deploy",
          RoleSessionName: "gh-1-1-acme.app",
          WebIdentityToken: token,
          DurationSeconds: "900",
          ...extra,
        }),
      }),
    );
  return { sts, sign, call, network };
}

const codeOf = async (response: Response) => /<Code>([^<]+)<\/Code>/.exec(await response.text())?.[1];

describe("STS emulator: AssumeRoleWithWebIdentity", () => {
  it("accepts a good unsigned call: tags, transitive keys and source identity come from the token; the credentials work", async () => {
    const { sts, sign, call, network } = await setup();
    const response = await call(await sign());
    const xml = await response.text();
    expect(response.status, xml).toBe(200);
    expect(xml).toMatch(
      /^<AssumeRoleWithWebIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><AssumeRoleWithWebIdentityResult>/,
    );
    expect(xml).toContain(
      "<SubjectFromWebIdentityToken>repo:acme/app:rule:main:role:deploy</SubjectFromWebIdentityToken>",
    );
    expect(sts.assumeRoleCalls[0]).toMatchObject({
      action: "AssumeRoleWithWebIdentity",
      sourceIdentity: "gh-octocat",
      tags: [
        { key: "Repository", value: "acme/app" },
        { key: "Team", value: "platform" },
      ],
      transitiveTagKeys: ["Repository"],
      webIdentity: { issuer: ISSUER, audience: "sts.amazonaws.com", signed: false },
    });
    expect(network.callsTo(`${ISSUER}/.well-known/`).map((c) => c.url)).toEqual([
      `${ISSUER}/.well-known/openid-configuration`,
      `${ISSUER}/.well-known/jwks.json`,
    ]);
    const creds = {
      accessKeyId: /<AccessKeyId>([^<]+)/.exec(xml)?.[1] ?? "",
      secretAccessKey: /<SecretAccessKey>([^<]+)/.exec(xml)?.[1] ?? "",
      sessionToken: /<SessionToken>([^<]+)/.exec(xml)?.[1] ?? "",
    };
    const client = new AwsClient({ ...creds, service: "sts", region: "us-east-1", retries: 0 });
    const signed = await client.sign(STS, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "Action=GetCallerIdentity&Version=2011-06-15",
      aws: { datetime: new Date(NOW).toISOString().replace(/[:-]|\.\d{3}/g, "") },
    });
    expect(await (await sts.handler(signed)).text()).toContain(":assumed-role/acme-app-deploy/gh-1-1-acme.app</Arn>");
  });

  it.each([
    [
      "a wrong aud",
      (s: Awaited<ReturnType<typeof setup>>) => s.sign({ aud: "ci-credential-broker" }),
      "InvalidIdentityToken",
    ],
    [
      "an expired token",
      (s: Awaited<ReturnType<typeof setup>>) => s.sign({ iat: NOW / 1000 - 600, exp: NOW / 1000 - 1 }),
      "ExpiredTokenException",
    ],
    [
      "a key the provider does not publish",
      async (s: Awaited<ReturnType<typeof setup>>) =>
        s.sign({}, (await generateKeyPair("ES256")).privateKey, "unpublished"),
      "InvalidIdentityToken",
    ],
    [
      "a published kid, another key's signature",
      async (s: Awaited<ReturnType<typeof setup>>) =>
        s.sign({}, (await generateKeyPair("ES256")).privateKey, "current"),
      "InvalidIdentityToken",
    ],
    [
      "an issuer with no IAM OIDC provider",
      (s: Awaited<ReturnType<typeof setup>>) => s.sign({ iss: "https://other.example" }),
      "InvalidIdentityToken",
    ],
    [
      "principal_tags values that are not arrays",
      (s: Awaited<ReturnType<typeof setup>>) =>
        s.sign({ "https://aws.amazon.com/tags": { principal_tags: { Team: "platform" } } }),
      "InvalidIdentityToken",
    ],
    [
      "a transitive key without its tag",
      (s: Awaited<ReturnType<typeof setup>>) =>
        s.sign({ "https://aws.amazon.com/tags": { principal_tags: { Team: ["x"] }, transitive_tag_keys: ["Other"] } }),
      "ValidationError",
    ],
    // The source identity claim is held to AssumeRole's SourceIdentity rules: 2..64 of [\w+=,.@-], not aws:.
    [
      "a 65-character source identity",
      (s: Awaited<ReturnType<typeof setup>>) => s.sign({ "https://aws.amazon.com/source_identity": "i".repeat(65) }),
      "ValidationError",
    ],
    [
      "a source identity with a space",
      (s: Awaited<ReturnType<typeof setup>>) => s.sign({ "https://aws.amazon.com/source_identity": "gh-octo cat" }),
      "ValidationError",
    ],
    [
      "a source identity starting aws:",
      (s: Awaited<ReturnType<typeof setup>>) => s.sign({ "https://aws.amazon.com/source_identity": "aws:me" }),
      "ValidationError",
    ],
  ])("refuses %s (%s)", async (_name, token, code) => {
    const s = await setup();
    const response = await s.call(await token(s));
    expect(response.status).toBe(400);
    expect(await codeOf(response)).toBe(code);
    expect(s.sts.assumeRoleCalls).toHaveLength(0);
  });

  it("accepts a 64-character source identity with = (the broker's hashed form)", async () => {
    const s = await setup();
    const identity = `gl-${"a".repeat(28)}=${"0123456789abcdef".repeat(2)}`;
    const response = await s.call(await s.sign({ "https://aws.amazon.com/source_identity": identity }));
    expect(response.status, await response.clone().text()).toBe(200);
    expect(s.sts.assumeRoleCalls[0]?.sourceIdentity).toBe(identity);
  });

  it("answers IDPCommunicationError when the provider's keys cannot be fetched", async () => {
    const s = await setup({ providerDown: true });
    expect(await codeOf(await s.call(await s.sign()))).toBe("IDPCommunicationError");
  });
});
