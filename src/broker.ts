// Wires configuration, policy, caches and I/O into a Worker handler. Per-isolate state lives here:
// config, compiled policy and the JWKS memory cache are built once per env object, never per request.
import { createAddressLimit } from "./admission/address-limit.ts";
import { createDurableAdmission } from "./admission/durable-admission.ts";
import { locationHintFor } from "./admission/location-hint.ts";
import { createApp } from "./app.ts";
import { createAuditSink } from "./audit/sinks.ts";
import { configFor, configWarnings, type Config } from "./config.ts";
import { GITHUB_CALL_TIMEOUT_MS } from "./github/constants.ts";
import { createGitHubClient } from "./github/client.ts";
import { createGitHubContext } from "./github/context.ts";
import { checkGitHubSetup } from "./github/setup.ts";
import { tokenAppWarning } from "./github-tokens/setup.ts";
import { createTokenApp } from "./github-tokens/token-app.ts";
import type { Clock, FetchFn, LogFn, RandomFn, Sleep } from "./deps.ts";
import { realSleep } from "./http/deadline.ts";
import { BrokerError } from "./errors.ts";
import type { Admission } from "./admission/admission.ts";
import type { ExchangeDeps } from "./exchange/context.ts";
import { createJwksCache } from "./oidc/jwks-cache.ts";
import { deriveJwksIntegrityKey } from "./oidc/jwks-seal.ts";
import { compilePolicy, PolicyCompileError, type CompiledPolicy } from "./policy/compile.ts";
import { createKillSwitch } from "./policy/kill-switch.ts";
import type { PolicyDefinition } from "./policy/types.ts";
import { redactingLog } from "./audit/redact.ts";
import { createIdentityProvider } from "./idp/provider.ts";

export interface BrokerOptions {
  policy: PolicyDefinition;
  /** Shadow mode (var SHADOW_POLICY = "on"): decided beside `policy` on every request; differences are logged. */
  candidatePolicy?: PolicyDefinition;
  fetch: FetchFn;
  now?: Clock;
  sleep?: Sleep;
  random?: RandomFn;
  log?: LogFn;
  /** GitHub API limits (tests shorten them); defaults in src/github/constants.ts. */
  github?: { callTimeoutMs?: number; budgetMs?: number };
  /** Admission control for this env; default: the rate-limiting bindings and the AdmissionControl Durable Objects. */
  admission?: (env: Env, context: AdmissionContext) => Admission;
}

/** What an admission factory gets from the broker: its clock (sent to the objects), its log, the configured region. */
export interface AdmissionContext {
  now: Clock;
  log: LogFn;
  /** AWS_REGION: new admission objects are placed near it (src/admission/location-hint.ts). */
  awsRegion: string;
}

const consoleLog: LogFn = (line) => console.log(JSON.stringify(line));

/** What a compiled policy depends on in the configuration: the issuers' ids and kinds, and the STS mode. */
const issuerKeyOf = (issuers: Config["issuers"], stsAuth: Config["stsAuth"]) =>
  `${stsAuth};${issuers.map((issuer) => `${issuer.id}:${issuer.kind}`).join(",")}`;

/**
 * The secret the KV JWKS seal is derived from (deriveJwksIntegrityKey adds its own label): the broker's AWS secret
 * key in sigv4 mode; its current signing key in web-identity mode, where it holds no AWS key. Rotating that secret
 * changes the seal, so cached key sets are refetched once (docs/deployment.md, "Rotation").
 */
const jwksSealSecret = (config: Config) =>
  config.stsAuth === "sigv4" ? config.aws.secretAccessKey : config.webIdentity.signingKey;

/**
 * A policy compiled for the configured issuers, once per issuer set. A compile failure goes to `onFailure` (with the
 * PolicyCompileError message, when it is one), whose result is cached like a policy's, unless it throws.
 */
function compiledPerIssuerSet<F>(
  definition: PolicyDefinition,
  onFailure: (detail: string | undefined) => F,
): (issuers: Config["issuers"], stsAuth: Config["stsAuth"]) => CompiledPolicy | F {
  let cached: { issuerKey: string; result: CompiledPolicy | F } | undefined;
  return (issuers, stsAuth) => {
    const issuerKey = issuerKeyOf(issuers, stsAuth);
    if (cached?.issuerKey !== issuerKey) {
      let result: CompiledPolicy | F;
      try {
        result = compilePolicy(definition, { issuers, stsAuth });
      } catch (error) {
        result = onFailure(error instanceof PolicyCompileError ? error.message : undefined);
      }
      cached = { issuerKey, result };
    }
    return cached.result;
  };
}

/**
 * Production admission: the client-address limit on the rate-limiting bindings, single use and the repository's
 * budget on the AdmissionControl Durable Objects. A missing binding fails at call time, closed (503).
 */
