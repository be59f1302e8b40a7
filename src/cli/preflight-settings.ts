// `npm run preflight`, the Worker's settings: this environment's vars and set secret names (a placeholder of the right
// shape per set secret) through the Worker's own parseConfig and parseAlertConfig, and what each would refuse.
// Pure; no I/O; no clock. Secrets are known by name only: preflight never sees a secret's value.
import * as z from "zod/mini";
import { ALERT_REQUIRED, parseAlertConfig } from "../alerts/config.ts";
import { invalidSettingPaths, isLocalIssuer, jsonString, parseConfig, type Config } from "../config.ts";
import { isBrokerError } from "../errors.ts";
import { IssuerListSchema } from "../oidc/issuers.ts";
import type { DeploymentEnv } from "./deployment-env.ts";
import { secretPutCommand, type Problem } from "./preflight-checks.ts";

/** A PKCS#8 PEM of the right shape (one DER SEQUENCE, 64 bytes): passes the broker's key checks, is no key. */
const PLACEHOLDER_PEM = `-----BEGIN PRIVATE KEY-----\n${btoa(`0${"\0".repeat(63)}`)}\n-----END PRIVATE KEY-----`;

/**
 * Every secret the Worker reads (docs/configuration.md), with a value that passes its shape check: preflight never
 * sees a secret's value, only whether it is set. A name here is reported as `secret`, any other setting as `var`.
 */
export const SECRET_PLACEHOLDERS: Readonly<Record<string, string>> = {
  AWS_ACCESS_KEY_ID: "AKIAPREFLIGHTPLACEHOLDER",
  AWS_SECRET_ACCESS_KEY: "preflight-placeholder-secret-access-key",
  AWS_SESSION_TOKEN: "preflight-placeholder",
  BROKER_SIGNING_KEY: PLACEHOLDER_PEM,
  BROKER_SIGNING_KEY_NEXT: PLACEHOLDER_PEM,
  GITHUB_APP_PRIVATE_KEY: PLACEHOLDER_PEM,
  GITHUB_TOKEN_APP_PRIVATE_KEY: PLACEHOLDER_PEM,
  ALERT_WEBHOOK_URL: "https://alerts.invalid/preflight",
  ANALYTICS_API_TOKEN: "preflight-placeholder-api-token",
};
export const SECRET_NAMES = Object.keys(SECRET_PLACEHOLDERS);

/** parseConfig asks for at most this many missing secrets in turn: the mode's keys, then the GitHub App's. */
const CONFIG_ROUNDS_MAX = SECRET_NAMES.length + 1;
/** Which vars and secret names this environment has; `secrets` undefined: no source given (reported as not checked). */
export interface SettingsInput {
  env: DeploymentEnv;
  secrets: ReadonlySet<string> | undefined;
}

const isSecret = (name: string) => Object.hasOwn(SECRET_PLACEHOLDERS, name);

/** The Worker's env as the runtime would see it: vars, then a placeholder per set secret (secrets win, as in Workers). */
function runtimeEnv(env: DeploymentEnv, secrets: Iterable<string>): Record<string, unknown> {
  const values: Record<string, unknown> = { ...env.vars };
  for (const name of secrets) if (isSecret(name)) values[name] = SECRET_PLACEHOLDERS[name];
  return values;
}

function settingProblem(env: DeploymentEnv, code: "config_invalid" | "alert_config_invalid", path: string): Problem {
  const [name = path, ...rest] = path.split(".");
  if (isSecret(name))
    return {
      code,
      subject: `secret ${name}`,
      message: "has a value the Worker refuses: put it again (docs/configuration.md)",
    };
  const value = env.vars[name];
  const what =
    value === undefined
      ? "is not set in this environment's [vars] (vars are not inherited by environments)"
      : typeof value === "string" && value.trim() === ""
        ? "is empty"
        : `is invalid${rest.length > 0 ? ` at ${rest.join(".")}` : ""}`;
  const effect =
    code === "config_invalid"
      ? "the Worker answers config_invalid (500) to every credential request (docs/configuration.md)"
      : "the alert cron refuses to run (docs/alerts.md)";
  return { code, subject: `var ${name}`, message: `${what}: ${effect}` };
}

