// The token App's client (docs/github-tokens.md): the installation of a grant's owner (GET /orgs/{org}/installation,
// else /users/{user}/installation; remembered for GITHUB_INSTALLATION_CACHE_MS), then one installation token asked
// for exactly the grant's repositories and permissions, held against GitHub's answer. Tokens are never cached or
// reused: each exchange gets its own. An answer wider than asked is revoked and refused.
// I/O through the shared API call (src/github/api-call.ts) and the injected clock. Fails closed with BrokerErrors.
import { safeParse } from "zod/mini";
import { GITHUB_BUDGET_MS, GITHUB_CACHE_MAX_ENTRIES, GITHUB_INSTALLATION_CACHE_MS } from "../github/constants.ts";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../http/constants.ts";
import type { Clock, FetchFn, LogFn } from "../deps.ts";
import { BrokerError } from "../errors.ts";
import {
  createApiCall,
  createAppJwt,
  parseAnswer,
  unavailable,
  type CallContext,
  type GitHubAppCredentials,
} from "../github/api-call.ts";
import { createMemo } from "../github/memo.ts";
import { ErrorBodySchema, GrantedTokenSchema, InstallationSchema } from "../github/schemas.ts";
import type { GithubTokenGrant } from "../policy/github-tokens.ts";
import { accessTokenRequest, widerThanAsked } from "./scope.ts";

/** What the exchange answers with (docs/api.md, `POST /v1/github-token`). */
export interface MintedGithubToken {
  token: string;
  /** GitHub's `expires_at`, as it said it. */
  expiresAt: string;
  /** What GitHub granted (the grant's plus `metadata: read`). */
  permissions: Readonly<Record<string, string>>;
  /** The grant's repositories as `owner/name`. */
  repositories: string[];
  /** The REST base the token works against. */
  apiUrl: string;
}

/** One exchange's calls to the token App's API: how many, and the lowest rate limit left. */
export interface MintProgress {
  calls: number;
  rateRemaining: number | undefined;
}

export interface TokenApp {
  readonly apiUrl: string;
  /** A fresh installation token for `grant`; throws BrokerError (forbidden, upstream_unavailable, config_invalid). */
  mint(grant: GithubTokenGrant, progress: MintProgress): Promise<MintedGithubToken>;
}

export interface TokenAppOptions {
  app: GitHubAppCredentials;
  /** GITHUB_TOKEN_API_URL, no trailing slash. */
  apiUrl: string;
  fetch: FetchFn;
  now: Clock;
  log: LogFn;
  /** Timeout of one call (GITHUB_CALL_TIMEOUT_MS). */
  callTimeoutMs: number;
  /** All calls of one mint together (default GITHUB_BUDGET_MS). */
  budgetMs?: number;
}

/** An operator's setup, not the caller's doing: a config line in the log, `forbidden` on the wire. */
function refused(log: LogFn, reason: string, grant: GithubTokenGrant, status: number): BrokerError {
  log({ message: "config_invalid", reason, github_token: grant.name, owner: grant.owner, status });
  return new BrokerError("forbidden", reason);
}

/** The error for every access_tokens answer but 201: the App's setup (forbidden) or GitHub unavailable. */
function mintAnswerError(log: LogFn, status: number, body: unknown, grant: GithubTokenGrant): BrokerError | undefined {
  if (status === 401 || status === 404) return refused(log, "github_token_app_not_installed", grant, status);
  if (status === 403) {
    const message = safeParse(ErrorBodySchema, body).data?.message ?? "";
    return refused(
      log,
      /suspend/i.test(message) ? "github_token_app_suspended" : "github_token_app_refused",
      grant,
      403,
    );
  }
  // 422: a repository outside the installation, or a permission the App was not granted.
  if (status === 422) return refused(log, "github_token_app_scope_missing", grant, 422);
  if (status !== 201) return unavailable("github_api_unavailable", `HTTP ${status} from access_tokens`);
  return undefined;
}

