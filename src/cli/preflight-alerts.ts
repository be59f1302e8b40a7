// `npm run preflight -- --alerts`: the cron Worker's config (wrangler.alerts.toml) checked the way its scheduled
// handler reads it (src/alerts/config.ts), its KV namespace, cron trigger and secret names; and, for the request
// Worker, the alert settings that must no longer be there. Pure; no I/O; no clock. Secrets by name only.
import { ALERT_REQUIRED, parseAlertConfig } from "../alerts/config.ts";
import { invalidSettingPaths } from "../settings.ts";
import { isBrokerError } from "../errors.ts";
import type { DeploymentEnv } from "./deployment-env.ts";
import {
  declaredSecretProblems,
  placeholderKvProblems,
  secretPutCommand,
  settingProblem,
  stringVar,
  type Problem,
  uniqueProblems,
} from "./preflight-checks.ts";
import type { CliResult } from "./policy-run.ts";

/** The cron Worker's secrets, each with a value that passes its shape check (preflight never sees a value). */
const ALERT_SECRET_PLACEHOLDERS: Readonly<Record<string, string>> = {
  ALERT_WEBHOOK_URL: "https://alerts.invalid/preflight",
  ANALYTICS_API_TOKEN: "preflight-placeholder-api-token",
};
export const ALERT_SECRET_NAMES = Object.keys(ALERT_SECRET_PLACEHOLDERS);
/** The cron Worker's vars: on the request Worker they would be dead settings. */
const ALERT_VAR_NAMES = ["ANALYTICS_ACCOUNT_ID", "AUDIT_DATASET", "ALERT_RULES", "ALERT_COOLDOWN_MINUTES"];
const ALERT_STATE_BINDING = "ALERT_STATE";

const isSecret = (name: string) => Object.hasOwn(ALERT_SECRET_PLACEHOLDERS, name);

export interface AlertPreflightInput {
  /** The cron Worker's wrangler config file, as shown to the operator. */
  configFile: string;
  env: DeploymentEnv;
  /** Secret names set for the cron Worker, and where they came from; undefined: no source given. */
  secrets: { names: ReadonlySet<string>; source: string } | undefined;
  /** The dataset the request Worker's AUDIT binding writes (its wrangler config), when it could be read. */
  requestAudit: { configFile: string; dataset: string } | undefined;
}

/** The alert settings (src/alerts/config.ts): invalid vars, or some of the three that switch alerts on but not all. */
function settingsProblems(input: AlertPreflightInput, unchecked: Set<string>): Problem[] {
  const values: Record<string, unknown> = { ...input.env.vars };
  for (const name of input.secrets?.names ?? []) if (isSecret(name)) values[name] = ALERT_SECRET_PLACEHOLDERS[name];
  let alerts: ReturnType<typeof parseAlertConfig>;
  try {
    alerts = parseAlertConfig(values);
  } catch (error) {
    if (!isBrokerError(error)) throw error;
    return invalidSettingPaths(error).map((path) =>
      settingProblem(input.env, path, {
        code: "alert_config_invalid",
        isSecret,
        refusedBy: "the alert cron",
        effect: "the alert cron refuses to run",
        docs: "docs/alerts.md",
      }),
    );
  }
  if (alerts.enabled) return [];
  const missingVars = alerts.missing.filter((name) => !isSecret(name));
  // All off (nothing set) is a choice; without a secret source, a set account id can only make the secrets unchecked.
  if (input.secrets === undefined) {
    if (missingVars.length === 0) for (const name of alerts.missing) unchecked.add(name);
    return [];
  }
  if (alerts.missing.length === ALERT_REQUIRED.length) return [];
  return alerts.missing.map((name) => ({
    code: "alerts_incomplete" as const,
    subject: `${isSecret(name) ? "secret" : "var"} ${name}`,
    message: `is not set while other alert settings are: alerts stay off until ${ALERT_REQUIRED.join(", ")} are all set (docs/alerts.md)`,
  }));
}

