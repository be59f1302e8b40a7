// What rules with `require` need from the configuration (src/github/setup.ts): the Worker refuses to start without it
// (checkGitHubSetup), and `npm run preflight` lists every gap (githubSetupGaps).
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.ts";
import { BrokerError } from "../../src/errors.ts";
import { checkGitHubSetup, githubSetupGaps } from "../../src/github/setup.ts";
import { compilePolicy } from "../../src/policy/compile.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";

const requirement = { checks: [{ job: "ci", conclusion: ["success"] }] };
const policy: PolicyDefinition = {
  issuers: { github: "github", ghes: "github" },
  roles: { app: { arn: "arn:aws:iam::111122223333:role/app" } },
  rules: [
    { id: "plain", match: { repository: "acme/docs", repository_id: "1" }, roles: ["app"] },
    {
      id: "gated",
      match: { repository: "acme/app", repository_id: "2", ref: "refs/heads/main" },
      roles: ["app"],
      require: requirement,
    },
    {
      id: "ghes-gated",
      issuer: "ghes",
      match: { repository: "acme/infra", repository_id: "3", ref: "refs/heads/main" },
      roles: ["app"],
      require: requirement,
    },
  ],
} as PolicyDefinition;

const env = (issuers: unknown[], app: Record<string, string> = {}) =>
  parseConfig({
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "AKIAABCDEFGHIJKLMNOP",
    AWS_SECRET_ACCESS_KEY: "0123456789abcdef0123456789abcdef",
    ISSUERS: JSON.stringify(issuers),
    ...app,
  });
const github = { kind: "github", issuer: "https://token.actions.githubusercontent.com", audiences: ["acme-prod"] };
const ghesWithoutApi = {
  id: "ghes",
  kind: "github",
  issuer: "https://ghes.acme.example/oidc",
  audiences: ["acme-prod"],
};

describe("githubSetupGaps", () => {
  it("lists every rule with requirements the configuration cannot serve, in rule order", () => {
    const config = env([github, ghesWithoutApi]);
    expect(githubSetupGaps(compilePolicy(policy, config), config)).toEqual([
      { reason: "github_app_missing", rule: "gated" },
      { reason: "github_app_missing", rule: "ghes-gated" },
      { reason: "github_api_url_missing", rule: "ghes-gated", issuer: "ghes" },
    ]);
  });

  it("leaves rules of an issuer the deployment does not configure alone", () => {
    const config = env([github]);
    expect(
      githubSetupGaps(compilePolicy(policy, config), { ...config, githubApp: { appId: "1", pkcs8: new Uint8Array() } }),
    ).toEqual([]);
  });
});

describe("checkGitHubSetup", () => {
  it("throws config_invalid for the first gap, naming the rule in the cause", () => {
    const config = env([github]);
    const check = () => checkGitHubSetup(compilePolicy(policy, config), config);
    expect(check).toThrow(BrokerError);
    expect(check).toThrow(
      expect.objectContaining({
        code: "config_invalid",
        reason: "github_app_missing",
        cause: expect.stringContaining("rule gated"),
      }),
    );
  });
});