export function createTokenApp(options: TokenAppOptions): TokenApp {
  const { apiUrl, now, log } = options;
  const jwt = createAppJwt(options.app, now, "github_token_app_key_invalid");
  const call = createApiCall({ fetch: options.fetch, now, callTimeoutMs: options.callTimeoutMs });
  const installations = createMemo<number>(now, GITHUB_CACHE_MAX_ENTRIES);
  const budgetMs = options.budgetMs ?? GITHUB_BUDGET_MS;

  async function installationId(context: CallContext, grant: GithubTokenGrant): Promise<number> {
    return installations.get(
      grant.owner.toLowerCase(),
      async () => {
        const owner = encodeURIComponent(grant.owner);
        // An organization's installation, else a user account's (GitHub: "Get an organization installation for the
        // authenticated app", "Get a user installation for the authenticated app").
        for (const path of [`/orgs/${owner}/installation`, `/users/${owner}/installation`]) {
          const answer = await call(context, apiUrl, `${apiUrl}${path}`, `Bearer ${await jwt()}`);
          if (answer.status === 200) return parseAnswer(InstallationSchema, answer.body, "installation").id;
          if (answer.status === 401)
            throw new BrokerError("config_invalid", "github_token_app_unauthorized", {
              cause: "GitHub refused the token App's JWT: check GITHUB_TOKEN_APP_ID and its key",
            });
          if (answer.status !== 404)
            throw unavailable("github_api_unavailable", `HTTP ${answer.status} from installation lookup`);
        }
        throw refused(log, "github_token_app_not_installed", grant, 404);
      },
      () => now() + GITHUB_INSTALLATION_CACHE_MS,
    );
  }

  /** DELETE /installation/token with the token itself; best effort (the token expires within the hour anyway). */
  async function revoke(token: string): Promise<boolean> {
    const context = { signal: AbortSignal.timeout(budgetMs), rateRemaining: undefined, calls: 0 };
    try {
      return (
        (await call(context, apiUrl, `${apiUrl}/installation/token`, `Bearer ${token}`, { method: "DELETE" }))
          .status === 204
      );
    } catch {
      return false;
    }
  }

  return {
    apiUrl,
    async mint(grant, progress) {
      const context: CallContext = { signal: AbortSignal.timeout(budgetMs), rateRemaining: undefined, calls: 0 };
      try {
        const installation = await installationId(context, grant);
        const asked = accessTokenRequest(grant);
        const answer = await call(
          context,
          apiUrl,
          `${apiUrl}/app/installations/${installation}/access_tokens`,
          `Bearer ${await jwt()}`,
          { method: "POST", body: JSON.stringify(asked) },
        );
        // Uninstalled since it was looked up: forget it, so the next exchange looks again.
        if (answer.status === 401 || answer.status === 404) installations.delete(grant.owner.toLowerCase());
        const refusal = mintAnswerError(log, answer.status, answer.body, grant);
        if (refusal !== undefined) throw refusal;
        const granted = parseAnswer(GrantedTokenSchema, answer.body, "access_tokens");
        const wider = widerThanAsked(asked, {
          permissions: granted.permissions,
          repositorySelection: granted.repository_selection,
          repositories: granted.repositories?.map((repo) => repo.name),
        });
        if (wider !== undefined) {
          // Never handed out: GitHub (or something between) gave more than the grant says. Revoked at once.
          const revoked = await revoke(granted.token);
          log({
            message: "github_token_too_wide",
            github_token: grant.name,
            owner: grant.owner,
            detail: wider,
            revoked,
          });
          throw new BrokerError("upstream_unavailable", "github_token_wider_than_asked", {
            retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS,
            cause: wider,
          });
        }
        return {
          token: granted.token,
          expiresAt: granted.expires_at,
          permissions: granted.permissions,
          repositories: grant.repositories.map((name) => `${grant.owner}/${name}`),
          apiUrl,
        };
      } finally {
        progress.calls += context.calls;
        progress.rateRemaining = context.rateRemaining;
      }
    },
  };
}
