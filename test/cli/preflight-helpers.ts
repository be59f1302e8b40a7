// What the preflight tests share: a complete production environment and the sandbox as wrangler resolves them, the
// secret names each needs, and a preflight run over them that lists the problems it found.
import testPolicy from "../fixtures/policies/index.ts";
import { deploymentEnvFrom, type WranglerEnvironmentConfig } from "../../src/cli/deployment-env.ts";
import { runPreflight, type PreflightInput } from "../../src/cli/preflight-run.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";

export const SIGV4_SECRETS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

export const ALL_SECRETS = [...SIGV4_SECRETS, "GITHUB_APP_PRIVATE_KEY", "GITHUB_TOKEN_APP_PRIVATE_KEY"];

export const UNIQUE_ISSUERS =
  '[{"kind":"github","issuer":"https://token.actions.githubusercontent.com","audiences":["acme-ci-credential-broker-prod"]}]';

/** A production top level that passes: the shipped wrangler.toml with its three placeholders filled in. */
export const production: WranglerEnvironmentConfig = {
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
export const sandbox: WranglerEnvironmentConfig = {
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

export function preflight(
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

export const withVars = (vars: Record<string, unknown>, base = production): WranglerEnvironmentConfig => ({
  ...base,
  vars: { ...base.vars, ...vars },
});
