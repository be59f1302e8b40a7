// Alert settings: the vars and secrets the Cron Trigger reads, validated with zod (mini). Pure; no I/O.
// Read by the alert cron only: a bad or missing alert setting never affects credential exchange. Values are never
// echoed.
import * as z from "zod/mini";
import { isAccountId, isDatasetName } from "../audit/sql-api.ts";
import { AUDIT_DATASET_DEFAULT } from "../audit/constants.ts";
import { ALERT_DEFAULT_COOLDOWN_MINUTES, ALERT_MAX_COOLDOWN_MINUTES, ALERT_MIN_COOLDOWN_MINUTES } from "./constants.ts";
import { invalidSettings, jsonString } from "../settings.ts";
import { isTrustedUrlString } from "../http/trusted-url.ts";
import { AlertRulesSchema, defaultAlertRules, type AlertRules } from "./rules.ts";

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

/** The three settings that switch alerts on, together. */
export const ALERT_REQUIRED = ["ALERT_WEBHOOK_URL", "ANALYTICS_API_TOKEN", "ANALYTICS_ACCOUNT_ID"] as const;
const ALERT_VARS = [...ALERT_REQUIRED, "AUDIT_DATASET", "ALERT_COOLDOWN_MINUTES", "ALERT_RULES"] as const;

/**
 * The set alert vars, trimmed; unset and blank ones are absent. A webhook is https only (it carries its own secret).
 */
const AlertVarsSchema = z.object({
  ALERT_WEBHOOK_URL: z.optional(z.string().check(z.refine((value) => isTrustedUrlString(value, { loopback: false })))),
  ANALYTICS_API_TOKEN: z.optional(z.string().check(z.regex(/^[\x21-\x7e]{16,512}$/))),
  ANALYTICS_ACCOUNT_ID: z.optional(z.string().check(z.refine(isAccountId))),
  AUDIT_DATASET: z.optional(z.string().check(z.refine(isDatasetName))),
  ALERT_COOLDOWN_MINUTES: z.optional(
    z.string().check(
      z.refine((text) => {
        const minutes = Number(text);
        return (
          Number.isInteger(minutes) && minutes >= ALERT_MIN_COOLDOWN_MINUTES && minutes <= ALERT_MAX_COOLDOWN_MINUTES
        );
      }),
    ),
  ),
  ALERT_RULES: z.optional(z.pipe(jsonString, AlertRulesSchema)),
});

/** The alert vars that hold non-blank text, trimmed. Anything else (unset, blank, a non-string binding) is unset. */
function setVars(env: unknown): Partial<Record<(typeof ALERT_VARS)[number], string>> {
  const vars = (env ?? {}) as Record<string, unknown>;
  const set: Partial<Record<(typeof ALERT_VARS)[number], string>> = {};
  for (const name of ALERT_VARS) {
    const value = vars[name];
    if (typeof value === "string" && value.trim() !== "") set[name] = value.trim();
  }
  return set;
}

/**
 * Parse the alert settings. Throws `config_invalid` (reason `alert_config_invalid`) naming the bad variables, never
 * their values; returns `enabled: false` with the missing names when alerting is simply not configured.
 */
export function parseAlertConfig(env: unknown): AlertConfig {
  const result = AlertVarsSchema.safeParse(setVars(env));
  if (!result.success) throw invalidSettings("alert_config_invalid", result.error);
  const vars = result.data;
  const rules = vars.ALERT_RULES ?? defaultAlertRules();
  const { ALERT_WEBHOOK_URL: webhookUrl, ANALYTICS_API_TOKEN: apiToken, ANALYTICS_ACCOUNT_ID: accountId } = vars;
  if (webhookUrl === undefined || apiToken === undefined || accountId === undefined) {
    return { enabled: false, missing: ALERT_REQUIRED.filter((name) => vars[name] === undefined) };
  }
  const dataset = vars.AUDIT_DATASET ?? AUDIT_DATASET_DEFAULT;
  const cooldownMinutes =
    vars.ALERT_COOLDOWN_MINUTES === undefined ? ALERT_DEFAULT_COOLDOWN_MINUTES : Number(vars.ALERT_COOLDOWN_MINUTES);
  return { enabled: true, settings: { accountId, apiToken, webhookUrl, dataset, rules, cooldownMinutes } };
}
