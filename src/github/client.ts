// The facts App's REST client (docs/github-facts.md): App JWT -> installation of a repository -> installation token
// for that one repository (./installations.ts) -> the few GET calls requirements need, with pagination.
// I/O through the injected fetch and clock. Fails closed: every failure is a BrokerError, never a partial answer.
import { GITHUB_MAX_PAGES } from "./constants.ts";
import type { Clock, FetchFn, LogFn } from "../deps.ts";
import { BrokerError } from "../errors.ts";
import type { StartTimer } from "../http/deadline.ts";
import {
  createApiCall,
  createAppJwt,
  unavailable,
  type ApiAnswer,
  type ApiCall,
  type CallContext,
  type GitHubAppCredentials,
} from "./api-call.ts";
import { createInstallations, type Installations, type RepositoryRef, type TokenPermissions } from "./installations.ts";

export {
  parseAnswer,
  rateLimitWait,
  unavailable,
  type ApiAnswer,
  type CallContext,
  type GitHubAppCredentials,
} from "./api-call.ts";
export {
  installationTokenKey,
  repositoryPath,
  type RepositoryRef,
  type TokenPermissions,
} from "./installations.ts";

/**
 * What each installation token of the facts App asks for, and so all it can do (docs/github-facts.md, "Create and
 * install the GitHub App"): read workflow runs and their jobs, check runs, pull requests and their reviews, and
 * repository metadata (collaborator permissions and branch rules need nothing more).
 */
export const GITHUB_TOKEN_PERMISSIONS: TokenPermissions = {
  actions: "read",
  checks: "read",
  pull_requests: "read",
  metadata: "read",
};

export interface GitHubClientOptions {
  app: GitHubAppCredentials;
  fetch: FetchFn;
  now: Clock;
  log: LogFn;
  /** Timeout of one call (default GITHUB_CALL_TIMEOUT_MS). */
  callTimeoutMs: number;
  /** What every installation token asks for (default GITHUB_TOKEN_PERMISSIONS, read-only). */
  permissions?: TokenPermissions;
  /** Starts each call's timer; default the real timer. Injected so a test expires a call without waiting. */
  startTimer?: StartTimer;
}

export interface GitHubClient {
  /** GET `path` (below the API base) with an installation token for the repository; 404/422 come back as answers. */
  get(context: CallContext, repo: RepositoryRef, path: string): Promise<ApiAnswer>;
  /**
   * GET every page of a list (Link rel="next", same origin, at most GITHUB_MAX_PAGES); `select` picks the items of a
   * page.
   */
  getPages(
    context: CallContext,
    repo: RepositoryRef,
    path: string,
    select: (body: unknown) => unknown[] | undefined,
  ): Promise<ApiAnswer & { items: unknown[] }>;
}

/** The URL of `rel="next"` in a Link header (RFC 8288), if any. */
export function nextLink(link: string | null): string | undefined {
  if (link === null) return undefined;
  for (const part of link.split(",")) {
    const match = /^\s*<([^>]+)>\s*;(.*)$/.exec(part);
    if (match !== null && /(?:^|;)\s*rel="?next"?\s*(?:;|$)/.test(match[2] as string)) return match[1];
  }
  return undefined;
}

/** What the client's calls share: the API call, the App's installations and its log. */
interface ClientState {
  call: ApiCall;
  installations: Installations;
  log: LogFn;
}

/** GET `path` with a token of `installation`; 200, 404 and 422 come back, every other status throws. */
async function getAs(
  state: ClientState,
  context: CallContext,
  repo: RepositoryRef,
  installation: number,
  path: string,
): Promise<ApiAnswer> {
  const token = await state.installations.token(context, repo, installation);
  const url = path.startsWith(repo.apiUrl) ? path : `${repo.apiUrl}${path}`;
  const answer = await state.call(context, repo.apiUrl, url, `Bearer ${token}`);
  if (answer.status === 401) {
    // Revoked or expired early: forget it so the next exchange mints a new one; this one fails closed.
    state.installations.forgetToken(repo, installation);
    throw unavailable("github_api_unavailable", `HTTP 401 from ${new URL(url).pathname}`);
  }
  if (answer.status === 403) {
    state.log({
      message: "config_invalid",
      reason: "github_app_permissions_missing",
      repository: `${repo.owner}/${repo.name}`,
      status: 403,
    });
    throw new BrokerError("forbidden", "github_app_permissions_missing");
  }
  if (answer.status !== 200 && answer.status !== 404 && answer.status !== 422)
    throw unavailable("github_api_unavailable", `HTTP ${answer.status} from ${new URL(url).pathname}`);
  return answer;
}

async function get(state: ClientState, context: CallContext, repo: RepositoryRef, path: string): Promise<ApiAnswer> {
  const installation = await state.installations.id(context, repo);
  const answer = await getAs(state, context, repo, installation, path);
  if (answer.status !== 404) return answer;
  // A 404 may only mean that the App was removed from this repository since its installation was looked up (a
  // token of the old installation sees nothing of it): look again before calling it missing. Not installed throws
  // github_app_not_installed with its config_invalid line; re-installed (a new installation id), ask once more.
  state.installations.forget(repo);
  const current = await state.installations.id(context, repo);
  return current === installation ? answer : await getAs(state, context, repo, current, path);
}

/** Every page of a list: Link rel="next" on the same origin only, at most GITHUB_MAX_PAGES. */
async function getPages(
  state: ClientState,
  context: CallContext,
  repo: RepositoryRef,
  path: string,
  select: (body: unknown) => unknown[] | undefined,
): Promise<ApiAnswer & { items: unknown[] }> {
  const items: unknown[] = [];
  let url: string | undefined = path;
  let first: ApiAnswer | undefined;
  for (let page = 0; url !== undefined; page += 1) {
    if (page === GITHUB_MAX_PAGES)
      throw unavailable("github_api_unavailable", `more than ${GITHUB_MAX_PAGES} pages from ${path}`);
    const answer = await get(state, context, repo, url);
    first ??= answer;
    if (answer.status !== 200) return { ...answer, items };
    const pageItems = select(answer.body);
    if (pageItems === undefined) throw unavailable("github_api_unavailable", `unexpected response shape from ${path}`);
    items.push(...pageItems);
    const next = nextLink(answer.headers.get("link"));
    // Never send the token anywhere but the configured API: a Link to another origin ends the walk, closed.
    if (next !== undefined && (!URL.canParse(next) || new URL(next).origin !== new URL(repo.apiUrl).origin)) {
      throw unavailable("github_api_unavailable", `Link to another origin from ${path}`);
    }
    url = next;
  }
  return { ...(first as ApiAnswer), items };
}

export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const { now, log } = options;
  const call = createApiCall({
    fetch: options.fetch,
    now,
    callTimeoutMs: options.callTimeoutMs,
    startTimer: options.startTimer,
  });
  const jwt = createAppJwt(options.app, now, "github_app_key_invalid");
  const permissions = options.permissions ?? GITHUB_TOKEN_PERMISSIONS;
  const state: ClientState = { call, log, installations: createInstallations({ call, jwt, now, log, permissions }) };
  return {
    get: (context, repo, path) => get(state, context, repo, path),
    getPages: (context, repo, path, select) => getPages(state, context, repo, path, select),
  };
}
