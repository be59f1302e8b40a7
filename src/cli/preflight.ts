// `npm run preflight [-- --env NAME] [--secrets NAME,... | --secrets-file FILE]`: before a deploy, checks one wrangler
// environment, the operator's policies and the Worker's secret names (never their values) the way the Worker will at
// its first request (src/cli/preflight-run.ts). `--alerts`: the alert cron Worker's config instead
// (src/cli/preflight-alerts.ts). Exit 0 ok, 1 problems, 2 usage.
// I/O: wrangler's own config reader (so environment inheritance is wrangler's), the file system, the policies' import.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { experimental_readRawConfig, unstable_readConfig } from "wrangler";
import { deploymentEnvFrom, secretNamesFrom, type WranglerEnvironmentConfig } from "./deployment-env.ts";
import { finish, loadPolicy } from "./policy-files.ts";
import { runAlertPreflight } from "./preflight-alerts.ts";
import { parsePreflightArgs, PREFLIGHT_USAGE, runPreflight, type PolicyInput } from "./preflight-run.ts";

function usage(message: string): never {
  process.stderr.write(`preflight: ${message}\n`);
  process.exit(2);
}

async function policyInput(file: string): Promise<PolicyInput> {
  try {
    return await loadPolicy(file);
  } catch (error) {
    return { file, error: error instanceof Error ? (error.message.split("\n")[0] ?? error.name) : String(error) };
  }
}

const parsed = parsePreflightArgs(process.argv.slice(2));
if (typeof parsed === "string") usage(parsed);
if ("help" in parsed) {
  process.stdout.write(`${parsed.help}\n`);
  process.exit(0);
}
const args = parsed;
if (!existsSync(args.config))
  usage(`no ${args.config} here (run from the repository root, or give --config)\n${PREFLIGHT_USAGE}`);

let names: Set<string> | undefined;
const sources: string[] = [];
if (args.secrets !== undefined) {
  names = new Set(args.secrets);
  sources.push("--secrets");
}
if (args.secretsFile !== undefined) {
  if (!existsSync(args.secretsFile)) usage(`--secrets-file ${args.secretsFile} does not exist`);
  const fromFile = secretNamesFrom(readFileSync(args.secretsFile, "utf8"));
  if (typeof fromFile === "string") usage(`--secrets-file ${args.secretsFile}: ${fromFile}`);
  names = new Set([...(names ?? []), ...fromFile]);
  sources.push(args.secretsFile);
}

let config: WranglerEnvironmentConfig;
try {
  // An unknown environment is a usage error, not a problem of the deployment.
  const environments = Object.keys((experimental_readRawConfig({ config: args.config }).rawConfig.env ?? {}) as object);
  if (args.env !== undefined && !environments.includes(args.env)) {
    usage(
      `${args.config} has no [env.${args.env}] (environments: ${environments.length === 0 ? "none" : environments.join(", ")}; omit --env for the top level)`,
    );
  }
  config = unstable_readConfig({ config: args.config, ...(args.env === undefined ? {} : { env: args.env }) });
} catch (error) {
  // wrangler's own message (a TOML syntax error, a field it refuses): the file cannot be deployed either.
  process.stdout.write(
    `error wrangler_config_invalid ${args.config}: ${error instanceof Error ? error.message : String(error)}\npreflight: 1 problem: do not deploy\n`,
  );
  process.exit(1);
}

/** The dataset the request Worker's AUDIT binding writes (wrangler.toml, the same environment when it has one). */
function requestAudit(environment: string | undefined): { configFile: string; dataset: string } | undefined {
  const configFile = "wrangler.toml";
  if (!existsSync(configFile)) return undefined;
  try {
    const environments = Object.keys(
      (experimental_readRawConfig({ config: configFile }).rawConfig.env ?? {}) as object,
    );
    const env = environment !== undefined && environments.includes(environment) ? { env: environment } : {};
    const dataset = unstable_readConfig({ config: configFile, ...env }).analytics_engine_datasets.find(
      (binding: { binding: string }) => binding.binding === "AUDIT",
    )?.dataset;
    return dataset === undefined ? undefined : { configFile, dataset };
  } catch {
    // Its own preflight reports an unreadable wrangler.toml.
    return undefined;
  }
}

if (args.alerts) {
  finish(
    runAlertPreflight({
      configFile: args.config,
      env: deploymentEnvFrom(config, args.env),
      secrets: names === undefined ? undefined : { names, source: sources.join(" and ") },
      requestAudit: requestAudit(args.env),
    }),
  );
} else {
  const candidateFile = path.join(args.policies, "candidate.ts");
  finish(
    runPreflight({
      configFile: args.config,
      env: deploymentEnvFrom(config, args.env),
      policy: await policyInput(path.join(args.policies, "index.ts")),
      candidate: existsSync(candidateFile) ? await policyInput(candidateFile) : undefined,
      secrets: names === undefined ? undefined : { names, source: sources.join(" and ") },
    }),
  );
}
