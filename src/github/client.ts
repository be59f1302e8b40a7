// The GitHub App's REST client (docs/github-facts.md): App JWT -> installation of a repository -> installation token
// for that one repository with the client's permissions (cached per repository until 5 minutes before `expires_at`,
// single flight) -> the few GET calls requirements need.
// I/O through the injected fetch and clock. Fails closed: every failure is a BrokerError, never a partial answer.
import { safeParse } from "zod/mini";
import {
  GITHUB_CACHE_MAX_ENTRIES,
  GITHUB_INSTALLATION_CACHE_MS,
  GITHUB_MAX_PAGES,
  GITHUB_TOKEN_REFRESH_MARGIN_MS,
} from "./constants.ts";
import type { Clock, FetchFn, LogFn } from "../deps.ts";
import { BrokerError } from "../errors.ts";
import {
  createApiCall,
  createAppJwt,
  parseAnswer,
  unavailable,
  type ApiAnswer,
  type CallContext,
  type GitHubAppCredentials,
} from "./api-call.ts";
import { createMemo } from "./memo.ts";
import { AccessTokenSchema, ErrorBodySchema, InstallationSchema } from "./schemas.ts";

export {
  parseAnswer,
  rateLimitWait,
  unavailable,
  type ApiAnswer,
  type CallContext,
  type GitHubAppCredentials,
} from "./api-call.ts";

/** Repository permissions of an installation token: `{ checks: "read", ... }`. */
export type TokenPermissions = Readonly<Record<string, "read" | "write">>;

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
}

/** The repository an installation token reads, and the API it lives on. */
export interface RepositoryRef {
  apiUrl: string;
  owner: string;
  name: string;
  /** The repository's id (the token's `repository_id` claim): the one repository each installation token is scoped to. */
  id: number;
}

/** `/repos/{owner}/{repo}`, each part encoded. */
export function repositoryPath(repo: RepositoryRef): string {
  return `/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.name)}`;
}

/**
 * The token cache's key: one token per (API, installation, repository, permissions), never shared between
 * repositories, so a token can never read a repository other than the one being judged.
 */
export function installationTokenKey(repo: RepositoryRef, installation: number, permissions: TokenPermissions): string {
  const scope = Object.entries(permissions)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, level]) => `${name}:${level}`)
    .join(",");
  return `${repo.apiUrl}|installation ${installation}|repository ${repo.id}|${scope}`;
}

export interface GitHubClient {
  /** GET `path` (below the API base) with an installation token for the repository; 404/422 come back as answers. */
  get(context: CallContext, repo: RepositoryRef, path: string): Promise<ApiAnswer>;
  /** GET every page of a list (Link rel="next", same origin, at most GITHUB_MAX_PAGES); `select` picks the items of a page. */
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

export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const { now, log } = options;
  const permissions = options.permissions ?? GITHUB_TOKEN_PERMISSIONS;
  const jwt = createAppJwt(options.app, now, "github_app_key_invalid");
  const call = createApiCall({ fetch: options.fetch, now, callTimeoutMs: options.callTimeoutMs });
  const installations = createMemo<number>(now, GITHUB_CACHE_MAX_ENTRIES);
  const tokens = createMemo<{ token: string; expiresAtMs: number }>(now, GITHUB_CACHE_MAX_ENTRIES);

  function notInstalled(repo: RepositoryRef, status: number): BrokerError {
    // An operator's mistake, not the caller's: the App must be installed on every repository whose rules require facts.
    log({
      message: "config_invalid",
      reason: "github_app_not_installed",
      repository: `${repo.owner}/${repo.name}`,
      repository_id: repo.id,
      status,
    });
    return new BrokerError("forbidden", "github_app_not_installed");
  }

  const installationKey = (repo: RepositoryRef) => `${repo.apiUrl}|${repo.owner}/${repo.name}`.toLowerCase();

  async function installationId(context: CallContext, repo: RepositoryRef): Promise<number> {
    return installations.get(
      installationKey(repo),
      async () => {
        const path = `${repositoryPath(repo)}/installation`;
        const answer = await call(context, repo.apiUrl, `${repo.apiUrl}${path}`, `Bearer ${await jwt()}`);
        if (answer.status === 401 || answer.status === 404) throw notInstalled(repo, answer.status);
        if (answer.status !== 200)
          throw unavailable("github_api_unavailable", `HTTP ${answer.status} from installation lookup`);
        return parseAnswer(InstallationSchema, answer.body, "installation").id;
      },
      () => now() + GITHUB_INSTALLATION_CACHE_MS,
    );
  }

