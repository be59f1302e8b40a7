// Wires configuration, policy, caches and I/O into a Worker handler. Per-isolate state lives here:
// config, compiled policy and the JWKS memory cache are built once per env object, never per request.
import { createApp } from "./app.ts";
import { logSink } from "./audit/event.ts";
import { configFor } from "./config.ts";
import { realSleep, type Clock, type FetchFn, type LogFn, type RandomFn, type Sleep } from "./deps.ts";
import { BrokerError } from "./errors.ts";
import type { Admission, ExchangeDeps } from "./exchange.ts";
import { createJwksCache } from "./oidc/jwks-cache.ts";
import { compilePolicy, PolicyCompileError, type CompiledPolicy } from "./policy/compile.ts";
import type { PolicyDefinition } from "./policy/types.ts";

export interface BrokerOptions {
  policy: PolicyDefinition;
  fetch: FetchFn;
  now?: Clock;
  sleep?: Sleep;
  random?: RandomFn;
  log?: LogFn;
  /** Admission control; issue #3 replaces the default with the Durable Object. */
  admission?: (env: Env) => Admission;
}

const consoleLog: LogFn = (line) => console.log(JSON.stringify(line));

/** Until admission control lands (#3), every verified and allowed token is admitted. */
const admitAll: Admission = { admit: async () => undefined };

export function createBroker(options: BrokerOptions): ExportedHandler<Env> {
  const now = options.now ?? Date.now;
  const log = options.log ?? consoleLog;
  const perEnv = new WeakMap<object, ExchangeDeps>();
  let compiled: { issuerKey: string; policy: CompiledPolicy } | undefined;

  function policyFor(issuerIds: string[]): CompiledPolicy {
    const issuerKey = issuerIds.join(",");
    if (compiled?.issuerKey !== issuerKey) {
      try {
        compiled = { issuerKey, policy: compilePolicy(options.policy, { issuerIds }) };
      } catch (error) {
        const detail = error instanceof PolicyCompileError ? error.message : "policy failed to compile";
        throw new BrokerError("config_invalid", "policy_invalid", { cause: detail });
      }
    }
    return compiled.policy;
  }

  function depsFor(env: object): ExchangeDeps {
    let deps = perEnv.get(env);
    if (deps === undefined) {
      const config = configFor(env);
      const workerEnv = env as Env;
      deps = {
        config,
        policy: policyFor(config.issuers.map((issuer) => issuer.id)),
        jwks: createJwksCache({ kv: workerEnv.JWKS_CACHE, fetch: options.fetch, now }),
        admission: options.admission?.(workerEnv) ?? admitAll,
        audit: logSink(log),
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

  const app = createApp({ depsFor, log, newRequestId: () => crypto.randomUUID() });
  return { fetch: (request, env, ctx) => app.fetch(request, env, ctx) };
}
