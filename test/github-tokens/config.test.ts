// The token App's settings: both or neither, never the facts App, its own API base (https, default api.github.com).
import { describe, expect, it } from "vitest";
import { invalidSettingPaths, parseConfig } from "../../src/config.ts";
import { BrokerError } from "../../src/errors.ts";
import { generateAppKey } from "../../sandbox/fakes/github-app-key.ts";

const base = {
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "AKIAABCDEFGHIJKLMNOP",
  AWS_SECRET_ACCESS_KEY: "s".repeat(40),
  ISSUERS: JSON.stringify([{ kind: "gitlab", issuer: "https://gitlab.com", audiences: ["a"] }]),
};

function refusal(env: Record<string, unknown>): BrokerError {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof BrokerError) return error;
    throw error;
  }
  throw new Error("parseConfig accepted it");
}

describe("the token App", () => {
  it("is optional; set, it defaults to api.github.com, independent of the issuers (a GitLab-only broker)", async () => {
    expect(parseConfig(base).githubTokenApp).toBeUndefined();
    const key = await generateAppKey();
    const config = parseConfig({ ...base, GITHUB_TOKEN_APP_ID: "777", GITHUB_TOKEN_APP_PRIVATE_KEY: key.pkcs1Pem });
    expect(config.githubTokenApp).toMatchObject({ app: { appId: "777" }, apiUrl: "https://api.github.com" });
    expect(
      parseConfig({
        ...base,
        GITHUB_TOKEN_APP_ID: "777",
        GITHUB_TOKEN_APP_PRIVATE_KEY: key.pkcs1Pem,
        GITHUB_TOKEN_API_URL: "https://ghes.example/api/v3",
      }).githubTokenApp?.apiUrl,
    ).toBe("https://ghes.example/api/v3");
  });

  it("refuses half a setup, naming the variable only", async () => {
    expect(invalidSettingPaths(refusal({ ...base, GITHUB_TOKEN_APP_ID: "777" }))).toEqual([
      "GITHUB_TOKEN_APP_PRIVATE_KEY",
    ]);
    const key = await generateAppKey();
    const error = refusal({ ...base, GITHUB_TOKEN_APP_PRIVATE_KEY: key.pkcs1Pem });
    expect(invalidSettingPaths(error)).toEqual(["GITHUB_TOKEN_APP_ID"]);
    expect(String(error.cause)).not.toContain("PRIVATE KEY");
  });

  it("refuses the facts App's id (github_token_app_is_facts_app)", async () => {
    const key = await generateAppKey();
    const error = refusal({
      ...base,
      GITHUB_APP_ID: "777",
      GITHUB_APP_PRIVATE_KEY: key.pkcs1Pem,
      GITHUB_TOKEN_APP_ID: "777",
      GITHUB_TOKEN_APP_PRIVATE_KEY: key.pkcs1Pem,
    });
    expect(error).toMatchObject({ code: "config_invalid", reason: "github_token_app_is_facts_app" });
  });

  it.each(["http://ghes.example/api/v3", "https://ghes.example/api/v3/", "not a url"])(
    "refuses GITHUB_TOKEN_API_URL %s",
    async (url) => {
      const key = await generateAppKey();
      expect(
        invalidSettingPaths(
          refusal({
            ...base,
            GITHUB_TOKEN_APP_ID: "777",
            GITHUB_TOKEN_APP_PRIVATE_KEY: key.pkcs1Pem,
            GITHUB_TOKEN_API_URL: url,
          }),
        ),
      ).toEqual(["GITHUB_TOKEN_API_URL"]);
    },
  );
});
