// GitHub App settings and each issuer's REST API base.
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.ts";
import { BrokerError } from "../../src/errors.ts";
import { generateAppKey } from "../../sandbox/fakes/github-app-key.ts";

const issuer = (entry: Record<string, unknown>) => JSON.stringify([{ kind: "github", audiences: ["a"], ...entry }]);
const base = {
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "AKIAABCDEFGHIJKLMNOP",
  AWS_SECRET_ACCESS_KEY: "s".repeat(40),
  ISSUERS: issuer({ issuer: "https://token.actions.githubusercontent.com" }),
};

describe("api_url", () => {
  it.each([
    ["github.com", "https://token.actions.githubusercontent.com", "https://api.github.com"],
    [
      "an enterprise-slug issuer",
      "https://token.actions.githubusercontent.com/acme-enterprise",
      "https://api.github.com",
    ],
    ["GHE.com", "https://token.actions.octocorp.ghe.com", "https://api.octocorp.ghe.com"],
    ["GitHub Enterprise Server", "https://github.example.com/_services/token", "https://github.example.com/api/v3"],
    ["an unknown issuer", "https://issuer.example", undefined],
  ])("derives %s", (_label, url, api) => {
    expect(parseConfig({ ...base, ISSUERS: issuer({ issuer: url }) }).issuers[0]?.apiUrl).toBe(api);
  });

  it("takes an explicit api_url, https only, without a trailing slash", () => {
    expect(
      parseConfig({
        ...base,
        ISSUERS: issuer({ issuer: "https://issuer.example", api_url: "https://ghes.example/api/v3" }),
      }).issuers[0]?.apiUrl,
    ).toBe("https://ghes.example/api/v3");
    for (const bad of ["http://ghes.example/api/v3", "https://ghes.example/api/v3/", "https://user:pw@ghes.example"]) {
      expect(() =>
        parseConfig({ ...base, ISSUERS: issuer({ issuer: "https://issuer.example", api_url: bad }) }),
      ).toThrow(BrokerError);
    }
  });
});

describe("GitHub App", () => {
  it("is optional, and parsed from a PKCS#1 key when set", async () => {
    expect(parseConfig(base).githubApp).toBeUndefined();
    const key = await generateAppKey();
    expect(
      parseConfig({ ...base, GITHUB_APP_ID: "12345", GITHUB_APP_PRIVATE_KEY: key.pkcs1Pem }).githubApp?.appId,
    ).toBe("12345");
  });

  it.each([
    ["an id without a key", { GITHUB_APP_ID: "12345" }],
    [
      "a key without an id",
      { GITHUB_APP_PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----" },
    ],
    ["an id that is not a number", { GITHUB_APP_ID: "my-app" }],
  ])("refuses %s, naming the variable only", (_label, vars) => {
    try {
      parseConfig({ ...base, ...vars });
      expect.unreachable();
    } catch (error) {
      expect((error as BrokerError).code).toBe("config_invalid");
      expect(String((error as BrokerError).cause)).toMatch(/GITHUB_APP_/);
      expect(String((error as BrokerError).cause)).not.toContain("AAAA");
    }
  });
});
