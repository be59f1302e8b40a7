// `npm run preflight`, the deployment's shape: what wrangler.toml must hold for the Worker to serve its first request,
// beyond what the broker's own configuration check decides (src/cli/preflight-broker.ts). Pure; no I/O; no clock.
import { isLoopbackHttp } from "../http/trusted-url.ts";
import type { PolicyErrorCode } from "../policy/compile-error.ts";
import type { DeploymentEnv } from "./deployment-env.ts";

/** Stable codes of preflight problems: tests and scripts key on them, never on the wording. */
export type PreflightCode =
  | PolicyErrorCode
  | "config_invalid"
  | "wrangler_config_invalid"
  | "secret_missing"
  | "secret_in_vars"
  | "github_app_missing"
  | "github_api_url_missing"
  | "github_token_app_missing"
  | "github_token_app_is_facts_app"
  | "policy_unloadable"
  | "candidate_policy_missing"
  | "candidate_policy_invalid"
  | "alert_config_invalid"
  | "alerts_incomplete"
  | "alert_setting_moved"
  | "cron_trigger_missing"
  | "audience_shared_default"
  | "placement_region_mismatch"
  | "kv_namespace_placeholder"
  | "binding_missing"
  | "loopback_url"
  | "audit_dataset_mismatch";

/** One problem: what is wrong (`code`), where (`subject`: the variable, secret, binding or rule) and what to do. */
export interface Problem {
  code: PreflightCode;
  subject: string;
  message: string;
}

/**
 * The bindings every request uses (src/broker.ts): the KV namespace (key sets, kill switch), the admission Durable
 * Object and the two rate-limiting bindings of the address limit. Bindings are not inherited by wrangler environments,
 * so an environment that omits one serves nothing. AUDIT is optional: without it the log line is still written.
 */
const REQUIRED_BINDINGS = [
  { kind: "kv_namespaces", name: "JWKS_CACHE" },
  { kind: "durable_objects.bindings", name: "ADMISSION" },
  { kind: "ratelimits", name: "ADDRESS_LIMITER" },
  { kind: "ratelimits", name: "NETWORK_LIMITER" },
] as const;

/** `wrangler.toml` ships this namespace id, to be replaced by the id `wrangler kv namespace create` prints. */
const PLACEHOLDER_KV_ID = /^0+$/;

function bindingNames(env: DeploymentEnv, kind: (typeof REQUIRED_BINDINGS)[number]["kind"]): ReadonlyArray<string> {
  if (kind === "kv_namespaces") return env.kvNamespaces.map((namespace) => namespace.binding);
  return kind === "ratelimits" ? env.rateLimits : env.durableObjects;
}

/** The command that sets a secret in this environment. */
export const secretPutCommand = (env: DeploymentEnv, name: string) =>
  `npx wrangler secret put ${name}${env.label.startsWith("env.") ? ` --env ${env.label.slice(4)}` : ""}`;

export const stringVar = (env: DeploymentEnv, name: string): string | undefined =>
  typeof env.vars[name] === "string" ? (env.vars[name] as string).trim() : undefined;

