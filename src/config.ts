// Broker configuration: Worker vars and secrets, validated with zod once per isolate (per env object).
// Pure; no I/O. A failure names the offending variable only: values may be secrets and are never echoed.
import * as z from "zod/mini";
import { AlertRulesSchema, type AlertRules } from "./alerts/rules.ts";
import { isAccountId, isDatasetName } from "./audit/sql-api.ts";
import { ALERT_DEFAULT_COOLDOWN_MINUTES, ALERT_MAX_COOLDOWN_MINUTES, ALERT_MIN_COOLDOWN_MINUTES, AUDIT_DATASET_DEFAULT } from "./constants.ts";
import { BrokerError } from "./errors.ts";
import { isHttpsOrLoopback } from "./http/trusted-url.ts";
import { IssuerListSchema, type IssuerConfig } from "./oidc/issuers.ts";

const AWS_REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

const jsonString = z.pipe(
  z.string(),
  z.transform((value: string, ctx) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.issues.push({ code: "custom", message: "not valid JSON", input: value });
      return z.NEVER;
    }
  }),
);

/** An optional string where "" (or blanks, with `trim`) means absent. */
const optionalString = (trim: boolean) =>
  z.pipe(
    z.optional(z.string()),
    z.transform((value: string | undefined) => (value === undefined || (trim ? value.trim() : value) === "" ? undefined : value)),
  );

const EnvSchema = z.object({
  AWS_REGION: z.string().check(z.regex(AWS_REGION_PATTERN)),
  STS_ENDPOINT: optionalString(true).check(
    // Credentials travel in STS answers: https only, plain http only on loopback (the sandbox).
    z.refine((value) => value === undefined || (URL.canParse(value) && isHttpsOrLoopback(new URL(value))), "must be an https URL"),
  ),
  AWS_ACCESS_KEY_ID: z.string().check(z.regex(/^[A-Z0-9]{16,128}$/)),
  AWS_SECRET_ACCESS_KEY: z.string().check(z.minLength(16), z.maxLength(256)),
  AWS_SESSION_TOKEN: optionalString(false),
  ISSUERS: z.pipe(jsonString, IssuerListSchema),
  /** Shadow mode (issue #4): "on" evaluates the candidate policy (policies/candidate.ts) beside the live one. */
  SHADOW_POLICY: z.optional(z.enum(["on", "off"])),
});

export interface AwsOptions {
  region: string;
  /** STS endpoint URL: the regional endpoint unless overridden (sandbox, tests). */
  stsEndpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | undefined;
}

export interface Config {
  aws: AwsOptions;
  issuers: IssuerConfig[];
  /** Evaluate the candidate policy beside the live one and log differences (var SHADOW_POLICY = "on"). */
  shadowPolicy?: boolean;
}

/** Regional STS endpoint: keeps latency low and avoids the legacy global endpoint. */
export function regionalStsEndpoint(region: string): string {
  // AWS China regions live under their own domain (AWS General Reference, "AWS STS endpoints").
  return region.startsWith("cn-") ? `https://sts.${region}.amazonaws.com.cn/` : `https://sts.${region}.amazonaws.com/`;
}

/** Parse and validate the Worker's env. Throws `config_invalid` naming the bad variables only. */
export function parseConfig(env: unknown): Config {
  const result = EnvSchema.safeParse(env);
  if (!result.success) {
    const fields = [...new Set(result.error.issues.map((issue) => issue.path.map(String).join(".")))].join(",");
    throw new BrokerError("config_invalid", "config_invalid", { cause: `invalid settings: ${fields}` });
  }
  const vars = result.data;
  return {
    aws: {
      region: vars.AWS_REGION,
      stsEndpoint: vars.STS_ENDPOINT ?? regionalStsEndpoint(vars.AWS_REGION),
      accessKeyId: vars.AWS_ACCESS_KEY_ID,
      secretAccessKey: vars.AWS_SECRET_ACCESS_KEY,
      sessionToken: vars.AWS_SESSION_TOKEN,
    },
    issuers: vars.ISSUERS,
    shadowPolicy: vars.SHADOW_POLICY === "on",
  };
}

const configCache = new WeakMap<object, Config | BrokerError>();

/**
 * Config for this env object, parsed once: Workers hand every request of an isolate the same env.
 * A bad config is cached too, so a misconfigured deployment fails fast with `config_invalid`.
 */
