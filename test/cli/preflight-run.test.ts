// The core of `npm run preflight` (src/cli/preflight-run.ts and the checks it runs): one wrangler environment, the
// policies and the secret names in; one line per problem (keyed by its stable code), a summary and an exit code out.
// The Node entry (src/cli/preflight.ts) reads wrangler.toml with wrangler's reader: test/e2e/preflight.test.ts.
import { describe, expect, it } from "vitest";
import candidatePolicy from "../fixtures/policies/candidate.ts";
import testPolicy from "../fixtures/policies/index.ts";
import { deploymentEnvFrom, type DeploymentEnv, type WranglerEnvironmentConfig } from "../../src/cli/deployment-env.ts";
import { runPreflight, type PreflightInput } from "../../src/cli/preflight-run.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";

const SIGV4_SECRETS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
const ALL_SECRETS = [...SIGV4_SECRETS, "GITHUB_APP_PRIVATE_KEY", "GITHUB_TOKEN_APP_PRIVATE_KEY"];
const UNIQUE_ISSUERS =
  '[{"kind":"github","issuer":"https://token.actions.githubusercontent.com","audiences":["acme-ci-credential-broker-prod"]}]';

/** A production top level that passes: the shipped wrangler.toml with its three placeholders filled in. */
const production: WranglerEnvironmentConfig = {
  vars: {
    AWS_REGION: "us-east-1",
    STS_AUTH: "sigv4",
    BROKER_ISSUER_URL: "",
    ISSUERS: UNIQUE_ISSUERS,
    SHADOW_POLICY: "off",
    GITHUB_APP_ID: "424243",
    GITHUB_TOKEN_APP_ID: "424244",
  },
  kv_namespaces: [{ binding: "JWKS_CACHE", id: "0f2ac74b498b48028cb68387c421e279" }],
  durable_objects: { bindings: [{ name: "ADMISSION", class_name: "AdmissionControl" }] },
  ratelimits: [{ name: "ADDRESS_LIMITER" }, { name: "NETWORK_LIMITER" }],
  analytics_engine_datasets: [{ binding: "AUDIT", dataset: "ci_credential_broker" }],
  placement: { region: "aws:us-east-1" },
  secrets: { required: SIGV4_SECRETS },
};

/** [env.sandbox] as shipped: loopback issuer and STS, the placeholder KV id and the shared default audience. */
const sandbox: WranglerEnvironmentConfig = {
  ...production,
  vars: {
    AWS_REGION: "us-east-1",
    STS_ENDPOINT: "http://127.0.0.1:8788/sts",
    STS_AUTH: "sigv4",
    BROKER_ISSUER_URL: "http://127.0.0.1:8787",
    ISSUERS:
      '[{"kind":"github","issuer":"http://127.0.0.1:8788","audiences":["ci-credential-broker"],"api_url":"http://127.0.0.1:8788/github"}]',
    GITHUB_APP_ID: "1",
    GITHUB_TOKEN_APP_ID: "2",
  },
  kv_namespaces: [{ binding: "JWKS_CACHE", id: "00000000000000000000000000000000" }],
  analytics_engine_datasets: [{ binding: "AUDIT", dataset: "ci_credential_broker_sandbox" }],
  secrets: {
    required: [...SIGV4_SECRETS, "BROKER_SIGNING_KEY", "GITHUB_APP_PRIVATE_KEY", "GITHUB_TOKEN_APP_PRIVATE_KEY"],
  },
};

function preflight(
  config: WranglerEnvironmentConfig,
  options: {
    secrets?: string[] | undefined;
    policy?: PolicyDefinition;
    candidate?: PolicyDefinition;
    environment?: string;
  } = {},
) {
  const input: PreflightInput = {
    configFile: "wrangler.toml",
    env: deploymentEnvFrom(config, options.environment),
    policy: { file: "policies/index.ts", policy: options.policy ?? testPolicy },
    candidate:
      options.candidate === undefined ? undefined : { file: "policies/candidate.ts", policy: options.candidate },
    secrets: options.secrets === undefined ? undefined : { names: new Set(options.secrets), source: "--secrets" },
  };
  const result = runPreflight(input);
  const problems = [...result.stdout.matchAll(/^error (\S+) (.+?): /gm)].map(
    ([, code, subject]) => `${code} ${subject}`,
  );
  return { ...result, problems };
}

const withVars = (vars: Record<string, unknown>, base = production): WranglerEnvironmentConfig => ({
  ...base,
  vars: { ...base.vars, ...vars },
});
const roles = { app: { arn: "arn:aws:iam::111122223333:role/app" } };

