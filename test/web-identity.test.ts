// Web-identity mode end to end inside workerd: the real Worker pipeline mints its own token, the STS emulator fetches
// the broker's discovery document and JWKS through the network, verifies the token and issues credentials.
import { AwsClient } from "aws4fetch";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import testPolicy from "./fixtures/policies/index.ts";
import {
  BROKER_ORIGIN,
  createHarness,
  expectAudit,
  expectNoLeak,
  STS_ORIGIN,
  type Harness,
} from "./support/broker-harness.ts";
import { generateSigningKeySecret } from "../sandbox/fakes/signing-keys.ts";

async function webIdentityHarness(options: { next?: boolean; env?: Record<string, unknown> } = {}) {
  return createHarness({
    webIdentity: {
      signingKey: await generateSigningKeySecret("RS256", "pem"),
      ...(options.next === true ? { nextSigningKey: await generateSigningKeySecret("ES256") } : {}),
    },
    ...(options.env === undefined ? {} : { env: options.env }),
  });
}

const get = (h: Harness, path: string) => h.fetch(new Request(`${BROKER_ORIGIN}${path}`));

/** The token the broker sent to STS, read back from the emulator's record of the call. */
function sentToken(h: Harness): string {
  return h.sts.assumeRoleCalls[0]?.params.WebIdentityToken ?? "";
}

