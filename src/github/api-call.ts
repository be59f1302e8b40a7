// The one way the broker calls GitHub's REST API, for both of its Apps (facts and tokens): the App JWT, and each call
// with its timeout, the exchange's budget, a capped read, rate limits (remembered per API base) and 5xx handled.
// I/O through the injected fetch and clock. Fails closed: every failure is a BrokerError, never a partial answer.
import { safeParse, type ZodMiniType } from "zod/mini";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../http/constants.ts";
import {
  GITHUB_API_VERSION,
  GITHUB_APP_JWT_REFRESH_MARGIN_SECONDS,
  GITHUB_RATE_LIMIT_DEFAULT_RETRY_AFTER_SECONDS,
  GITHUB_RATE_LIMIT_MAX_RETRY_AFTER_SECONDS,
  MAX_GITHUB_RESPONSE_BYTES,
} from "./constants.ts";
import type { Clock, FetchFn } from "../deps.ts";
import { BrokerError, type BrokerReason } from "../errors.ts";
import type { StartTimer } from "../http/deadline.ts";
import { callUpstream, UpstreamError, type UpstreamAnswer } from "../http/upstream.ts";
import { movedPermanentlyWithin } from "../http/upstream-redirect.ts";
import { importAppKey, signAppJwt, type AppJwt } from "./app-key.ts";
import { ErrorBodySchema } from "./schemas.ts";

/** A GitHub App's identity: its numeric id and private key (PKCS#8 DER, see app-key.ts). */
export interface GitHubAppCredentials {
  appId: string;
  pkcs8: Uint8Array;
}

/** One exchange's view of the API: its budget's signal, and the lowest `x-ratelimit-remaining` it saw. */
export interface CallContext {
  /** Aborts when the exchange's GitHub budget is spent. */
  signal: AbortSignal;
  rateRemaining: number | undefined;
  /** API calls made by this exchange. */
  calls: number;
}

/** An answer whose status the caller handles (2xx, 401, 403, 404, 422); rate limits and 5xx never get here. */
export interface ApiAnswer {
  status: number;
  body: unknown;
  headers: Headers;
}

export function unavailable(reason: "github_api_unavailable", detail: string): BrokerError {
  return new BrokerError("upstream_unavailable", reason, {
    retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS,
    cause: detail,
  });
}

/** Parse or fail closed (the detail names the endpoint, never the body). */
export function parseAnswer<T>(schema: ZodMiniType<T>, body: unknown, endpoint: string): T {
  const parsed = safeParse(schema, body);
  if (!parsed.success) throw unavailable("github_api_unavailable", `unexpected response shape from ${endpoint}`);
  return parsed.data;
}

/**
 * Seconds GitHub asks us to wait, or undefined when the answer is not a rate limit (docs: "Rate limits for the REST
 * API").
 */
export function rateLimitWait(
  status: number,
  headers: Headers,
  message: string | undefined,
  nowMs: number,
): number | undefined {
  if (status !== 403 && status !== 429) return undefined;
  const retryAfter = headers.get("retry-after");
  const remaining = headers.get("x-ratelimit-remaining");
  const limited = status === 429 || retryAfter !== null || remaining === "0" || /rate limit/i.test(message ?? "");
  if (!limited) return undefined;
  let seconds = GITHUB_RATE_LIMIT_DEFAULT_RETRY_AFTER_SECONDS;
  if (retryAfter !== null && /^\d{1,9}$/.test(retryAfter)) seconds = Number(retryAfter);
  else if (remaining === "0") {
    const reset = Number(headers.get("x-ratelimit-reset"));
    if (Number.isFinite(reset) && reset > 0) seconds = Math.ceil(reset - nowMs / 1000);
  }
  return Math.min(GITHUB_RATE_LIMIT_MAX_RETRY_AFTER_SECONDS, Math.max(1, seconds));
}

/**
 * The App's JWT, signed once and reused until GITHUB_APP_JWT_REFRESH_MARGIN_SECONDS before it expires. A key that
 * cannot sign is `config_invalid` with `keyInvalidReason` (each App names its own secret).
 */
export function createAppJwt(
  app: GitHubAppCredentials,
  now: Clock,
  keyInvalidReason: BrokerReason,
): () => Promise<string> {
  let key: Promise<CryptoKey> | undefined;
  let appJwt: AppJwt | undefined;
  return async () => {
    const nowSeconds = Math.floor(now() / 1000);
    if (appJwt !== undefined && appJwt.expiresAt - nowSeconds > GITHUB_APP_JWT_REFRESH_MARGIN_SECONDS)
      return appJwt.jwt;
    key ??= importAppKey(app.pkcs8);
    try {
      appJwt = await signAppJwt(app.appId, await key, now());
    } catch {
      key = undefined;
      throw new BrokerError("config_invalid", keyInvalidReason);
    }
    return appJwt.jwt;
  };
}

