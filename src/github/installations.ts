// The facts App's installations: the installation of a repository (GET /repos/{owner}/{repo}/installation, remembered
// for GITHUB_INSTALLATION_CACHE_MS) and its installation token for that one repository with the client's permissions
// (cached per repository until GITHUB_TOKEN_REFRESH_MARGIN_MS before `expires_at`, single flight).
// I/O through the shared API call; the clock is injected. Fails closed: every failure is a BrokerError.
import { safeParse } from "zod/mini";
import { GITHUB_CACHE_MAX_ENTRIES, GITHUB_INSTALLATION_CACHE_MS, GITHUB_TOKEN_REFRESH_MARGIN_MS } from "./constants.ts";
import type { Clock, LogFn } from "../deps.ts";
import { BrokerError } from "../errors.ts";
import { parseAnswer, unavailable, type ApiCall, type CallContext } from "./api-call.ts";
import { createMemo, type Memo } from "./memo.ts";
import { AccessTokenSchema, ErrorBodySchema, InstallationSchema } from "./schemas.ts";

/** Repository permissions of an installation token: `{ checks: "read", ... }`. */
export type TokenPermissions = Readonly<Record<string, "read" | "write">>;

/** The repository an installation token reads, and the API it lives on. */
export interface RepositoryRef {
  apiUrl: string;
  owner: string;
  name: string;
  /**
   * The repository's id (the token's `repository_id` claim): the one repository each installation token is scoped to.
   */
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

const installationKey = (repo: RepositoryRef) => `${repo.apiUrl}|${repo.owner}/${repo.name}`.toLowerCase();

export interface InstallationsOptions {
  call: ApiCall;
  /** The App's JWT (createAppJwt). */
  jwt: () => Promise<string>;
  now: Clock;
  log: LogFn;
  permissions: TokenPermissions;
}

export interface Installations {
  /** The installation of the repository; `forget` first to look again. */
  id(context: CallContext, repo: RepositoryRef): Promise<number>;
  /** An installation token scoped to the repository (cached). */
  token(context: CallContext, repo: RepositoryRef, installation: number): Promise<string>;
  forget(repo: RepositoryRef): void;
  forgetToken(repo: RepositoryRef, installation: number): void;
}

interface State extends InstallationsOptions {
  installations: Memo<number>;
  tokens: Memo<{ token: string; expiresAtMs: number }>;
}

function notInstalled(log: LogFn, repo: RepositoryRef, status: number): BrokerError {
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

async function installationId(state: State, context: CallContext, repo: RepositoryRef): Promise<number> {
  const { call, jwt, now } = state;
  return state.installations.get(
    installationKey(repo),
    async () => {
      const path = `${repositoryPath(repo)}/installation`;
      const answer = await call(context, repo.apiUrl, `${repo.apiUrl}${path}`, `Bearer ${await jwt()}`);
      if (answer.status === 401 || answer.status === 404) throw notInstalled(state.log, repo, answer.status);
      if (answer.status !== 200)
        throw unavailable("github_api_unavailable", `HTTP ${answer.status} from installation lookup`);
      return parseAnswer(InstallationSchema, answer.body, "installation").id;
    },
    () => now() + GITHUB_INSTALLATION_CACHE_MS,
  );
}

async function installationToken(
  state: State,
  context: CallContext,
  repo: RepositoryRef,
  installation: number,
): Promise<string> {
  const { call, jwt, log, permissions } = state;
  const entry = await state.tokens.get(
    installationTokenKey(repo, installation, permissions),
    async () => {
      const url = `${repo.apiUrl}/app/installations/${installation}/access_tokens`;
      // Least privilege, whatever the App was granted: this one repository, these permissions (read-only for facts).
      const body = JSON.stringify({ repository_ids: [repo.id], permissions });
      const answer = await call(context, repo.apiUrl, url, `Bearer ${await jwt()}`, { method: "POST", body });
      if (answer.status === 401 || answer.status === 404) {
        state.installations.delete(installationKey(repo));
        throw notInstalled(log, repo, answer.status);
      }
      // 422 names either permissions the App lacks, or a repository id the installation cannot reach. The
      // installation was found by the repository's name, so its repository is not the token's: a renamed or
      // recycled name (what the repository check would find), never lent another repository's facts.
      const message = safeParse(ErrorBodySchema, answer.body).data?.message ?? "";
      if (answer.status === 422 && !/permission/i.test(message)) {
        state.installations.delete(installationKey(repo));
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

export function createInstallations(options: InstallationsOptions): Installations {
  const state: State = {
    ...options,
    installations: createMemo<number>(options.now, GITHUB_CACHE_MAX_ENTRIES),
    tokens: createMemo(options.now, GITHUB_CACHE_MAX_ENTRIES),
  };
  return {
    id: (context, repo) => installationId(state, context, repo),
    token: (context, repo, installation) => installationToken(state, context, repo, installation),
    forget: (repo) => state.installations.delete(installationKey(repo)),
    forgetToken: (repo, installation) =>
      state.tokens.delete(installationTokenKey(repo, installation, state.permissions)),
  };
}
