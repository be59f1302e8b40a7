// `npm run preflight` refusing an environment (src/cli/preflight-run.ts, preflight-settings.ts, preflight-broker.ts,
// preflight-checks.ts): each problem, its stable code and what it names, exit 1.
import { describe, expect, it } from "vitest";
import type { WranglerEnvironmentConfig } from "../../src/cli/deployment-env.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";
import {
  SIGV4_SECRETS,
  ALL_SECRETS,
  UNIQUE_ISSUERS,
  production,
  sandbox,
  preflight,
  withVars,
} from "./preflight-helpers.ts";

const roles = { app: { arn: "arn:aws:iam::111122223333:role/app" } };

describe("runPreflight: what fails, each problem named by its stable code", () => {
  const webIdentity = {
    ...withVars({ STS_AUTH: "web-identity", BROKER_ISSUER_URL: "https://ci-credential-broker.acme.workers.dev" }),
    secrets: { required: ["BROKER_SIGNING_KEY"] },
  };
  const externalIds: PolicyDefinition = {
    roles: {
      a: { ...roles.app, externalId: "acme-external-1" },
      b: { arn: "arn:aws:iam::111122223333:role/b", externalId: "acme-external-2" },
      c: roles.app,
    },
    rules: [{ id: "r", match: { repository: "acme/app", repository_id: "1" }, roles: ["a", "b", "c"] }],
  };
  const cases: Array<[string, WranglerEnvironmentConfig, Parameters<typeof preflight>[1], string[]]> = [
    [
      "a rule with `require` and no GitHub App",
      withVars({ GITHUB_APP_ID: "" }),
      { secrets: [...SIGV4_SECRETS, "GITHUB_TOKEN_APP_PRIVATE_KEY"] },
      ["github_app_missing var GITHUB_APP_ID", "github_app_missing secret GITHUB_APP_PRIVATE_KEY"],
    ],
    [
      "the App's id without its private key",
      production,
      { secrets: [...SIGV4_SECRETS, "GITHUB_TOKEN_APP_PRIVATE_KEY"] },
      ["secret_missing secret GITHUB_APP_PRIVATE_KEY"],
    ],
    [
      "a rule granting GitHub tokens and no token App",
      withVars({ GITHUB_TOKEN_APP_ID: "" }),
      { secrets: [...SIGV4_SECRETS, "GITHUB_APP_PRIVATE_KEY"] },
      [
        "github_token_app_missing var GITHUB_TOKEN_APP_ID",
        "github_token_app_missing secret GITHUB_TOKEN_APP_PRIVATE_KEY",
      ],
    ],
    [
      "the token App's id without its private key",
      production,
      { secrets: [...SIGV4_SECRETS, "GITHUB_APP_PRIVATE_KEY"] },
      ["secret_missing secret GITHUB_TOKEN_APP_PRIVATE_KEY"],
    ],
    [
      "the facts App as the token App",
      withVars({ GITHUB_TOKEN_APP_ID: "424243" }),
      { secrets: ALL_SECRETS },
      ["github_token_app_is_facts_app var GITHUB_TOKEN_APP_ID"],
    ],
    [
      "the App's key without its id (a half-done set-up the Worker refuses)",
      withVars({ GITHUB_APP_ID: "" }),
      { secrets: ALL_SECRETS, policy: { roles, rules: [] } },
      ["config_invalid var GITHUB_APP_ID"],
    ],
    [
      "a `require` rule whose issuer has no REST API base",
      withVars({ ISSUERS: '[{"kind":"github","issuer":"https://oidc.acme.example","audiences":["acme-prod"]}]' }),
      { secrets: ALL_SECRETS },
      ["github_api_url_missing var ISSUERS"],
    ],
    [
      "web-identity without BROKER_ISSUER_URL",
      withVars({ BROKER_ISSUER_URL: "" }, webIdentity),
      { secrets: ["GITHUB_APP_PRIVATE_KEY", "GITHUB_TOKEN_APP_PRIVATE_KEY", "BROKER_SIGNING_KEY"] },
      ["config_invalid var BROKER_ISSUER_URL"],
    ],
    [
      "web-identity without the signing key",
      webIdentity,
      { secrets: ["GITHUB_APP_PRIVATE_KEY", "GITHUB_TOKEN_APP_PRIVATE_KEY"] },
      ["secret_missing secret BROKER_SIGNING_KEY"],
    ],
    [
      "web-identity with roles that have an externalId (each named)",
      webIdentity,
      {
        secrets: ["BROKER_SIGNING_KEY", "GITHUB_APP_PRIVATE_KEY", "GITHUB_TOKEN_APP_PRIVATE_KEY"],
        policy: externalIds,
      },
      [
        "external_id_unsupported policies/index.ts roles.a.externalId",
        "external_id_unsupported policies/index.ts roles.b.externalId",
      ],
    ],
    [
      "sigv4 without its keys",
      production,
      { secrets: ["GITHUB_APP_PRIVATE_KEY", "GITHUB_TOKEN_APP_PRIVATE_KEY"] },
      ["secret_missing secret AWS_ACCESS_KEY_ID", "secret_missing secret AWS_SECRET_ACCESS_KEY"],
    ],
    [
      "the shared default audience",
      withVars({ ISSUERS: UNIQUE_ISSUERS.replace("acme-ci-credential-broker-prod", "ci-credential-broker") }),
      { secrets: ALL_SECRETS },
      ["audience_shared_default var ISSUERS"],
    ],
    [
      "AWS_REGION apart from [placement]",
      withVars({ AWS_REGION: "eu-west-1" }),
      { secrets: ALL_SECRETS },
      ["placement_region_mismatch var AWS_REGION"],
    ],
    [
      "the placeholder KV namespace id",
      { ...production, kv_namespaces: sandbox.kv_namespaces },
      { secrets: ALL_SECRETS },
      ["kv_namespace_placeholder [[kv_namespaces]] JWKS_CACHE"],
    ],
    [
      "ISSUERS that is not JSON",
      withVars({ ISSUERS: "[{kind: github}]" }),
      { secrets: ALL_SECRETS },
      ["config_invalid var ISSUERS"],
    ],
    [
      "a policy whose issuer kind disagrees with ISSUERS",
      withVars({
        ISSUERS:
          '[{"id":"gitlab","kind":"github","issuer":"https://token.actions.githubusercontent.com","audiences":["acme-prod"]}]',
      }),
      { secrets: ALL_SECRETS },
      ["issuer_kind_mismatch policies/index.ts issuers.gitlab"],
    ],
    [
      "an environment without [vars] (vars are not inherited)",
      { ...production, vars: {} },
      { secrets: ALL_SECRETS },
      ["config_invalid var AWS_REGION", "config_invalid var ISSUERS"],
    ],
    [
      "an environment without the rate-limiting bindings",
      { ...production, ratelimits: [] },
      { secrets: ALL_SECRETS },
      ["binding_missing [[ratelimits]] ADDRESS_LIMITER", "binding_missing [[ratelimits]] NETWORK_LIMITER"],
    ],
    [
      "a loopback STS endpoint in production",
      withVars({ STS_ENDPOINT: "http://127.0.0.1:8788/sts" }),
      { secrets: ALL_SECRETS },
      ["loopback_url var STS_ENDPOINT"],
    ],
    [
      "a secret kept in [vars]",
      withVars({ AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" }),
      { secrets: ALL_SECRETS },
      ["secret_in_vars var AWS_SECRET_ACCESS_KEY"],
    ],
    [
      "a secret [secrets] required names but nobody set",
      { ...production, secrets: { required: [...SIGV4_SECRETS, "BROKER_SIGNING_KEY"] } },
      { secrets: ALL_SECRETS },
      ["secret_missing secret BROKER_SIGNING_KEY"],
    ],
    [
      "shadow mode on without a candidate",
      withVars({ SHADOW_POLICY: "on" }),
      { secrets: ALL_SECRETS },
      ["candidate_policy_missing var SHADOW_POLICY"],
    ],
    [
      "shadow mode on with a candidate that does not compile",
      withVars({ SHADOW_POLICY: "on" }),
      {
        secrets: ALL_SECRETS,
        candidate: { roles, rules: [{ id: "r", match: { repository: "acme/app" }, roles: ["nope"] }] },
      },
      ["candidate_policy_invalid policies/candidate.ts rules[0] (r)"],
    ],
    [
      "the alert cron's settings left on the request Worker (they belong to wrangler.alerts.toml)",
      {
        ...withVars({ ANALYTICS_ACCOUNT_ID: "0123456789abcdef0123456789abcdef" }),
        triggers: { crons: ["*/5 * * * *"] },
      },
      { secrets: [...ALL_SECRETS, "ANALYTICS_API_TOKEN"] },
      [
        "alert_setting_moved [triggers] crons",
        "alert_setting_moved var ANALYTICS_ACCOUNT_ID",
        "alert_setting_moved secret ANALYTICS_API_TOKEN",
      ],
    ],
  ];
  it.each(cases)("fails (exit 1) on %s, naming it", (_name, config, options, expected) => {
    const result = preflight(config, options);
    expect(result.problems).toEqual(expected);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(
      new RegExp(`\\npreflight: ${expected.length} problems? in top level: do not deploy\\n$`),
    );
  });
});
