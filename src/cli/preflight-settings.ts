// `npm run preflight`, the Worker's settings: this environment's vars and set secret names (a placeholder of the right
// shape per set secret) through the Worker's own parseConfig, and what it would refuse. The alert cron's settings are
// the cron Worker's (preflight-alerts.ts).
// Pure; no I/O; no clock. Secrets are known by name only: preflight never sees a secret's value.
import * as z from "zod/mini";
import { invalidSettingPaths, isLocalIssuer, jsonString, parseConfig, type Config } from "../config.ts";
import { isBrokerError } from "../errors.ts";
import { IssuerListSchema } from "../oidc/issuers.ts";
import type { DeploymentEnv } from "./deployment-env.ts";
import { secretPutCommand, settingProblem, type Problem } from "./preflight-checks.ts";

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

/**
 * The Worker's env as the runtime would see it: vars, then a placeholder per set secret (secrets win, as in Workers).
 */
function runtimeEnv(env: DeploymentEnv, secrets: Iterable<string>): Record<string, unknown> {
  const values: Record<string, unknown> = { ...env.vars };
  for (const name of secrets) if (isSecret(name)) values[name] = SECRET_PLACEHOLDERS[name];
  return values;
}

/** A broker setting the Worker refuses (config_invalid), by name. */
const configProblem = (env: DeploymentEnv, path: string) =>
  settingProblem(env, path, {
    code: "config_invalid",
    isSecret,
    refusedBy: "the Worker",
    effect: "the Worker answers config_invalid (500) to every credential request",
    docs: "docs/configuration.md",
  });

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
          problems: [...problems, ...paths.map((path) => configProblem(env, path))],
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

const IssuersVar = z.pipe(jsonString, IssuerListSchema);

/**
 * Whether every issuer is on a loopback URL (the sandbox), from the parsed config or, when that failed, ISSUERS alone.
 */
export function localOnly(env: DeploymentEnv, config: Config | undefined): boolean {
  const issuers = config?.issuers ?? IssuersVar.safeParse(env.vars.ISSUERS).data;
  return issuers !== undefined && issuers.length > 0 && issuers.every(isLocalIssuer);
}