describe("runPreflight", () => {
  it("passes a complete production environment (exit 0, no line but the header and the summary)", () => {
    const result = preflight(production, { secrets: ALL_SECRETS });
    expect(result.problems).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(
      "preflight: wrangler.toml top level; policies/index.ts; secret names from --secrets\npreflight: ok, top level\n",
    );
  });

  it("refuses the example policy on the shipped top level: GITHUB_APP_ID is empty and a rule uses `require`", () => {
    const shipped = withVars({
      ISSUERS: UNIQUE_ISSUERS.replace("acme-ci-credential-broker-prod", "ci-credential-broker"),
      GITHUB_APP_ID: "",
      GITHUB_TOKEN_APP_ID: "",
    });
    const result = preflight({ ...shipped, kv_namespaces: sandbox.kv_namespaces });
    expect(result.exitCode).toBe(1);
    expect(result.problems).toEqual([
      "kv_namespace_placeholder [[kv_namespaces]] JWKS_CACHE",
      "github_app_missing var GITHUB_APP_ID",
      "github_token_app_missing var GITHUB_TOKEN_APP_ID",
      "audience_shared_default var ISSUERS",
    ]);
    expect(result.stdout).toMatch(
      /^error github_token_app_missing var GITHUB_TOKEN_APP_ID: is empty, but rule acme-app-release-homebrew-tap \(policies\/index\.ts\) grants GitHub tokens/m,
    );
    expect(result.stdout).toMatch(
      /^error github_app_missing var GITHUB_APP_ID: is empty, but rule acme-app-main-deploy \(policies\/index\.ts\) uses `require`/m,
    );
    // Without a secret source, the secrets the configuration needs are named as not checked, in one line: never a silent pass.
    expect(result.stdout).toMatch(
      /^not checked: the secrets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, GITHUB_APP_PRIVATE_KEY, GITHUB_TOKEN_APP_PRIVATE_KEY \(no --secrets or --secrets-file;/m,
    );
    expect(result.stdout).toMatch(/\npreflight: 4 problems in top level: do not deploy\n$/);
  });

  it("passes the sandbox: local issuers make the placeholder KV id and the shared default audience harmless", () => {
    const result = preflight(sandbox, {
      secrets: [...SIGV4_SECRETS, "BROKER_SIGNING_KEY", "GITHUB_APP_PRIVATE_KEY", "GITHUB_TOKEN_APP_PRIVATE_KEY"],
      environment: "sandbox",
    });
    expect(result.problems).toEqual([]);
    expect(result.stdout).toMatch(
      /preflight: ok, env\.sandbox \(local issuers only: the production-only checks were skipped\)\n$/,
    );
  });

  it("applies the production-only rules to an environment with a real issuer, whatever its name", () => {
    const result = preflight(
      withVars(
        {
          ISSUERS:
            '[{"kind":"github","issuer":"https://token.actions.githubusercontent.com","audiences":["ci-credential-broker"]}]',
        },
        sandbox,
      ),
      {
        secrets: [...SIGV4_SECRETS, "BROKER_SIGNING_KEY", "GITHUB_APP_PRIVATE_KEY", "GITHUB_TOKEN_APP_PRIVATE_KEY"],
        environment: "sandbox",
      },
    );
    expect(result.problems).toEqual([
      "kv_namespace_placeholder [[kv_namespaces]] JWKS_CACHE",
      "loopback_url var STS_ENDPOINT",
      "audience_shared_default var ISSUERS",
    ]);
  });

  it("without a secret source, passes what it can check and says which secrets it did not (exit 0)", () => {
    const result = preflight(production);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(
      /^not checked: the secrets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, GITHUB_APP_PRIVATE_KEY, GITHUB_TOKEN_APP_PRIVATE_KEY /m,
    );
  });

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

  it("passes shadow mode with a candidate that compiles", () => {
    expect(
      preflight(withVars({ SHADOW_POLICY: "on" }), { secrets: ALL_SECRETS, candidate: candidatePolicy }).problems,
    ).toEqual([]);
  });

  it("never prints a secret's value, even one kept in [vars]", () => {
    const value = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    expect(preflight(withVars({ AWS_SECRET_ACCESS_KEY: value }), { secrets: ALL_SECRETS }).stdout).not.toContain(value);
  });

  it("reports a policy that cannot be loaded, and still checks the configuration", () => {
    const result = runPreflight({
      configFile: "wrangler.toml",
      env: deploymentEnvFrom(withVars({ GITHUB_APP_ID: "" }), undefined),
      policy: { file: "policies/index.ts", error: "SyntaxError" },
      candidate: undefined,
      secrets: undefined,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/^error policy_unloadable policies\/index\.ts: cannot be loaded: SyntaxError$/m);
  });
});

describe("deploymentEnvFrom", () => {
  it("keeps what preflight reads from wrangler's resolved config, labelled by environment", () => {
    const env: DeploymentEnv = deploymentEnvFrom(sandbox, "sandbox");
    expect(env).toMatchObject({
      label: "env.sandbox",
      kvNamespaces: [{ binding: "JWKS_CACHE", id: "00000000000000000000000000000000" }],
      durableObjects: ["ADMISSION"],
      rateLimits: ["ADDRESS_LIMITER", "NETWORK_LIMITER"],
      analyticsEngine: [{ binding: "AUDIT", dataset: "ci_credential_broker_sandbox" }],
      placementRegion: "aws:us-east-1",
    });
    expect(deploymentEnvFrom({}, undefined)).toEqual({
      label: "top level",
      vars: {},
      kvNamespaces: [],
      durableObjects: [],
      rateLimits: [],
      analyticsEngine: [],
      placementRegion: undefined,
      requiredSecrets: [],
      crons: [],
    });
  });
});