export function productionAdmission(env: Env, context: AdmissionContext): Admission {
  const locationHint = locationHintFor(context.awsRegion);
  const placement = locationHint === undefined ? undefined : { locationHint };
  return {
    ...createDurableAdmission({ ...context, objectFor: (name) => env.ADMISSION.getByName(name, placement) }),
    limitAddress: createAddressLimit({ log: context.log, address: env.ADDRESS_LIMITER, network: env.NETWORK_LIMITER }),
  };
}

export function createBroker(options: BrokerOptions): ExportedHandler<Env> {
  const now = options.now ?? Date.now;
  // Every log line of the Worker passes the secret-shape check: the one place that keeps tokens and keys out of logs.
  const log = redactingLog(options.log ?? consoleLog);
  const perEnv = new WeakMap<object, ExchangeDeps>();
  // Compiled once per isolate (per issuer set), never per request; checked against the configured issuer kinds.
  const policyFor = compiledPerIssuerSet(options.policy, (detail) => {
    throw new BrokerError("config_invalid", "policy_invalid", { cause: detail ?? "policy failed to compile" });
  });
  // The shadow candidate: one that fails to compile is logged and skipped, never fatal.
  const candidateFor =
    options.candidatePolicy === undefined
      ? () => undefined
      : compiledPerIssuerSet(options.candidatePolicy, (detail) => {
          log({
            message: "policy_shadow_disabled",
            reason: "candidate_policy_invalid",
            detail: detail ?? "candidate failed to compile",
          });
          return undefined;
        });

  function depsFor(env: object): ExchangeDeps {
    let deps = perEnv.get(env);
    if (deps === undefined) {
      const config = configFor(env);
      // Once per isolate (deps are built once per env object): working but weaker settings (docs/security.md).
      for (const warning of configWarnings(config)) log({ message: "config_warning", ...warning });
      const workerEnv = env as Env;
      const policy = policyFor(config.issuers, config.stsAuth);
      checkGitHubSetup(policy, config);
      const tokenAppGap = tokenAppWarning(policy, config);
      if (tokenAppGap !== undefined) log(tokenAppGap);
      if (config.shadowPolicy === true && options.candidatePolicy === undefined)
        log({ message: "policy_shadow_disabled", reason: "candidate_policy_missing" });
      deps = {
        config,
        policy,
        shadowPolicy: config.shadowPolicy === true ? candidateFor(config.issuers, config.stsAuth) : undefined,
        // Kill-switch keys share the JWKS_CACHE namespace under their own prefix (docs/operations.md "Kill switch").
        killSwitch: createKillSwitch({ kv: workerEnv.JWKS_CACHE, now }),
        github:
          config.githubApp === undefined
            ? undefined
            : createGitHubContext({
                client: createGitHubClient({
                  app: config.githubApp,
                  fetch: options.fetch,
                  now,
                  log,
                  callTimeoutMs: options.github?.callTimeoutMs ?? GITHUB_CALL_TIMEOUT_MS,
                }),
                now,
                ...(config.githubFactCacheMs === undefined ? {} : { factCacheMs: config.githubFactCacheMs }),
                ...(options.github?.budgetMs === undefined ? {} : { budgetMs: options.github.budgetMs }),
              }),
        githubTokens:
          config.githubTokenApp === undefined
            ? undefined
            : createTokenApp({
                ...config.githubTokenApp,
                fetch: options.fetch,
                now,
                log,
                callTimeoutMs: options.github?.callTimeoutMs ?? GITHUB_CALL_TIMEOUT_MS,
                ...(options.github?.budgetMs === undefined ? {} : { budgetMs: options.github.budgetMs }),
              }),
        jwks: createJwksCache({
          kv: workerEnv.JWKS_CACHE,
          fetch: options.fetch,
          now,
          log,
          integrityKey: deriveJwksIntegrityKey(jwksSealSecret(config)),
        }),
        identityProvider:
          config.stsAuth === "web-identity" ? createIdentityProvider(config.webIdentity, { now }) : undefined,
        admission: (options.admission ?? productionAdmission)(workerEnv, { now, log, awsRegion: config.aws.region }),
        // The log line always; the Analytics Engine data point when the AUDIT binding exists (src/audit/sinks.ts).
        audit: createAuditSink({ log, dataset: workerEnv.AUDIT }),
        fetch: options.fetch,
        now,
        sleep: options.sleep ?? realSleep,
        random: options.random ?? Math.random,
        log,
      };
      perEnv.set(env, deps);
    }
    return deps;
  }

  const auditFor = (env: object) => createAuditSink({ log, dataset: (env as Env).AUDIT });
  const app = createApp({ depsFor, auditFor, log, newRequestId: () => crypto.randomUUID() });
  // Requests only: the alert cron is a Worker of its own (src/alerts/worker.ts, wrangler.alerts.toml).
  return { fetch: (request, env, ctx) => app.fetch(request, env, ctx) };
}
