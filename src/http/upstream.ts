// The one way the Worker calls an upstream (JWKS, STS, GitHub, the SQL API, the alert webhook): a per-call timeout
// raced against the work, the caller's total budget, redirects never followed by fetch (any 3xx is an error, but for a
// rule the caller opts into: ./upstream-redirect.ts), and a body read capped on the stream. I/O through the injected
// fetch and timer; every failure is an UpstreamError with a stable kind, which each caller maps in one place.
import type { FetchFn } from "../deps.ts";
import { withinMs, type StartTimer } from "./deadline.ts";
import { readTextCapped } from "./read-capped.ts";
import { UpstreamError } from "./upstream-errors.ts";
import type { RedirectRule } from "./upstream-redirect.ts";

export { UpstreamError, type UpstreamErrorKind } from "./upstream-errors.ts";

export interface UpstreamOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Bound of this call, fetch and body read together. */
  timeoutMs: number;
  /** The caller's total budget across calls or attempts (see startDeadline). */
  budget?: AbortSignal | undefined;
  /** Cap on the body read (bytes). */
  maxBytes: number;
  /** Statuses whose body is read; any other is `status` with the body discarded. Default: every non-3xx status. */
  accept?: (status: number) => boolean;
  /** Only the status matters: the body is discarded, never read. */
  discardBody?: boolean;
  /** A redirect this call may follow, once (GitHub's same-origin 301). Without it, every 3xx is `redirect`. */
  followOnce?: RedirectRule;
  startTimer?: StartTimer | undefined;
}

export interface UpstreamAnswer {
  status: number;
  headers: Headers;
  /** The body as UTF-8 text ("" when discarded). */
  text: string;
}

const isRedirect = (status: number) => status >= 300 && status <= 399;

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

/** One fetch, redirects handed back to us (`manual`), a rejection as `network`. */
async function send(
  fetchFn: FetchFn,
  target: Request | string,
  options: UpstreamOptions,
  signal: AbortSignal,
): Promise<Response> {
  try {
    if (typeof target !== "string") return await fetchFn(target, { signal, redirect: "manual" });
    return await fetchFn(target, {
      method: options.method ?? "GET",
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(options.body === undefined ? {} : { body: options.body }),
      signal,
      redirect: "manual",
    });
  } catch (error) {
    throw new UpstreamError("network", undefined, { cause: error });
  }
}

/** Send, follow at most one redirect the caller's rule allows, then read (or discard) the body. */
async function exchange(
  fetchFn: FetchFn,
  target: Request | string,
  options: UpstreamOptions,
  signal: AbortSignal,
): Promise<UpstreamAnswer> {
  let response = await send(fetchFn, target, options, signal);
  if (isRedirect(response.status)) {
    const from = typeof target === "string" ? target : target.url;
    const next = options.followOnce?.(response.status, response.headers.get("location"), from, options.method ?? "GET");
    await discard(response);
    if (next === undefined) throw new UpstreamError("redirect", response.status);
    response = await send(fetchFn, next, options, signal);
    // Never a second hop: a chain is not what the rule allows.
    if (isRedirect(response.status)) {
      await discard(response);
      throw new UpstreamError("redirect", response.status);
    }
  }
  if (options.accept !== undefined && !options.accept(response.status)) {
    await discard(response);
    throw new UpstreamError("status", response.status);
  }
  if (options.discardBody === true) {
    await discard(response);
    return { status: response.status, headers: response.headers, text: "" };
  }
  const read = await readTextCapped(response, options.maxBytes);
  if (!read.ok) throw new UpstreamError(read.failure, response.status);
  return { status: response.status, headers: response.headers, text: read.text };
}

/**
 * Calls an upstream: `target` is a URL (with options' method, headers and body) or a ready Request (a signed one).
 * Throws UpstreamError; returns the status, headers and capped text of any answer the caller accepts.
 */
export async function callUpstream(
  fetchFn: FetchFn,
  target: Request | string,
  options: UpstreamOptions,
): Promise<UpstreamAnswer> {
  const bounded = await withinMs(options.timeoutMs, (signal) => exchange(fetchFn, target, options, signal), {
    budget: options.budget,
    startTimer: options.startTimer,
  });
  if (!bounded.done) throw new UpstreamError(bounded.expiry);
  return bounded.value;
}