describe("web-identity mode through the Worker", () => {
  it("issues credentials without any AWS key: unsigned AssumeRoleWithWebIdentity, tags and source identity in the token", async () => {
    const h = await webIdentityHarness();
    expect(h.env.AWS_ACCESS_KEY_ID).toBeUndefined();
    const response = await h.request(await h.mint());
    const body = (await response.json()) as Record<string, string>;
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body.AccessKeyId).toMatch(/^ASIA/);

    const call = h.sts.assumeRoleCalls[0];
    expect(call).toMatchObject({
      action: "AssumeRoleWithWebIdentity",
      roleArn: "arn:aws:iam::111122223333:role/acme-app-deploy",
      durationSeconds: 900,
      sourceIdentity: expect.stringMatching(/^ghe\.github\./),
    });
    // No SigV4 anywhere: the request carried no Authorization header, and the emulator knows no AWS key to check one
    // with.
    expect(call?.webIdentity?.signed).toBe(false);
    expect(call?.params).not.toHaveProperty("Tags.member.1.Key");
    expect(call?.tags).toEqual(
      expect.arrayContaining([
        { key: "Repository", value: "acme/app" },
        { key: "Team", value: "platform" },
      ]),
    );
    expect(call?.transitiveTagKeys).toContain("Repository");
    // The harness issuer is not github.com, so the subject names it.
    expect(call?.webIdentity?.subject).toBe("issuer:github:repo:acme/app:rule:acme-app-main-deploy:role:deploy");

    const claims = decodeJwt(sentToken(h));
    expect(claims).toMatchObject({ iss: BROKER_ORIGIN, aud: "sts.amazonaws.com" });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBeLessThanOrEqual(300);
    expectAudit(h, {
      outcome: "issued",
      status: 200,
      rule_id: "acme-app-main-deploy",
      role_alias: "deploy",
      sts_attempts: 1,
    });

    // The credentials are real to STS: GetCallerIdentity with them names the assumed role.
    const client = new AwsClient({
      accessKeyId: body.AccessKeyId ?? "",
      secretAccessKey: body.SecretAccessKey ?? "",
      sessionToken: body.SessionToken ?? "",
      service: "sts",
      region: "us-east-1",
      retries: 0,
    });
    const signed = await client.sign(`${STS_ORIGIN}/`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "Action=GetCallerIdentity&Version=2011-06-15",
      aws: { datetime: new Date(h.now()).toISOString().replace(/[:-]|\.\d{3}/g, "") },
    });
    expect(await (await h.sts.handler(signed)).text()).toMatch(/assumed-role\/acme-app-deploy\/ghe\.github\./);
  });

  it("every exchange gets a fresh token (own jti)", async () => {
    const h = await webIdentityHarness();
    expect((await h.request(await h.mint())).status).toBe(200);
    expect((await h.request(await h.mint())).status).toBe(200);
    const [first, second] = h.sts.assumeRoleCalls.map((call) => decodeJwt(call.params.WebIdentityToken ?? "").jti);
    expect(first).toBeTypeOf("string");
    expect(first).not.toBe(second);
  });

  it("serves the discovery document and a JWKS of current and next keys; tokens are signed with the current one", async () => {
    const h = await webIdentityHarness({ next: true });
    const discovery = await get(h, "/.well-known/openid-configuration");
    expect(discovery.status).toBe(200);
    expect(discovery.headers.get("cache-control")).toMatch(/^public, max-age=\d+$/);
    expect(await discovery.json()).toEqual({
      issuer: BROKER_ORIGIN,
      jwks_uri: `${BROKER_ORIGIN}/.well-known/jwks.json`,
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256", "ES256"],
      claims_supported: [
        "iss",
        "sub",
        "aud",
        "iat",
        "exp",
        "jti",
        "https://aws.amazon.com/tags",
        "https://aws.amazon.com/source_identity",
      ],
    });
    const jwksResponse = await get(h, "/.well-known/jwks.json");
    const jwks = (await jwksResponse.json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys.map((key) => [key.kty, key.alg])).toEqual([
      ["RSA", "RS256"],
      ["EC", "ES256"],
    ]);
    for (const key of jwks.keys)
      for (const member of ["d", "p", "q", "dp", "dq", "qi"]) expect(key).not.toHaveProperty(member);

    expect((await h.request(await h.mint())).status).toBe(200);
    expect(decodeProtectedHeader(sentToken(h)).kid).toBe(jwks.keys[0]?.kid);
  });

  it("after a rotation (next promoted to current) STS still accepts the tokens", async () => {
    const oldKey = await generateSigningKeySecret("RS256", "pem");
    const newKey = await generateSigningKeySecret("ES256");
    const h = await createHarness({ webIdentity: { signingKey: newKey, nextSigningKey: oldKey } });
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(decodeProtectedHeader(sentToken(h)).alg).toBe("ES256");
  });

  it("a sigv4 broker is no OpenID provider: the well-known documents are 404", async () => {
    const h = await createHarness();
    for (const path of ["/.well-known/openid-configuration", "/.well-known/jwks.json"]) {
      const response = await get(h, path);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: string }).error).toBe("not_found");
    }
  });

  it("a signing key that does not import fails closed: 500 config_invalid, nothing leaks", async () => {
    const h = await webIdentityHarness({
      env: { BROKER_SIGNING_KEY: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----" },
    });
    const response = await h.request(await h.mint());
    expect(response.status).toBe(500);
    expect((await expectNoLeak(response)).error).toBe("config_invalid");
    expect(h.sts.requestCount).toBe(0);
    expect((await get(h, "/.well-known/jwks.json")).status).toBe(500);
  });

  it("a policy role with an externalId fails closed at start in this mode (config_invalid)", async () => {
    const policy = {
      ...testPolicy,
      roles: { ...testPolicy.roles, deploy: { ...testPolicy.roles.deploy, externalId: "acme-ci-broker" } },
    } as typeof testPolicy;
    const h = await createHarness({ policy, webIdentity: { signingKey: await generateSigningKeySecret() } });
    const response = await h.request(await h.mint());
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: string }).error).toBe("config_invalid");
    expect(h.logs.find((line) => line.message === "config_invalid")).toMatchObject({ reason: "policy_invalid" });
  });

  it("STS refusing the broker's token (provider not registered) is an operator error, reported without detail", async () => {
    const h = await webIdentityHarness({ env: { BROKER_ISSUER_URL: "https://unregistered.example" } });
    const response = await h.request(await h.mint());
    expect(response.status).toBe(500);
    expect((await expectNoLeak(response)).error).toBe("internal_error");
    expect(h.events()[0]).toMatchObject({ reason: "sts_identity_token_rejected" });
  });
});
