import { describe, expect, it } from "vitest";
import { regionalStsEndpoint } from "../src/aws/options.ts";
import { configWarnings, invalidSettingPaths, parseConfig } from "../src/config.ts";
import { BrokerError } from "../src/errors.ts";
import { createHarness } from "./support/broker-harness.ts";

const base = {
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "AKIAABCDEFGHIJKLMNOP",
  AWS_SECRET_ACCESS_KEY: "0123456789abcdef0123456789abcdef",
  ISSUERS: JSON.stringify([
    { kind: "github", issuer: "https://token.actions.githubusercontent.com", audiences: ["ci-credential-broker"] },
  ]),
};

describe("parseConfig", () => {
  it("applies issuer defaults and the regional STS endpoint", () => {
    const config = parseConfig(base);
    expect(config.aws.stsEndpoint).toBe("https://sts.us-east-1.amazonaws.com/");
    expect(config.issuers[0]).toMatchObject({ id: "github", algorithms: ["RS256"], clockToleranceSeconds: 10 });
  });

  it.each([
    ["us-east-1", "https://sts.us-east-1.amazonaws.com/"],
    ["eu-west-3", "https://sts.eu-west-3.amazonaws.com/"],
    ["cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn/"],
  ])("regional endpoint for %s", (region, endpoint) => {
    expect(regionalStsEndpoint(region)).toBe(endpoint);
  });

  it.each([
    ["https override", "https://sts.internal.example/", true],
    ["loopback http override (sandbox)", "http://127.0.0.1:8788/sts", true],
    ["remote plain http", "http://sts.internal.example/", false],
    ["other scheme", "ftp://sts.internal.example/", false],
  ])("STS_ENDPOINT: %s", (_name, endpoint, accepted) => {
    const parse = () => parseConfig({ ...base, STS_ENDPOINT: endpoint });
    if (accepted) expect(parse().aws.stsEndpoint).toBe(endpoint);
    else expect(parse).toThrow(BrokerError);
  });

  it("names the bad variable, never its value", () => {
    try {
      parseConfig({ ...base, AWS_SECRET_ACCESS_KEY: "short" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(BrokerError);
      expect((error as BrokerError).code).toBe("config_invalid");
      expect(String((error as BrokerError).cause)).toContain("AWS_SECRET_ACCESS_KEY");
      expect(String((error as BrokerError).cause)).not.toContain("short");
    }
  });

  it("names the settings in a form invalidSettingPaths reads back (npm run preflight reports them)", () => {
    const bad = {
      ...base,
      AWS_REGION: "nowhere",
      ISSUERS: JSON.stringify([
        { kind: "github", issuer: "https://token.actions.githubusercontent.com", audiences: [] },
      ]),
    };
    expect(() => parseConfig(bad)).toThrow(BrokerError);
    try {
      parseConfig(bad);
    } catch (error) {
      expect(invalidSettingPaths(error as BrokerError)).toEqual(["AWS_REGION", "ISSUERS.0.audiences"]);
    }
    expect(
      invalidSettingPaths(
        new BrokerError("config_invalid", "github_app_missing", { cause: "rule r has requirements" }),
      ),
    ).toEqual([]);
  });
});

describe("parseConfig: STS_AUTH", () => {
  const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...noKeys } = base;
  // Shape only: parseConfig checks the form; the key itself is imported on first use (test/idp/signing-keys.test.ts).
  const jwkKey = JSON.stringify({ kty: "EC", crv: "P-256", x: "x", y: "y", d: "d" });
  const pemKey =
    "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";
  const webIdentity = {
    ...noKeys,
    STS_AUTH: "web-identity",
    BROKER_ISSUER_URL: "https://broker.example.com",
    BROKER_SIGNING_KEY: jwkKey,
  };

  function causeOf(env: Record<string, unknown>): string {
    try {
      parseConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(BrokerError);
      expect((error as BrokerError).code).toBe("config_invalid");
      return String((error as BrokerError).cause);
    }
    throw new Error("expected config_invalid");
  }

  it("defaults to sigv4, which needs the AWS keys and no signing key", () => {
    const config = parseConfig(base);
    expect(config.stsAuth).toBe("sigv4");
    expect(causeOf(noKeys)).toBe("invalid settings: AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY");
    expect(causeOf({ ...base, AWS_SECRET_ACCESS_KEY: undefined })).toBe("invalid settings: AWS_SECRET_ACCESS_KEY");
  });

  it("web-identity is valid without AWS keys, and holds none even when they are set", () => {
    const config = parseConfig(webIdentity);
    expect(config).toMatchObject({
      stsAuth: "web-identity",
      aws: { region: "us-east-1", stsEndpoint: "https://sts.us-east-1.amazonaws.com/" },
    });
    expect(config.stsAuth === "web-identity" && config.webIdentity).toEqual({
      issuerUrl: "https://broker.example.com",
      signingKey: jwkKey,
      nextSigningKey: undefined,
    });
    expect(
      JSON.stringify(
        parseConfig({
          ...webIdentity,
          AWS_ACCESS_KEY_ID: base.AWS_ACCESS_KEY_ID,
          AWS_SECRET_ACCESS_KEY: base.AWS_SECRET_ACCESS_KEY,
        }),
      ),
    ).not.toContain(base.AWS_SECRET_ACCESS_KEY);
    expect(parseConfig({ ...webIdentity, BROKER_SIGNING_KEY: pemKey, BROKER_SIGNING_KEY_NEXT: jwkKey })).toMatchObject({
      webIdentity: { signingKey: pemKey, nextSigningKey: jwkKey },
    });
  });

  it("web-identity needs the issuer URL and the signing key", () => {
    expect(causeOf({ ...webIdentity, BROKER_ISSUER_URL: undefined })).toBe("invalid settings: BROKER_ISSUER_URL");
    expect(causeOf({ ...webIdentity, BROKER_SIGNING_KEY: "" })).toBe("invalid settings: BROKER_SIGNING_KEY");
  });

  it.each([
    ["https origin", "https://broker.example.com", true],
    ["loopback http (sandbox)", "http://127.0.0.1:8787", true],
    ["remote http", "http://broker.example.com", false],
    ["trailing slash", "https://broker.example.com/", false],
    ["a path", "https://broker.example.com/oidc", false],
    ["a query", "https://broker.example.com?x=1", false],
    ["credentials", "https://user:pw@broker.example.com", false],
  ])("BROKER_ISSUER_URL: %s", (_name, url, accepted) => {
    if (accepted) expect(parseConfig({ ...webIdentity, BROKER_ISSUER_URL: url }).stsAuth).toBe("web-identity");
    else expect(causeOf({ ...webIdentity, BROKER_ISSUER_URL: url })).toBe("invalid settings: BROKER_ISSUER_URL");
  });

  it("refuses a signing key that is neither a private JWK nor PKCS#8, naming it without its value", () => {
    const publicJwk = JSON.stringify({ kty: "EC", crv: "P-256", x: "x", y: "y" });
    expect(causeOf({ ...webIdentity, BROKER_SIGNING_KEY: publicJwk })).toBe("invalid settings: BROKER_SIGNING_KEY");
    expect(
      causeOf({
        ...webIdentity,
        BROKER_SIGNING_KEY_NEXT: "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
      }),
    ).toBe("invalid settings: BROKER_SIGNING_KEY_NEXT");
    expect(causeOf({ ...webIdentity, STS_AUTH: "oidc" })).toBe("invalid settings: STS_AUTH");
  });
});

describe("configWarnings: the shared default audience outside the sandbox", () => {
  const issuers = (list: unknown[]) => parseConfig({ ...base, ISSUERS: JSON.stringify(list) });

  it("warns for a public issuer that accepts ci-credential-broker", () => {
    expect(configWarnings(parseConfig(base))).toEqual([{ reason: "audience_shared_default", issuer: "github" }]);
  });

  it("is quiet for a deployment-specific audience, and for the loopback sandbox issuer", () => {
    expect(
      configWarnings(
        issuers([
          {
            kind: "github",
            issuer: "https://token.actions.githubusercontent.com",
            audiences: ["https://ci-broker.acme.example"],
          },
        ]),
      ),
    ).toEqual([]);
    expect(
      configWarnings(
        issuers([{ kind: "github", issuer: "http://127.0.0.1:8788", audiences: ["ci-credential-broker"] }]),
      ),
    ).toEqual([]);
  });

  it("names each issuer that keeps it, even beside a specific one", () => {
    const config = issuers([
      {
        kind: "github",
        issuer: "https://token.actions.githubusercontent.com",
        audiences: ["https://ci-broker.acme.example"],
      },
      {
        kind: "gitlab",
        issuer: "https://gitlab.com",
        audiences: ["https://ci-broker.acme.example", "ci-credential-broker"],
      },
    ]);
    expect(configWarnings(config)).toEqual([{ reason: "audience_shared_default", issuer: "gitlab" }]);
  });
});

describe("the Worker logs each warning once per isolate", () => {
  it("config_warning audience_shared_default, once for two requests", async () => {
    const h = await createHarness();
    await h.request(await h.mint());
    await h.request(await h.mint());
    expect(h.logs.filter((line) => line.message === "config_warning")).toEqual([
      { message: "config_warning", reason: "audience_shared_default", issuer: "github" },
    ]);
  });
});
