// Which endpoint of the fake GitHub API (fake-github-api.ts) a request's method and path name, and how GitHub moves
// a repository's paths: a renamed or transferred repository's former name answers 301 Moved Permanently to
// `/repositories/{id}` (docs.github.com, "Best practices for using the REST API": follow redirects; "Get a
// repository": 301 Moved permanently), and `/repositories/{id}/...` reads as the repository's current path.
// Platform-neutral (workerd and Node).
import type { FakeRepository } from "./fake-github-apps.ts";
import { json } from "./fake-github-tokens.ts";
import type { Endpoint } from "./fake-github-types.ts";

const key = (name: string) => name.toLowerCase();

/** Where GitHub's redirect bodies point for an explanation. */
export const REDIRECT_DOCUMENTATION_URL =
  "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects";

/**
 * GitHub's answer for a repository's former name (`formerNames`: lower-case name -> id), when no repository has
 * taken the name since: 301, Location (and the body's `url`) on the same API at `/repositories/{id}` plus the rest
 * of the path and query, whatever the method.
 */
export function movedPermanently(
  repositories: ReadonlyMap<string, FakeRepository>,
  formerNames: ReadonlyMap<string, number>,
  url: URL,
  basePath: string,
): Response | undefined {
  const match = /^\/repos\/([^/]+\/[^/]+)(\/.*)?$/.exec(url.pathname.slice(basePath.length));
  if (match === null) return undefined;
  const former = key(decodeURIComponent(match[1] as string));
  const id = formerNames.get(former);
  if (id === undefined || repositories.has(former)) return undefined;
  const location = `${url.origin}${basePath}/repositories/${id}${match[2] ?? ""}${url.search}`;
  return json({ message: "Moved Permanently", url: location, documentation_url: REDIRECT_DOCUMENTATION_URL }, 301, {
    location,
  });
}

/** `/repositories/{id}/...` (where a 301 points) as the repository's current `/repos/{owner}/{name}/...`. */
export function pathById(repositories: ReadonlyMap<string, FakeRepository>, path: string): string {
  const match = /^\/repositories\/(\d+)(\/.*)?$/.exec(path);
  if (match === null) return path;
  const target = [...repositories.values()].find((candidate) => candidate.id === Number(match[1]));
  return target === undefined ? path : `/repos/${target.fullName}${match[2] ?? ""}`;
}

export function endpointOf(method: string, path: string): { endpoint: Endpoint; params: string[] } | undefined {
  const routes: Array<[string, RegExp, Endpoint]> = [
    ["GET", /^\/repos\/([^/]+\/[^/]+)\/installation$/, "installation"],
    ["GET", /^\/orgs\/([^/]+)\/installation$/, "org_installation"],
    ["GET", /^\/users\/([^/]+)\/installation$/, "user_installation"],
    ["POST", /^\/app\/installations\/(\d+)\/access_tokens$/, "access_tokens"],
    ["DELETE", /^\/installation\/token$/, "revoke_token"],
    ["GET", /^\/repos\/([^/]+\/[^/]+)\/commits\/([^/]+)\/check-runs$/, "check_runs"],
    ["GET", /^\/repos\/([^/]+\/[^/]+)\/commits\/([^/]+)\/pulls$/, "commit_pulls"],
    ["GET", /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)\/reviews$/, "reviews"],
    ["GET", /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)$/, "pull"],
    ["GET", /^\/repos\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)\/jobs$/, "jobs"],
    ["GET", /^\/repos\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)$/, "workflow_run"],
    ["GET", /^\/repos\/([^/]+\/[^/]+)\/actions\/runs$/, "workflow_runs"],
    ["GET", /^\/repos\/([^/]+\/[^/]+)\/collaborators\/([^/]+)\/permission$/, "collaborator_permission"],
    ["GET", /^\/repos\/([^/]+\/[^/]+)\/rules\/branches\/(.+)$/, "branch_rules"],
    ["GET", /^\/repos\/([^/]+\/[^/]+)$/, "repository"],
  ];
  for (const [routeMethod, pattern, endpoint] of routes) {
    const match = pattern.exec(path);
    if (match !== null && routeMethod === method) return { endpoint, params: match.slice(1).map(decodeURIComponent) };
  }
  return undefined;
}