/** Bindings, placement, placeholder ids and URLs only a local process can reach. */
export function deploymentProblems(env: DeploymentEnv, options: { local: boolean; webIdentity: boolean }): Problem[] {
  const problems: Problem[] = [];
  for (const { kind, name } of REQUIRED_BINDINGS) {
    if (!bindingNames(env, kind).includes(name)) {
      const fix = env.label.startsWith("env.")
        ? `bindings are not inherited by environments: repeat the top-level [[${kind}]] block under [${env.label}]`
        : `add the [[${kind}]] block the shipped wrangler.toml has`;
      problems.push({
        code: "binding_missing",
        subject: `[[${kind}]] ${name}`,
        message: `${env.label} has no ${name} binding, which every request uses: ${fix}`,
      });
    }
  }

  // Placement is a hint to run next to the STS region the broker calls (docs/performance.md); another region adds a
  // hop.
  const region = stringVar(env, "AWS_REGION");
  if (
    env.placementRegion !== undefined &&
    region !== undefined &&
    region !== "" &&
    env.placementRegion !== `aws:${region}`
  ) {
    problems.push({
      code: "placement_region_mismatch",
      subject: "var AWS_REGION",
      message: `is "${region}" but [placement] region is "${env.placementRegion}": set region = "aws:${region}", or change both together`,
    });
  }

  if (!options.local) {
    problems.push(...placeholderKvProblems(env));
    // A deployed Worker cannot reach loopback: these URLs work in the sandbox only.
    const urls = options.webIdentity ? ["STS_ENDPOINT", "BROKER_ISSUER_URL"] : ["STS_ENDPOINT"];
    for (const name of urls) {
      const value = stringVar(env, name);
      if (value !== undefined && URL.canParse(value) && isLoopbackHttp(new URL(value))) {
        problems.push({
          code: "loopback_url",
          subject: `var ${name}`,
          message: `is a loopback URL, which only the sandbox can use: ${name === "STS_ENDPOINT" ? 'set it to "" (the regional endpoint)' : "set this Worker's public https origin"}`,
        });
      }
    }
  }
  return problems;
}

/** KV namespaces still on the id the shipped config holds (wrangler.toml, wrangler.alerts.toml). */
export function placeholderKvProblems(env: DeploymentEnv, configFlag = ""): Problem[] {
  return env.kvNamespaces
    .filter(({ id }) => id !== undefined && PLACEHOLDER_KV_ID.test(id))
    .map(({ binding, id }) => ({
      code: "kv_namespace_placeholder" as const,
      subject: `[[kv_namespaces]] ${binding}`,
      message: `id is the placeholder ${id}: put the id \`npx wrangler kv namespace create ${binding}${configFlag}\` prints`,
    }));
}

/**
 * Secrets against the names the deployment has (`present`; undefined when no secret source was given): each name in
 * `[secrets] required` (wrangler deploy refuses without it), and no secret kept in plain text under [vars].
 */
export function declaredSecretProblems(
  env: DeploymentEnv,
  secretNames: ReadonlyArray<string>,
  present: ReadonlySet<string> | undefined,
): Problem[] {
  const problems: Problem[] = [];
  for (const name of secretNames) {
    const value = stringVar(env, name);
    if (value !== undefined && value !== "")
      problems.push({
        code: "secret_in_vars",
        subject: `var ${name}`,
        message: `is a secret: remove it from wrangler.toml (and rotate it), then \`${secretPutCommand(env, name)}\``,
      });
  }
  if (present === undefined) return problems;
  for (const name of env.requiredSecrets) {
    if (!present.has(name))
      problems.push({
        code: "secret_missing",
        subject: `secret ${name}`,
        message: `is listed in [secrets] required but not set: \`${secretPutCommand(env, name)}\` (wrangler deploy refuses without it)`,
      });
  }
  return problems;
}

/**
 * A setting a Worker refuses, named (never its value): a secret to put again, or a var that is unset, empty or invalid.
 */
export function settingProblem(
  env: DeploymentEnv,
  path: string,
  refusal: {
    code: PreflightCode;
    isSecret: (name: string) => boolean;
    refusedBy: string;
    effect: string;
    docs: string;
  },
): Problem {
  const [name = path, ...rest] = path.split(".");
  const { code } = refusal;
  if (refusal.isSecret(name))
    return {
      code,
      subject: `secret ${name}`,
      message: `has a value ${refusal.refusedBy} refuses: put it again (${refusal.docs})`,
    };
  const value = env.vars[name];
  const what =
    value === undefined
      ? "is not set in this environment's [vars] (vars are not inherited by environments)"
      : typeof value === "string" && value.trim() === ""
        ? "is empty"
        : `is invalid${rest.length > 0 ? ` at ${rest.join(".")}` : ""}`;
  return { code, subject: `var ${name}`, message: `${what}: ${refusal.effect} (${refusal.docs})` };
}

/** A problem found twice is reported once, and a missing secret once (the first, most specific, reason). */
export function uniqueProblems(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = problem.subject.startsWith("secret ") ? problem.subject : `${problem.code} ${problem.subject}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