/** Its own KV namespace (a real id), a cron trigger, and the dataset the request Worker writes. */
function shapeProblems(input: AlertPreflightInput): Problem[] {
  const { env } = input;
  const problems: Problem[] = [];
  if (!env.kvNamespaces.some((namespace) => namespace.binding === ALERT_STATE_BINDING))
    problems.push({
      code: "binding_missing",
      subject: `[[kv_namespaces]] ${ALERT_STATE_BINDING}`,
      message: `${env.label} has no ${ALERT_STATE_BINDING} binding, where incident state lives: add the block the shipped ${input.configFile} has`,
    });
  problems.push(...placeholderKvProblems(env, ` -c ${input.configFile}`));
  if (env.crons.length === 0)
    problems.push({
      code: "cron_trigger_missing",
      subject: "[triggers] crons",
      message: `${env.label} has no cron trigger: the rules would never run (the shipped ${input.configFile} runs them every 5 minutes)`,
    });
  const datasetVar = stringVar(env, "AUDIT_DATASET");
  const audit = input.requestAudit;
  if (audit !== undefined && datasetVar !== undefined && datasetVar !== "" && datasetVar !== audit.dataset)
    problems.push({
      code: "audit_dataset_mismatch",
      subject: "var AUDIT_DATASET",
      message: `is "${datasetVar}" but the request Worker's AUDIT binding (${audit.configFile}) writes to "${audit.dataset}": alerts would query the wrong dataset`,
    });
  return problems;
}

/**
 * `preflight --alerts`: what the cron Worker would refuse or run without, and what makes wrangler refuse the deploy.
 */
export function runAlertPreflight(input: AlertPreflightInput): CliResult {
  const { env } = input;
  const unchecked = new Set<string>();
  // A missing secret once, as wrangler would refuse it (secret_missing) rather than as a half set-up.
  const problems = uniqueProblems([
    ...shapeProblems(input),
    ...declaredSecretProblems(env, ALERT_SECRET_NAMES, input.secrets?.names),
    ...settingsProblems(input, unchecked),
  ]);
  const out = [
    `preflight: ${input.configFile} ${env.label} (the alert cron Worker); ${input.secrets === undefined ? "no secret source" : `secret names from ${input.secrets.source}`}`,
  ];
  for (const problem of problems) out.push(`error ${problem.code} ${problem.subject}: ${problem.message}`);
  if (input.secrets === undefined) {
    const names = [...new Set([...env.requiredSecrets, ...unchecked].filter(isSecret))];
    out.push(
      `not checked: ${names.length === 0 ? "secrets" : `the secrets ${names.join(", ")}`} (no --secrets or --secrets-file; \`npx wrangler secret list -c ${input.configFile} --format json\` prints them for a deployed Worker)`,
    );
  }
  out.push(
    problems.length === 0
      ? `preflight: ok, ${env.label}`
      : `preflight: ${problems.length} ${problems.length === 1 ? "problem" : "problems"} in ${env.label}: do not deploy`,
  );
  return { stdout: `${out.join("\n")}\n`, stderr: "", exitCode: problems.length === 0 ? 0 : 1 };
}

/**
 * The request Worker's side of the split: a cron trigger, an alert var or an alert secret left on it (from before the
 * cron had a Worker of its own) is dead there, and a secret it need not hold (least privilege): say where it goes.
 */
export function movedAlertSettings(env: DeploymentEnv, present: ReadonlySet<string> | undefined): Problem[] {
  const problems: Problem[] = [];
  const moved = (subject: string, what: string): Problem => ({
    code: "alert_setting_moved",
    subject,
    message: `belongs to the alert cron Worker (wrangler.alerts.toml) now: ${what} (docs/upgrading.md)`,
  });
  if (env.crons.length > 0) problems.push(moved("[triggers] crons", "remove the trigger from this config"));
  for (const name of [...ALERT_VAR_NAMES, ...ALERT_SECRET_NAMES])
    if (env.vars[name] !== undefined)
      problems.push(moved(`var ${name}`, "remove it here, set it in wrangler.alerts.toml"));
  for (const name of ALERT_SECRET_NAMES) {
    const command = secretPutCommand(env, name).replace("secret put", "secret delete");
    if (present?.has(name) === true || env.requiredSecrets.includes(name))
      problems.push(moved(`secret ${name}`, `put it on the cron Worker, then \`${command}\``));
  }
  return problems;
}
