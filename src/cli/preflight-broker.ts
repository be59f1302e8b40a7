// `npm run preflight`, the broker's own verdict: the environment's vars and secret names run through the Worker's
// start-up code (parseConfig, the policy compile against ISSUERS and STS_AUTH, the GitHub set-up check, the shadow
// candidate, the audience warning), so preflight and runtime cannot disagree. The alert cron's: preflight-alerts.ts.
// Pure; no I/O; no clock. Secrets are known by name only: a set secret is given a placeholder value of the right shape.
import * as z from "zod/mini";
import { configWarnings, invalidSettingPaths, isLocalIssuer, jsonString, parseConfig, type Config } from "../config.ts";
import { SHARED_DEFAULT_AUDIENCE } from "../oidc/constants.ts";
import { isBrokerError } from "../errors.ts";
import { githubSetupGaps } from "../github/setup.ts";
import { tokenAppGap } from "../github-tokens/setup.ts";
import { IssuerListSchema } from "../oidc/issuers.ts";
import { compilePolicy, PolicyCompileError, type CompiledPolicy } from "../policy/compile.ts";
import type { DeploymentEnv } from "./deployment-env.ts";
import type { LoadedPolicy } from "./policy-run.ts";
import { secretPutCommand, settingProblem, stringVar, type Problem } from "./preflight-checks.ts";

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

export interface BrokerCheckInput {
  env: DeploymentEnv;
  /** Secret names set for the Worker; undefined when no source was given (then they are reported as not checked). */
  secrets: ReadonlySet<string> | undefined;
  /** The live policy; undefined when it could not be loaded (reported apart). */
  policy: LoadedPolicy | undefined;
  /** policies/candidate.ts, when the file exists. */
  candidate: LoadedPolicy | undefined;
}

export interface BrokerCheckResult {
  problems: Problem[];
  /** Secrets the configuration needs that could not be checked (no secret source). */
  unchecked: string[];
  /** Every issuer on a loopback URL: the sandbox, exempt from the production-only rules. */
  local: boolean;
  webIdentity: boolean;
}

const isSecret = (name: string) => Object.hasOwn(SECRET_PLACEHOLDERS, name);

