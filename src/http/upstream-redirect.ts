// Redirect rules a caller of ./upstream.ts may opt into. Pure. The policy is that a redirect is an error; the one
// exception is GitHub's answer for a renamed or transferred repository: "301 Moved Permanently" with a Location on the
// same API (docs.github.com REST, "Best practices for using the REST API", follow redirects), followed once.

/** Decides whether a 3xx may be followed: the URL to follow, or undefined to refuse. */
export type RedirectRule = (
  status: number,
  location: string | null,
  from: string,
  method: string,
) => string | undefined;

/**
 * GitHub's moved repository: 301 only, GET only, to a URL on the same API base (scheme, host, port, and below the
 * base path: a GHES `/api/v3`), no credentials in it. 302, 307 and 308 are never GitHub's rename answer.
 */
export function movedPermanentlyWithin(apiBase: string): RedirectRule {
  const base = new URL(apiBase);
  const basePath = base.pathname.replace(/\/+$/, "");
  return (status, location, from, method) => {
    if (status !== 301 || method !== "GET" || location === null || !URL.canParse(location, from)) return undefined;
    const next = new URL(location, from);
    if (next.origin !== base.origin || next.username !== "" || next.password !== "") return undefined;
    if (!next.pathname.startsWith(`${basePath}/`)) return undefined;
    return next.href;
  };
}