export function configFor(env: object): Config {
  let entry = configCache.get(env);
  if (entry === undefined) {
    try {
      entry = parseConfig(env);
    } catch (error) {
      entry = error instanceof BrokerError ? error : new BrokerError("config_invalid", "config_invalid", { cause: error });
    }
    configCache.set(env, entry);
  }
  if (entry instanceof BrokerError) throw entry;
  return entry;
}

// --- Alerts (issue #5) ---------------------------------------------------------------------
// Read by the Cron Trigger only: a bad or missing alert setting never affects credential exchange.

/** What the alert cron needs; the webhook URL and the API token are secrets (`wrangler secret put`). */
export interface AlertSettings {
  /** Cloudflare account id (var ANALYTICS_ACCOUNT_ID): the SQL API is per account. */
  accountId: string;
  /** API token with Account Analytics: Read (secret ANALYTICS_API_TOKEN). */
  apiToken: string;
  /** Slack-compatible incoming webhook (secret ALERT_WEBHOOK_URL). */
  webhookUrl: string;
  /** Dataset the AUDIT binding writes to (var AUDIT_DATASET). */
  dataset: string;
  rules: AlertRules;
  cooldownMinutes: number;
}

/** Alerting is on only when the webhook, the token and the account id are all set. */
export type AlertConfig = { enabled: false; missing: string[] } | { enabled: true; settings: AlertSettings };

const ALERT_REQUIRED = ["ALERT_WEBHOOK_URL", "ANALYTICS_API_TOKEN", "ANALYTICS_ACCOUNT_ID"] as const;

function isHttpsUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === "https:" && url.username === "" && url.password === "";
}

/**
 * Parse the alert settings. Throws `config_invalid` (reason `alert_config_invalid`) naming the bad variables, never
 * their values; returns `enabled: false` with the missing names when alerting is simply not configured.
 */
export function parseAlertConfig(env: unknown): AlertConfig {
  const vars = (env ?? {}) as Record<string, unknown>;
  const text = (name: string): string | undefined => {
    const value = vars[name];
    return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
  };
  const bad: string[] = [];
  const webhookUrl = text("ALERT_WEBHOOK_URL");
  if (webhookUrl !== undefined && !isHttpsUrl(webhookUrl)) bad.push("ALERT_WEBHOOK_URL");
  const apiToken = text("ANALYTICS_API_TOKEN");
  if (apiToken !== undefined && !/^[\x21-\x7e]{16,512}$/.test(apiToken)) bad.push("ANALYTICS_API_TOKEN");
  const accountId = text("ANALYTICS_ACCOUNT_ID");
  if (accountId !== undefined && !isAccountId(accountId)) bad.push("ANALYTICS_ACCOUNT_ID");
  const dataset = text("AUDIT_DATASET") ?? AUDIT_DATASET_DEFAULT;
  if (!isDatasetName(dataset)) bad.push("AUDIT_DATASET");
  const cooldownText = text("ALERT_COOLDOWN_MINUTES");
  const cooldownMinutes = cooldownText === undefined ? ALERT_DEFAULT_COOLDOWN_MINUTES : Number(cooldownText);
  if (!Number.isInteger(cooldownMinutes) || cooldownMinutes < ALERT_MIN_COOLDOWN_MINUTES || cooldownMinutes > ALERT_MAX_COOLDOWN_MINUTES) bad.push("ALERT_COOLDOWN_MINUTES");
  let rules: AlertRules | undefined;
  const rulesText = text("ALERT_RULES");
  let rulesJson: unknown = {};
  try {
    rulesJson = rulesText === undefined ? {} : (JSON.parse(rulesText) as unknown);
    const parsed = AlertRulesSchema.safeParse(rulesJson);
    if (parsed.success) rules = parsed.data;
    else bad.push(...new Set(parsed.error.issues.map((issue) => ["ALERT_RULES", ...issue.path.map(String)].join("."))));
  } catch {
    bad.push("ALERT_RULES");
  }
  if (bad.length > 0 || rules === undefined) {
    throw new BrokerError("config_invalid", "alert_config_invalid", { cause: `invalid settings: ${bad.join(",")}` });
  }
  const missing = ALERT_REQUIRED.filter((name) => text(name) === undefined);
  if (missing.length > 0 || webhookUrl === undefined || apiToken === undefined || accountId === undefined) return { enabled: false, missing };
  return { enabled: true, settings: { accountId, apiToken, webhookUrl, dataset, rules, cooldownMinutes } };
}