/** The Worker's env as the runtime would see it: vars, then a placeholder per set secret (secrets win, as in Workers). */
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
function brokerConfig(
  input: BrokerCheckInput,
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

/** The policy compiled as the Worker compiles it, or the problem it would refuse to start with. */
function compileAsWorker(loaded: LoadedPolicy, config: Config): { compiled: CompiledPolicy } | { problems: Problem[] } {
  try {
    return { compiled: compilePolicy(loaded.policy, { issuers: config.issuers, stsAuth: config.stsAuth }) };
  } catch (error) {
    if (!(error instanceof PolicyCompileError)) throw error;
    if (error.code !== "external_id_unsupported")
      return {
        problems: [
          {
            code: error.code,
            subject: `${loaded.file} ${error.location}`,
            message: `${error.message} (npm run policy:check)`,
          },
        ],
      };
    const message = error.message.slice(error.location.length + 2);
    return {
      problems: externalIdRoles(loaded, config, error.location).map((location) => ({
        code: error.code,
        subject: `${loaded.file} ${location}`,
        message,
      })),
    };
  }
}

/** Every role with an externalId: the web-identity compile stops at the first; the sigv4 compile keeps them all. */
function externalIdRoles(loaded: LoadedPolicy, config: Config, first: string): string[] {
  try {
    const roles = [...compilePolicy(loaded.policy, { issuers: config.issuers }).roles].filter(
      ([, grant]) => grant.externalId !== undefined,
    );
    return roles.map(([name]) => `roles.${name}.externalId`);
  } catch {
    // A compile error past the roles (policy:check reports it): the first role is named.
    return [first];
  }
}

/** Rules with `require` against the GitHub App and the issuers' API URLs (src/github/setup.ts, the Worker's check). */
function githubProblems(
  input: BrokerCheckInput,
  file: string,
  compiled: CompiledPolicy,
  config: Config,
  unchecked: Set<string>,
): Problem[] {
  const gaps = githubSetupGaps(compiled, config);
  const rulesOf = (reason: string, issuer?: string) => [
    ...new Set(
      gaps
        .filter((gap) => gap.reason === reason && (issuer === undefined || gap.issuer === issuer))
        .map((gap) => gap.rule),
    ),
  ];
  const describe = (rules: string[]) =>
    `${rules.length === 1 ? "rule" : "rules"} ${rules.join(", ")} (${file}) ${rules.length === 1 ? "uses" : "use"} \`require\``;
  const problems: Problem[] = [];
  const appRules = rulesOf("github_app_missing");
  if (appRules.length > 0) {
    // No App at all: parseConfig refuses a half-configured one, so both the id and the key are absent (or unchecked).
    const fix = "set up the GitHub App (docs/github-facts.md), or drop `require` from the policy";
    const appId = stringVar(input.env, "GITHUB_APP_ID");
    if (appId === undefined || appId === "")
      problems.push({
        code: "github_app_missing",
        subject: "var GITHUB_APP_ID",
        message: `is ${appId === undefined ? "not set" : "empty"}, but ${describe(appRules)}: ${fix}`,
      });
    if (input.secrets === undefined) unchecked.add("GITHUB_APP_PRIVATE_KEY");
    else if (!input.secrets.has("GITHUB_APP_PRIVATE_KEY"))
      problems.push({
        code: "github_app_missing",
        subject: "secret GITHUB_APP_PRIVATE_KEY",
        message: `is not set, but ${describe(appRules)}: ${fix}`,
      });
  }
  const tokenGap = tokenAppGap(compiled, config);
  if (tokenGap !== undefined) {
    // The Worker serves AWS credentials without it and answers config_invalid to every grant request.
    const fix = "set up the token App (docs/github-tokens.md), or drop `githubTokens` from the policy's rules";
    const why = `rule ${tokenGap.rule} (${file}) grants GitHub tokens: without it every POST /v1/github-token answers config_invalid: ${fix}`;
    const appId = stringVar(input.env, "GITHUB_TOKEN_APP_ID");
    if (appId === undefined || appId === "")
      problems.push({
        code: "github_token_app_missing",
        subject: "var GITHUB_TOKEN_APP_ID",
        message: `is ${appId === undefined ? "not set" : "empty"}, but ${why}`,
      });
    if (input.secrets === undefined) unchecked.add("GITHUB_TOKEN_APP_PRIVATE_KEY");
    else if (!input.secrets.has("GITHUB_TOKEN_APP_PRIVATE_KEY"))
      problems.push({
        code: "github_token_app_missing",
        subject: "secret GITHUB_TOKEN_APP_PRIVATE_KEY",
        message: `is not set, but ${why}`,
      });
  }
  for (const issuer of new Set(gaps.flatMap((gap) => (gap.issuer === undefined ? [] : [gap.issuer])))) {
    problems.push({
      code: "github_api_url_missing",
      subject: "var ISSUERS",
      message: `issuer "${issuer}" has no api_url, but ${describe(rulesOf("github_api_url_missing", issuer))}: set its REST API base (docs/configuration.md)`,
    });
  }
  return problems;
}

/** SHADOW_POLICY = "on" needs a candidate that compiles; the Worker would log policy_shadow_disabled and decide nothing. */
function shadowProblems(input: BrokerCheckInput, config: Config): Problem[] {
  if (config.shadowPolicy !== true) return [];
  if (input.candidate === undefined)
    return [
      {
        code: "candidate_policy_missing",
        subject: "var SHADOW_POLICY",
        message: 'is "on" but policies/candidate.ts does not exist: add a candidate, or set it to "off"',
      },
    ];
  const result = compileAsWorker(input.candidate, config);
  return "problems" in result
    ? result.problems.map((problem) => ({
        ...problem,
        code: "candidate_policy_invalid",
        message: `${problem.code}: ${problem.message}; the Worker would skip shadow mode`,
      }))
    : [];
}

const IssuersVar = z.pipe(jsonString, IssuerListSchema);

/** Whether every issuer is on a loopback URL (the sandbox), from the parsed config or, when that failed, ISSUERS alone. */
function localOnly(env: DeploymentEnv, config: Config | undefined): boolean {
  const issuers = config?.issuers ?? IssuersVar.safeParse(env.vars.ISSUERS).data;
  return issuers !== undefined && issuers.length > 0 && issuers.every(isLocalIssuer);
}

/** Everything the Worker's own start-up code would refuse, or run without (shadow), for this environment. */
export function brokerProblems(input: BrokerCheckInput): BrokerCheckResult {
  const unchecked = new Set<string>();
  const { config, problems } = brokerConfig(input, unchecked);
  const local = localOnly(input.env, config);
  const webIdentity = (config?.stsAuth ?? stringVar(input.env, "STS_AUTH")) === "web-identity";
  if (config !== undefined) {
    const live = input.policy === undefined ? undefined : compileAsWorker(input.policy, config);
    if (live !== undefined && "problems" in live) problems.push(...live.problems);
    else if (live !== undefined && input.policy !== undefined)
      problems.push(...githubProblems(input, input.policy.file, live.compiled, config, unchecked));
    problems.push(...shadowProblems(input, config));
    // The Worker logs config_warning for it; before a production deploy it is a problem (docs/security.md, "Audience").
    for (const warning of configWarnings(config)) {
      problems.push({
        code: "audience_shared_default",
        subject: "var ISSUERS",
        message: `issuer "${warning.issuer}" accepts the shared default audience "${SHARED_DEFAULT_AUDIENCE}": choose one unique to this deployment (docs/deployment.md)`,
      });
    }
  }
  return { problems, unchecked: [...unchecked], local, webIdentity };
}