/**
 * parseConfig, the Worker's own: a secret it names as missing is reported (or, without a secret source, listed as
 * not checked) and given a placeholder, and it runs again, so one run reports every missing secret.
 */
export function brokerConfig(
  input: SettingsInput,
  unchecked: Set<string>,
): { config: Config | undefined; problems: Problem[] } {
  const { env, secrets } = input;
  const values = runtimeEnv(env, secrets ?? []);
  const problems: Problem[] = [];
  for (let round = 0; round < CONFIG_ROUNDS_MAX; round++) {
    try {
      return { config: parseConfig(values), problems };
    } catch (error) {
      if (!isBrokerError(error) || error.code !== "config_invalid") throw error;
      if (error.reason === "github_token_app_is_facts_app") {
        const message =
          "names the facts App (GITHUB_APP_ID): the token App must be another App, so the facts App stays read-only (docs/github-tokens.md); the Worker answers config_invalid to every request";
        return {
          config: undefined,
          problems: [
            ...problems,
            { code: "github_token_app_is_facts_app", subject: "var GITHUB_TOKEN_APP_ID", message },
          ],
        };
      }
      const paths = invalidSettingPaths(error);
      const missing = paths.filter(
        (path) => isSecret(path) && (typeof values[path] !== "string" || (values[path] as string).trim() === ""),
      );
      if (missing.length === 0)
        return {
          config: undefined,
          problems: [...problems, ...paths.map((path) => settingProblem(env, "config_invalid", path))],
        };
      for (const name of missing) {
        if (secrets === undefined) unchecked.add(name);
        else
          problems.push({
            code: "secret_missing",
            subject: `secret ${name}`,
            message: `is not set: \`${secretPutCommand(env, name)}\` (without it the Worker answers config_invalid to every credential request)`,
          });
        values[name] = SECRET_PLACEHOLDERS[name];
      }
    }
  }
  return { config: undefined, problems };
}

/** The alert cron's settings (src/alerts/config.ts): invalid vars, or some of the three that switch alerts on but not all. */
export function alertProblems(input: SettingsInput, unchecked: Set<string>): Problem[] {
  let alerts: ReturnType<typeof parseAlertConfig>;
  try {
    alerts = parseAlertConfig(runtimeEnv(input.env, input.secrets ?? []));
  } catch (error) {
    if (!isBrokerError(error)) throw error;
    return invalidSettingPaths(error).map((path) => settingProblem(input.env, "alert_config_invalid", path));
  }
  if (alerts.enabled) return [];
  const missingVars = alerts.missing.filter((name) => !isSecret(name));
  const missingSecrets = alerts.missing.filter(isSecret);
  // All off (nothing set) is a choice; without a secret source, a set account id can only make the secrets unchecked.
  if (input.secrets === undefined) {
    if (missingVars.length === 0) for (const name of missingSecrets) unchecked.add(name);
    return [];
  }
  if (alerts.missing.length === ALERT_REQUIRED.length) return [];
  return alerts.missing.map((name) => ({
    code: "alerts_incomplete" as const,
    subject: `${isSecret(name) ? "secret" : "var"} ${name}`,
    message: `is not set while other alert settings are: alerts stay off until ${ALERT_REQUIRED.join(", ")} are all set (docs/alerts.md)`,
  }));
}

const IssuersVar = z.pipe(jsonString, IssuerListSchema);

/** Whether every issuer is on a loopback URL (the sandbox), from the parsed config or, when that failed, ISSUERS alone. */
export function localOnly(env: DeploymentEnv, config: Config | undefined): boolean {
  const issuers = config?.issuers ?? IssuersVar.safeParse(env.vars.ISSUERS).data;
  return issuers !== undefined && issuers.length > 0 && issuers.every(isLocalIssuer);
}
