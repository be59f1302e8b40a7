import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { buildAssumeRoleInput, type RoleGrant } from "../../src/aws/session.ts";
import { BrokerError } from "../../src/errors.ts";
import { createIdentityProvider } from "../../src/idp/provider.ts";
import {
  AWS_SOURCE_IDENTITY_CLAIM,
  AWS_TAGS_CLAIM,
  webIdentityClaims,
  webIdentitySubject,
  type DecidedSubject,
} from "../../src/idp/web-identity-token.ts";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";
import { generateSigningKeySecret } from "../../sandbox/fakes/signing-keys.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const grant: RoleGrant = {
  alias: "deploy",
  arn: "arn:aws:iam::111122223333:role/acme-app-deploy",
  maxDurationSeconds: 3600,
  sessionPolicyJson: undefined,
  sessionTags: [["Team", "platform"]],
  privileged: true,
  policyArns: [],
  transitiveTagKeys: ["Team"],
  externalId: undefined,
};
const decided: DecidedSubject = {
  issuerId: "github",
  issuerKind: "github",
  issuerUrl: "https://token.actions.githubusercontent.com",
  repository: "acme/app",
  ruleId: "acme-app-main-deploy",
  roleAlias: "deploy",
};
const built = await buildAssumeRoleInput({
  issuer: { id: "github", kind: "github", issuer: "https://token.actions.githubusercontent.com" },
  claims: githubClaims() as never,
  grant,
  durationSeconds: 900,
  tokenSha256: "0123456789abcdef",
});
const input = () => built;

describe("webIdentitySubject", () => {
  it.each([
    ["github.com", decided, "repo:acme/app:rule:acme-app-main-deploy:role:deploy"],
    [
      "GHES (another github issuer)",
      { ...decided, issuerId: "ghes", issuerUrl: "https://ghe.example.com/_services/token" },
      "issuer:ghes:repo:acme/app:rule:acme-app-main-deploy:role:deploy",
    ],
    [
      "GitLab",
      {
        ...decided,
        issuerId: "gitlab",
        issuerKind: "gitlab",
        issuerUrl: "https://gitlab.com",
        repository: "acme/group/app",
      },
      "issuer:gitlab:project:acme/group/app:rule:acme-app-main-deploy:role:deploy",
    ],
  ] as const)("%s", (_name, subject, expected) => {
    expect(webIdentitySubject(subject as DecidedSubject)).toBe(expected);
  });

  it("refuses a subject over AWS's 255 characters rather than cutting it", () => {
    expect(() => webIdentitySubject({ ...decided, repository: `acme/${"a".repeat(250)}` })).toThrow(BrokerError);
    expect(webIdentitySubject({ ...decided, repository: `acme/${"a".repeat(200)}` }).length).toBeLessThanOrEqual(255);
  });
});

describe("webIdentityClaims: AWS's documented shape", () => {
  it("iss, sub, aud sts.amazonaws.com, 5-minute life, jti; tags as arrays of one string; transitive keys; source identity", () => {
    const claims = webIdentityClaims(input(), decided, "https://broker.example", NOW, "jti-1");
    expect(claims).toMatchObject({
      iss: "https://broker.example",
      sub: "repo:acme/app:rule:acme-app-main-deploy:role:deploy",
      aud: "sts.amazonaws.com",
      iat: NOW / 1000,
      exp: NOW / 1000 + 300,
      jti: "jti-1",
    });
    const tags = claims[AWS_TAGS_CLAIM];
    expect(Object.keys(tags).sort()).toEqual(["principal_tags", "transitive_tag_keys"]);
    expect(tags.principal_tags).toMatchObject({
      Repository: ["acme/app"],
      RepositoryId: ["874563210"],
      Ref: ["refs/heads/main"],
      Team: ["platform"],
    });
    for (const value of Object.values(tags.principal_tags)) {
      expect(Array.isArray(value) && value.length === 1 && typeof value[0] === "string").toBe(true);
    }
    expect(Object.keys(tags.principal_tags).length).toBeLessThanOrEqual(50);
    expect(tags.transitive_tag_keys).toContain("Repository");
    expect(tags.transitive_tag_keys).toContain("Team");
    for (const key of tags.transitive_tag_keys) expect(tags.principal_tags).toHaveProperty([key]);
    expect(claims[AWS_SOURCE_IDENTITY_CLAIM]).toMatch(/^gh-/);
  });
});

describe("createIdentityProvider", () => {
  it("signs with the current key (kid in the header), verifiable with the published JWKS; every token has its own jti", async () => {
    const provider = createIdentityProvider(
      {
        issuerUrl: "https://broker.example",
        signingKey: await generateSigningKeySecret("RS256", "pem"),
        nextSigningKey: await generateSigningKeySecret("ES256"),
      },
      { now: () => NOW },
    );
    const jwks = await provider.jwks();
    expect(jwks.keys).toHaveLength(2);
    const token = await provider.mint(input(), decided);
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ alg: "RS256", typ: "JWT", kid: jwks.keys[0]?.kid });
    const publicKey = await importJWK(jwks.keys[0] as never, "RS256");
    const { payload } = await jwtVerify(token, publicKey, {
      issuer: "https://broker.example",
      audience: "sts.amazonaws.com",
      currentDate: new Date(NOW),
    });
    expect(payload.exp! - payload.iat!).toBe(300);
    const second = await provider.mint(input(), decided);
    expect(decodeJwt(second).jti).not.toBe(payload.jti);
    expect((await provider.discovery()).id_token_signing_alg_values_supported).toEqual(["RS256", "ES256"]);
  });

  it("a key that does not import fails every call the same way (config_invalid)", async () => {
    const provider = createIdentityProvider(
      {
        issuerUrl: "https://broker.example",
        signingKey: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        nextSigningKey: undefined,
      },
      { now: () => NOW },
    );
    for (const call of [() => provider.mint(input(), decided), () => provider.jwks(), () => provider.discovery()]) {
      await expect(call()).rejects.toMatchObject({ code: "config_invalid", reason: "signing_key_invalid" });
    }
  });
});
