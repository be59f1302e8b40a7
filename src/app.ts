// Builds the hono app from injected dependencies: routes, request ids, not-found and the error handler.
// No module state: every call returns a fresh app, so each test gets its own.
import { HonoBase as Hono } from "hono/hono-base";
import type { Params, Result, Router } from "hono/router";
import { blankEvent, type AuditSink, type ExchangeKind } from "./audit/event.ts";
import type { ExchangeDeps } from "./exchange/context.ts";
import { exchangeCredentials } from "./exchange/exchange.ts";
import { exchangeGithubToken } from "./exchange/exchange-github-token.ts";
import { asBrokerError } from "./exchange/record.ts";
import type { LogFn } from "./deps.ts";
import { BrokerError } from "./errors.ts";
import { errorResponse, jsonResponse } from "./http/respond.ts";
import { WELL_KNOWN_PATHS, wellKnownResponse } from "./idp/routes.ts";

export interface AppOptions {
  /** Resolves the per-isolate dependencies for this env; throws `config_invalid` when the env is bad. */
  depsFor: (env: object) => ExchangeDeps;
  /** The audit sink for this env, usable even when the configuration is invalid (it needs no config). */
  auditFor: (env: object) => AuditSink;
  log: LogFn;
  newRequestId: () => string;
}

type AppEnv = { Bindings: object; Variables: { requestId: string } };

const NO_PARAMS: Params = Object.freeze({}) as Params;

/**
 * hono's router contract for what this app routes: fixed paths, plus the "/*" every `app.use` registers. Exact string
 * equality keeps paths strict ("/v1/credentials/" is not "/v1/credentials"); handlers come in registration order.
 * RegExpRouter did the same for ~1.3 KiB gzip more bundle (docs/performance.md). A path with a parameter or a
 * wildcard throws when the app is built, so a new kind of route cannot silently never match.
 */
export class StaticPathRouter<T> implements Router<T> {
  readonly name = "StaticPathRouter";
  readonly #routes: Array<[method: string, path: string, handler: T]> = [];

  add(method: string, path: string, handler: T): void {
    if (path !== "/*" && /[:*?{]/.test(path)) throw new Error(`StaticPathRouter: unsupported path ${path}`);
    this.#routes.push([method, path, handler]);
  }

  match(method: string, path: string): Result<T> {
    const matched: Array<[T, Params]> = [];
    for (const [routeMethod, routePath, handler] of this.#routes) {
      if ((routeMethod === method || routeMethod === "ALL") && (routePath === path || routePath === "/*"))
        matched.push([handler, NO_PARAMS]);
    }
    return [matched];
  }
}

function methodNotAllowed(requestId: string, allow: string): Response {
  return errorResponse(new BrokerError("method_not_allowed", "method_not_allowed"), requestId, { allow });
}

export function createApp(options: AppOptions): Hono<AppEnv> {
  // HonoBase with our static-path router (the default Hono adds three routers): the smaller bundle starts faster
  // (docs/performance.md). Strict paths: "/v1/credentials/" is not "/v1/credentials".
  const app = new Hono<AppEnv>({ router: new StaticPathRouter() });

  app.use(async (c, next) => {
    c.set("requestId", options.newRequestId());
    await next();
  });

  // Liveness only: says nothing about configuration, issuers or roles.
  app.on(["GET", "HEAD"], "/healthz", (c) => jsonResponse({ status: "ok" }, c.get("requestId")));
  app.all("/healthz", (c) => methodNotAllowed(c.get("requestId"), "GET, HEAD"));

  // Web-identity mode (src/idp/): the OpenID provider documents AWS fetches. 404 in sigv4 mode.
  for (const path of WELL_KNOWN_PATHS) {
    app.on(["GET", "HEAD"], path, (c) =>
      wellKnownResponse(path, () => options.depsFor(c.env).identityProvider, c.get("requestId")),
    );
    app.all(path, (c) => methodNotAllowed(c.get("requestId"), "GET, HEAD"));
  }

  /** An exchange route: its deps, or `config_invalid` answered and recorded when the env is bad. */
  const exchangeRoute =
    (kind: ExchangeKind, exchange: (request: Request, requestId: string, deps: ExchangeDeps) => Promise<Response>) =>
    async (c: { env: object; req: { raw: Request }; get(key: "requestId"): string }) => {
      const requestId = c.get("requestId");
      let deps: ExchangeDeps;
      try {
        deps = options.depsFor(c.env);
      } catch (thrown) {
        const error = asBrokerError(thrown);
        // What is wrong (variable names or the policy location, never values) goes to its own log line.
        options.log({
          message: "config_invalid",
          request_id: requestId,
          reason: error.reason,
          detail: error.cause === undefined ? undefined : String(error.cause),
        });
        const response = errorResponse(error, requestId);
        const event = {
          ...blankEvent(requestId, kind),
          code: error.code,
          reason: error.reason,
          status: response.status,
        };
        try {
          void Promise.resolve(options.auditFor(c.env).write(event)).catch(() => undefined);
        } catch {
          // Recording must never change the answer.
        }
        return response;
      }
      return exchange(c.req.raw, requestId, deps);
    };

  app.post("/v1/credentials", exchangeRoute("aws", exchangeCredentials));
  app.all("/v1/credentials", (c) => methodNotAllowed(c.get("requestId"), "POST"));
  // GitHub token grants (docs/github-tokens.md): same stages, a grant instead of a role, the token App instead of STS.
  app.post("/v1/github-token", exchangeRoute("github_token", exchangeGithubToken));
  app.all("/v1/github-token", (c) => methodNotAllowed(c.get("requestId"), "POST"));

  app.notFound((c) =>
    errorResponse(new BrokerError("not_found", "route_not_found"), c.get("requestId") ?? options.newRequestId()),
  );
  app.onError((thrown, c) => {
    const requestId = c.get("requestId") ?? options.newRequestId();
    const error = asBrokerError(thrown);
    options.log({
      message: "request_failed",
      request_id: requestId,
      code: error.code,
      reason: error.reason,
      error: thrown.name,
    });
    return errorResponse(error, requestId);
  });
  return app;
}