  async function installationToken(context: CallContext, repo: RepositoryRef, installation: number): Promise<string> {
    const entry = await tokens.get(
      installationTokenKey(repo, installation, permissions),
      async () => {
        const url = `${repo.apiUrl}/app/installations/${installation}/access_tokens`;
        // Least privilege, whatever the App was granted: this one repository, these permissions (read-only for facts).
        const body = JSON.stringify({ repository_ids: [repo.id], permissions });
        const answer = await call(context, repo.apiUrl, url, `Bearer ${await jwt()}`, { method: "POST", body });
        if (answer.status === 401 || answer.status === 404) {
          installations.delete(installationKey(repo));
          throw notInstalled(repo, answer.status);
        }
        // 422 names either permissions the App lacks, or a repository id the installation cannot reach. The
        // installation was found by the repository's name, so its repository is not the token's: a renamed or
        // recycled name (what the repository check would find), never lent another repository's facts.
        const message = safeParse(ErrorBodySchema, answer.body).data?.message ?? "";
        if (answer.status === 422 && !/permission/i.test(message)) {
          installations.delete(installationKey(repo));
          throw new BrokerError("forbidden", "context_repository_mismatch", {
            cause: `the installation of ${repo.owner}/${repo.name} cannot reach repository id ${repo.id}`,
          });
        }
        if (answer.status === 403 || answer.status === 422) {
          log({
            message: "config_invalid",
            reason: "github_app_permissions_missing",
            repository: `${repo.owner}/${repo.name}`,
            status: answer.status,
          });
          throw new BrokerError("forbidden", "github_app_permissions_missing");
        }
        if (answer.status !== 201)
          throw unavailable("github_api_unavailable", `HTTP ${answer.status} from access_tokens`);
        const parsed = parseAnswer(AccessTokenSchema, answer.body, "access_tokens");
        return { token: parsed.token, expiresAtMs: Date.parse(parsed.expires_at) };
      },
      (value) => value.expiresAtMs - GITHUB_TOKEN_REFRESH_MARGIN_MS,
    );
    return entry.token;
  }

  async function get(context: CallContext, repo: RepositoryRef, path: string): Promise<ApiAnswer> {
    const installation = await installationId(context, repo);
    const answer = await getAs(context, repo, installation, path);
    if (answer.status !== 404) return answer;
    // A 404 may only mean that the App was removed from this repository since its installation was looked up (a
    // token of the old installation sees nothing of it): look again before calling it missing. Not installed throws
    // github_app_not_installed with its config_invalid line; re-installed (a new installation id), ask once more.
    installations.delete(installationKey(repo));
    const current = await installationId(context, repo);
    return current === installation ? answer : await getAs(context, repo, current, path);
  }

  /** GET `path` with a token of `installation`; 200, 404 and 422 come back, every other status throws. */
  async function getAs(
    context: CallContext,
    repo: RepositoryRef,
    installation: number,
    path: string,
  ): Promise<ApiAnswer> {
    const token = await installationToken(context, repo, installation);
    const url = path.startsWith(repo.apiUrl) ? path : `${repo.apiUrl}${path}`;
    const answer = await call(context, repo.apiUrl, url, `Bearer ${token}`);
    if (answer.status === 401) {
      // Revoked or expired early: forget it so the next exchange mints a new one; this one fails closed.
      tokens.delete(installationTokenKey(repo, installation, permissions));
      throw unavailable("github_api_unavailable", `HTTP 401 from ${new URL(url).pathname}`);
    }
    if (answer.status === 403) {
      log({
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

  return {
    get,
    async getPages(context, repo, path, select) {
      const items: unknown[] = [];
      let url: string | undefined = path;
      let first: ApiAnswer | undefined;
      for (let page = 0; url !== undefined; page += 1) {
        if (page === GITHUB_MAX_PAGES)
          throw unavailable("github_api_unavailable", `more than ${GITHUB_MAX_PAGES} pages from ${path}`);
        const answer = await get(context, repo, url);
        first ??= answer;
        if (answer.status !== 200) return { ...answer, items };
        const pageItems = select(answer.body);
        if (pageItems === undefined)
          throw unavailable("github_api_unavailable", `unexpected response shape from ${path}`);
        items.push(...pageItems);
        const next = nextLink(answer.headers.get("link"));
        // Never send the token anywhere but the configured API: a Link to another origin ends the walk, closed.
        if (next !== undefined && (!URL.canParse(next) || new URL(next).origin !== new URL(repo.apiUrl).origin)) {
          throw unavailable("github_api_unavailable", `Link to another origin from ${path}`);
        }
        url = next;
      }
      return { ...(first as ApiAnswer), items };
    },
  };
}
