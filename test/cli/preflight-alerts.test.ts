// `npm run preflight -- --alerts` (src/cli/preflight-alerts.ts): the alert cron Worker's config, secret names and the
// request Worker's dataset in; one line per problem (keyed by its stable code), a summary and an exit code out.
import { describe, expect, it } from "vitest";
import { deploymentEnvFrom, type WranglerEnvironmentConfig } from "../../src/cli/deployment-env.ts";
import { runAlertPreflight } from "../../src/cli/preflight-alerts.ts";

const SECRETS = ["ANALYTICS_API_TOKEN", "ALERT_WEBHOOK_URL"];

/** wrangler.alerts.toml as shipped, with its KV namespace id and account id filled in. */
const production: WranglerEnvironmentConfig = {
  vars: {
    ANALYTICS_ACCOUNT_ID: "0123456789abcdef0123456789abcdef",
    AUDIT_DATASET: "ci_credential_broker",
    ALERT_RULES: "{}",
    ALERT_COOLDOWN_MINUTES: "60",
  },
  kv_namespaces: [{ binding: "ALERT_STATE", id: "0f2ac74b498b48028cb68387c421e279" }],
  secrets: { required: SECRETS },
  triggers: { crons: ["*/5 * * * *"] },
};

const withVars = (vars: Record<string, unknown>): WranglerEnvironmentConfig => ({
  ...production,
  vars: { ...production.vars, ...vars },
});

function preflight(config: WranglerEnvironmentConfig, secrets: string[] | undefined) {
  const result = runAlertPreflight({
    configFile: "wrangler.alerts.toml",
    env: deploymentEnvFrom(config, undefined),
    secrets: secrets === undefined ? undefined : { names: new Set(secrets), source: "--secrets" },
    requestAudit: { configFile: "wrangler.toml", dataset: "ci_credential_broker" },
  });
  const problems = [...result.stdout.matchAll(/^error (\S+) (.+?): /gm)].map(
    ([, code, subject]) => `${code} ${subject}`,
  );
  return { ...result, problems };
}

describe("runAlertPreflight", () => {
  it("passes a complete cron Worker (exit 0, no line but the header and the summary)", () => {
    const result = preflight(production, SECRETS);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(
      "preflight: wrangler.alerts.toml top level (the alert cron Worker); secret names from --secrets\npreflight: ok, top level\n",
    );
  });

  it("without a secret source, names the secrets it could not check: never a silent pass", () => {
    const result = preflight(production, undefined);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^not checked: the secrets ANALYTICS_API_TOKEN, ALERT_WEBHOOK_URL \(/m);
  });

  const cases: Array<[string, WranglerEnvironmentConfig, string[], string[]]> = [
    [
      "the shipped placeholder KV id",
      { ...production, kv_namespaces: [{ binding: "ALERT_STATE", id: "00000000000000000000000000000000" }] },
      SECRETS,
      ["kv_namespace_placeholder [[kv_namespaces]] ALERT_STATE"],
    ],
    [
      "no namespace of its own for incident state, and no cron trigger",
      {
        ...production,
        kv_namespaces: [{ binding: "JWKS_CACHE", id: "0f2ac74b498b48028cb68387c421e279" }],
        triggers: {},
      },
      SECRETS,
      ["binding_missing [[kv_namespaces]] ALERT_STATE", "cron_trigger_missing [triggers] crons"],
    ],
    ["alerts half set up", production, ["ANALYTICS_API_TOKEN"], ["secret_missing secret ALERT_WEBHOOK_URL"]],
    [
      "alerts half set up, secrets not required",
      { ...production, secrets: { required: [] } },
      ["ANALYTICS_API_TOKEN"],
      ["alerts_incomplete secret ALERT_WEBHOOK_URL"],
    ],
    [
      "alert rules that are not valid",
      withVars({ ALERT_RULES: '{"denials":{"max":-1}}' }),
      SECRETS,
      ["alert_config_invalid var ALERT_RULES"],
    ],
    [
      "AUDIT_DATASET apart from the request Worker's AUDIT binding",
      withVars({ AUDIT_DATASET: "other_dataset" }),
      SECRETS,
      ["audit_dataset_mismatch var AUDIT_DATASET"],
    ],
    [
      "a secret kept in [vars]",
      withVars({ ANALYTICS_API_TOKEN: "an-analytics-token-in-plain-text" }),
      SECRETS,
      ["secret_in_vars var ANALYTICS_API_TOKEN"],
    ],
  ];
  it.each(cases)("fails (exit 1) on %s, naming it", (_name, config, secrets, expected) => {
    const result = preflight(config, secrets);
    expect(result.problems).toEqual(expected);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).not.toContain("an-analytics-token-in-plain-text");
    expect(result.stdout).toMatch(
      new RegExp(`\\npreflight: ${expected.length} problems? in top level: do not deploy\\n$`),
    );
  });
});