export type ApiCall = (
  context: CallContext,
  apiUrl: string,
  url: string,
  authorization: string,
  init?: { method?: string; body?: string },
) => Promise<ApiAnswer>;

export interface ApiCallOptions {
  fetch: FetchFn;
  now: Clock;
  /** Timeout of one call. */
  callTimeoutMs: number;
  /** Starts the call's timer; default the real timer. Injected so a test expires a call without waiting. */
  startTimer?: StartTimer;
}

/** The outbound-request helper's failure as this client's error: the endpoint's path and the kind, never a body. */
function callFailure(error: unknown, endpoint: string): unknown {
  if (!(error instanceof UpstreamError)) return error;
  switch (error.kind) {
    case "timeout":
      return unavailable("github_api_unavailable", `timeout on ${endpoint}`);
    case "budget":
      return unavailable("github_api_unavailable", `budget spent on ${endpoint}`);
    case "status":
      return unavailable("github_api_unavailable", `HTTP ${error.status} from ${endpoint}`);
    case "redirect":
      return unavailable("github_api_unavailable", `${error.detail} refused from ${endpoint}`);
    case "network":
      return unavailable("github_api_unavailable", `network error on ${endpoint}`);
    default:
      return unavailable("github_api_unavailable", `unreadable body (${error.kind}) from ${endpoint}`);
  }
}

const parseJson = (text: string): unknown => {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * One HTTP call: timeout, budget, size cap, rate limits and 5xx handled here; other statuses returned. GitHub's 301
 * for a renamed or transferred repository is followed once on the same API (the repository-id check then decides);
 * any other redirect fails closed.
 */
export function createApiCall(options: ApiCallOptions): ApiCall {
  const { now } = options;
  /**
   * Per API base: no calls before this instant after GitHub rate-limited us (continuing risks the App being banned).
   */
  const blockedUntil = new Map<string, number>();
  return async (context, apiUrl, url, authorization, init = {}) => {
    const endpoint = new URL(url).pathname;
    const blocked = blockedUntil.get(apiUrl);
    if (blocked !== undefined && blocked > now()) {
      throw new BrokerError("upstream_unavailable", "github_api_rate_limited", {
        retryAfterSeconds: Math.ceil((blocked - now()) / 1000),
        cause: "rate limited earlier",
      });
    }
    if (context.signal.aborted) throw unavailable("github_api_unavailable", `budget spent before ${endpoint}`);
    context.calls += 1;
    let answer: UpstreamAnswer;
    try {
      answer = await callUpstream(options.fetch, url, {
        method: init.method ?? "GET",
        headers: {
          accept: "application/vnd.github+json",
          "x-github-api-version": GITHUB_API_VERSION,
          "user-agent": "ci-credential-broker",
          authorization,
          ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(init.body === undefined ? {} : { body: init.body }),
        timeoutMs: options.callTimeoutMs,
        budget: context.signal,
        maxBytes: MAX_GITHUB_RESPONSE_BYTES,
        accept: (status) => status < 500,
        followOnce: movedPermanentlyWithin(apiUrl),
        startTimer: options.startTimer,
      });
    } catch (error) {
      throw callFailure(error, endpoint);
    }
    const remaining = answer.headers.get("x-ratelimit-remaining");
    if (remaining !== null && /^\d+$/.test(remaining))
      context.rateRemaining = Math.min(context.rateRemaining ?? Infinity, Number(remaining));
    const body = parseJson(answer.text);
    const message = safeParse(ErrorBodySchema, body).data?.message;
    const wait = rateLimitWait(answer.status, answer.headers, message, now());
    if (wait !== undefined) {
      blockedUntil.set(apiUrl, now() + wait * 1000);
      throw new BrokerError("upstream_unavailable", "github_api_rate_limited", {
        retryAfterSeconds: wait,
        cause: `HTTP ${answer.status} from ${endpoint}`,
      });
    }
    // 204 (a revoked token) has no body.
    if (answer.status !== 204 && body === undefined)
      throw unavailable("github_api_unavailable", `unreadable body (not JSON) from ${endpoint}`);
    return { status: answer.status, body, headers: answer.headers };
  };
}
