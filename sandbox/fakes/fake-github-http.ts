// HTTP details of the fake GitHub API, as docs.github.com REST documents them: Link pagination ("Using pagination in
// the REST API"), rate-limit headers and primary/secondary limits ("Rate limits for the REST API"), and the faults a
// test injects (5xx, a call that never answers, a body that is not JSON, a redirect).
import { REDIRECT_DOCUMENTATION_URL } from "./fake-github-paths.ts";
import { json } from "./fake-github-tokens.ts";
import type { GitHubFault } from "./fake-github-types.ts";

/** Requests an hour of an installation token (GitHub's primary limit for Apps on github.com). */
export const RATE_LIMIT = 5000;
/** GitHub's page size without `per_page`. */
const DEFAULT_PAGE_SIZE = 30;

export function rateLimitHeaders(nowMs: number, remaining: number): Record<string, string> {
  const reset = Math.floor(nowMs / 1000) + 3600;
  return {
    "x-ratelimit-limit": String(RATE_LIMIT),
    "x-ratelimit-remaining": String(Math.max(0, remaining)),
    "x-ratelimit-reset": String(reset),
    "x-ratelimit-used": String(RATE_LIMIT - remaining),
    "x-ratelimit-resource": "core",
  };
}

/** One page of `items` and its Link header (rel="next"/"last"), as GitHub paginates lists. */
export function page<T>(url: URL, items: T[], maxPageSize: number): { slice: T[]; link: Record<string, string> } {
  const perPage = Math.min(
    maxPageSize,
    Math.max(1, Number(url.searchParams.get("per_page") ?? String(DEFAULT_PAGE_SIZE)) || DEFAULT_PAGE_SIZE),
  );
  const pageNumber = Math.max(1, Number(url.searchParams.get("page") ?? "1") || 1);
  const slice = items.slice((pageNumber - 1) * perPage, pageNumber * perPage);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  if (pageNumber >= last) return { slice, link: {} };
  const next = new URL(url);
  next.searchParams.set("page", String(pageNumber + 1));
  const lastUrl = new URL(url);
  lastUrl.searchParams.set("page", String(last));
  return { slice, link: { link: `<${next.href}>; rel="next", <${lastUrl.href}>; rel="last"` } };
}

/** The answer of an injected fault. */
export function injected(current: GitHubFault, rateHeaders: Record<string, string>): Response | Promise<Response> {
  switch (current.kind) {
    case "status":
      return json({ message: "Server Error" }, current.status);
    case "hang":
      return new Promise<Response>(() => undefined);
    case "malformed":
      return new Response('{"id": 12, "check_runs": [', {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    case "redirect":
      // GitHub's redirect body; `location` is whatever the test says (another origin, another redirect, ...).
      return json(
        {
          message: current.status === 301 ? "Moved Permanently" : "Found",
          url: current.location,
          documentation_url: REDIRECT_DOCUMENTATION_URL,
        },
        current.status,
        { location: current.location },
      );
    case "rate_limited":
      if (current.secondary === true) {
        return json(
          { message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." },
          403,
          {
            ...rateHeaders,
            ...(current.retryAfterSeconds === undefined ? {} : { "retry-after": String(current.retryAfterSeconds) }),
          },
        );
      }
      return json({ message: "API rate limit exceeded for installation." }, 403, {
        ...rateHeaders,
        "x-ratelimit-remaining": "0",
      });
  }
}
