// The core of `npm run preflight`: one wrangler environment, the operator's policies and the Worker's secret names
// in; one line per problem, a summary and an exit code out (0 ok, 1 problems, 2 usage).
// Pure; no I/O; no clock. Platform-neutral (no node:*), so the Workers test pool covers it.
import type { DeploymentEnv } from "./deployment-env.ts";
import { movedAlertSettings } from "./preflight-alerts.ts";
import { brokerProblems } from "./preflight-broker.ts";
import { declaredSecretProblems, deploymentProblems, uniqueProblems, type Problem } from "./preflight-checks.ts";
import { SECRET_NAMES } from "./preflight-settings.ts";
import type { CliResult, LoadedPolicy } from "./policy-run.ts";

export const PREFLIGHT_USAGE =
  "usage: npm run preflight -- [--alerts] [--env NAME] [--secrets NAME,NAME,...] [--secrets-file FILE] [--config wrangler.toml] [--policies DIR]";

/** The alert cron Worker's config (`--alerts` without `--config`). */
export const ALERTS_CONFIG_FILE = "wrangler.alerts.toml";

export interface PreflightArgs {
  /** --alerts: check the alert cron Worker (default config wrangler.alerts.toml) instead of the request Worker. */
  alerts: boolean;
  /** wrangler environment (`[env.NAME]`); undefined: the top level. */
  env: string | undefined;
  config: string;
  policies: string;
  /** Secret names given with --secrets (comma-separated, repeatable). */
  secrets: string[] | undefined;
  /** --secrets-file: `wrangler secret list --format json` output, a JSON object of secrets, or a dotenv file. */
  secretsFile: string | undefined;
}

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Flags that take a value (`--flag value` or `--flag=value`). */
const VALUE_FLAGS = new Set(["--env", "-e", "--config", "-c", "--policies", "--secrets", "--secrets-file"]);

/** Parses preflight's arguments; a string is a usage error to print (exit 2), `help` the usage (exit 0). */
export function parsePreflightArgs(argv: string[]): PreflightArgs | string | { help: string } {
  const args: PreflightArgs = {
    alerts: false,
    env: undefined,
    config: "wrangler.toml",
    policies: "policies",
    secrets: undefined,
    secretsFile: undefined,
  };
  let configGiven: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--help" || arg === "-h") return { help: PREFLIGHT_USAGE };
    if (arg === "--alerts") {
      args.alerts = true;
      continue;
    }
    const [flag, inline] =
      arg.startsWith("--") && arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
    if (!VALUE_FLAGS.has(flag))
      return `${arg.startsWith("-") ? `unknown option ${flag}` : `unexpected argument ${arg}`}\n${PREFLIGHT_USAGE}`;
    const value = inline ?? argv[++i];
    if (value === undefined || value === "") return `${flag} needs a value\n${PREFLIGHT_USAGE}`;
    if (flag === "--env" || flag === "-e") args.env = value;
    else if (flag === "--config" || flag === "-c") configGiven = args.config = value;
    else if (flag === "--policies") args.policies = value;
    else if (flag === "--secrets-file") args.secretsFile = value;
    else {
      const names = value
        .split(",")
        .map((name) => name.trim())
        .filter((name) => name !== "");
      if (!names.every((name) => SECRET_NAME.test(name)))
        return `--secrets takes names only (NAME,NAME), never values\n${PREFLIGHT_USAGE}`;
      args.secrets = [...(args.secrets ?? []), ...names];
    }
  }
  if (args.alerts && configGiven === undefined) args.config = ALERTS_CONFIG_FILE;
  return args;
}

export type PolicyInput = LoadedPolicy | { file: string; error: string };

export interface PreflightInput {
  /** The wrangler config file, as shown to the operator. */
  configFile: string;
  env: DeploymentEnv;
  /** The live policy (policies/index.ts), or why it could not be loaded. */
  policy: PolicyInput;
  /** policies/candidate.ts: undefined when there is none. */
  candidate: PolicyInput | undefined;
  /** Secret names set for the Worker, and where they came from; undefined: no source given. */
  secrets: { names: ReadonlySet<string>; source: string } | undefined;
}

const loaded = (input: PolicyInput | undefined) => (input === undefined || "error" in input ? undefined : input);

function unloadable(input: PolicyInput | undefined): Problem[] {
  return input !== undefined && "error" in input
    ? [{ code: "policy_unloadable", subject: input.file, message: `cannot be loaded: ${input.error}` }]
    : [];
}

/**
 * `preflight`: what the Worker would refuse at its first request (the broker's own checks), what makes wrangler refuse
 * the deploy, and the production-only rules (placeholder KV id, shared default audience, loopback URLs), from which an
 * environment whose issuers are all local (the sandbox) is exempt. Secrets by name only; never a value.
 */
export function runPreflight(input: PreflightInput): CliResult {
  const { env } = input;
  const present = input.secrets?.names;
  const broker = brokerProblems({
    env,
    secrets: present,
    policy: loaded(input.policy),
    candidate: loaded(input.candidate),
  });
  const problems = uniqueProblems([
    ...unloadable(input.policy),
    ...unloadable(input.candidate),
    ...deploymentProblems(env, { local: broker.local, webIdentity: broker.webIdentity }),
    ...broker.problems,
    ...declaredSecretProblems(env, SECRET_NAMES, present),
    ...movedAlertSettings(env, present),
  ]);
  const policies = [input.policy.file, ...(input.candidate === undefined ? [] : [input.candidate.file])].join(", ");
  const out = [
    `preflight: ${input.configFile} ${env.label}; ${policies}; ${input.secrets === undefined ? "no secret source" : `secret names from ${input.secrets.source}`}`,
  ];
  for (const problem of problems) out.push(`error ${problem.code} ${problem.subject}: ${problem.message}`);
  if (input.secrets === undefined) {
    const unchecked = [...new Set([...env.requiredSecrets, ...broker.unchecked])];
    out.push(
      `not checked: ${unchecked.length === 0 ? "secrets" : `the secrets ${unchecked.join(", ")}`} (no --secrets or --secrets-file; \`npx wrangler secret list --format json\` prints them for a deployed Worker)`,
    );
  }
  const scope = broker.local ? " (local issuers only: the production-only checks were skipped)" : "";
  out.push(
    problems.length === 0
      ? `preflight: ok, ${env.label}${scope}`
      : `preflight: ${problems.length} ${problems.length === 1 ? "problem" : "problems"} in ${env.label}${scope}: do not deploy`,
  );
  return { stdout: `${out.join("\n")}\n`, stderr: "", exitCode: problems.length === 0 ? 0 : 1 };
}
