import { describe, expect, it } from "vitest";
import { parseAlertConfig } from "../../src/alerts/config.ts";
import { BrokerError } from "../../src/errors.ts";
import { ACCOUNT, API_TOKEN, WEBHOOK } from "./helpers.ts";

const FULL = { ALERT_WEBHOOK_URL: WEBHOOK, ANALYTICS_API_TOKEN: API_TOKEN, ANALYTICS_ACCOUNT_ID: ACCOUNT };

function invalid(env: Record<string, unknown>): BrokerError {
  try {
    parseAlertConfig(env);
  } catch (error) {
    if (error instanceof BrokerError) return error;
    throw error;
  }
  throw new Error("expected config_invalid");
}

describe("parseAlertConfig", () => {
  it("off, naming what is missing, when the webhook, the token or the account id is unset or empty", () => {
    expect(parseAlertConfig({})).toEqual({
      enabled: false,
      missing: ["ALERT_WEBHOOK_URL", "ANALYTICS_API_TOKEN", "ANALYTICS_ACCOUNT_ID"],
    });
    expect(parseAlertConfig({ ...FULL, ANALYTICS_ACCOUNT_ID: "" })).toEqual({
      enabled: false,
      missing: ["ANALYTICS_ACCOUNT_ID"],
    });
    expect(parseAlertConfig({ ...FULL, ALERT_WEBHOOK_URL: "  " })).toEqual({
      enabled: false,
      missing: ["ALERT_WEBHOOK_URL"],
    });
  });

  it("on with defaults: dataset ci_credential_broker, 60-minute cooldown, the issue's rules", () => {
    const config = parseAlertConfig(FULL);
    expect(config).toMatchObject({
      enabled: true,
      settings: {
        accountId: ACCOUNT,
        apiToken: API_TOKEN,
        webhookUrl: WEBHOOK,
        dataset: "ci_credential_broker",
        cooldownMinutes: 60,
      },
    });
    if (config.enabled) expect(config.settings.rules.denials.max).toBe(50);
  });

  it("takes the dataset, cooldown and rules from the vars", () => {
    const config = parseAlertConfig({
      ...FULL,
      AUDIT_DATASET: "ci_credential_broker_staging",
      ALERT_COOLDOWN_MINUTES: "15",
      ALERT_RULES: '{"denials":{"max":10}}',
    });
    expect(config.enabled && config.settings).toMatchObject({
      dataset: "ci_credential_broker_staging",
      cooldownMinutes: 15,
      rules: { denials: { max: 10, window_minutes: 60 } },
    });
  });

  it.each([
    ["ALERT_WEBHOOK_URL", { ALERT_WEBHOOK_URL: "http://hooks.slack.example/services/x" }],
    ["ALERT_WEBHOOK_URL", { ALERT_WEBHOOK_URL: "https://user:pass@hooks.example/x" }],
    ["ALERT_WEBHOOK_URL", { ALERT_WEBHOOK_URL: "http://127.0.0.1:8788/hook" }],
    ["ALERT_WEBHOOK_URL", { ALERT_WEBHOOK_URL: "not a url" }],
    ["ANALYTICS_ACCOUNT_ID", { ANALYTICS_ACCOUNT_ID: "not-an-account" }],
    ["ANALYTICS_API_TOKEN", { ANALYTICS_API_TOKEN: "short" }],
    ["AUDIT_DATASET", { AUDIT_DATASET: "x; DROP TABLE" }],
    ["ALERT_COOLDOWN_MINUTES", { ALERT_COOLDOWN_MINUTES: "0" }],
    ["ALERT_COOLDOWN_MINUTES", { ALERT_COOLDOWN_MINUTES: "5" }],
    ["ALERT_COOLDOWN_MINUTES", { ALERT_COOLDOWN_MINUTES: "1.5" }],
    ["ALERT_RULES", { ALERT_RULES: "{not json" }],
    ["ALERT_RULES.denials.max", { ALERT_RULES: '{"denials":{"max":-5}}' }],
    ["ALERT_RULES", { ALERT_RULES: '{"latency":{}}' }],
  ])("%s invalid -> config_invalid naming it, never its value", (name, override) => {
    const error = invalid({ ...FULL, ...override });
    expect(error.code).toBe("config_invalid");
    expect(error.reason).toBe("alert_config_invalid");
    expect(String(error.cause)).toContain(name);
    for (const value of Object.values(override)) expect(String(error.cause)).not.toContain(value);
  });

  it("a bad setting is reported even while alerting is off", () => {
    expect(invalid({ ALERT_RULES: "[" }).reason).toBe("alert_config_invalid");
  });
});
