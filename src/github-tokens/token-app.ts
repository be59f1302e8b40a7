// The token App's client (docs/github-tokens.md): the installation of a grant's owner (GET /orgs/{org}/installation,
// else /users/{user}/installation; remembered for GITHUB_INSTALLATION_CACHE_MS), then one installation token asked
// for exactly the grant's repositories and permissions, held against GitHub's answer. Tokens are never cached or
// reused: each exchange gets its own. An answer wider than asked is revoked and refused.
// I/O through the shared API call (src/github/api-call.ts) and the injected clock. Fails closed with BrokerErrors.
import { safeParse } from "zod/mini";
import { GITHUB_BUDGET_MS, GITHUB_CACHE_MAX_ENTRIES, GITHUB_INSTALLATION_CACHE_MS } from "../github/constants.ts";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../http/constants.ts";
import type { Clock, FetchFn, LogFn } from "../deps.ts";
import { BrokerError, type BrokerReason } from "../errors.ts";
import { startDeadline, type StartTimer } from "../http/deadline.ts";
import {
  createApiCall,
  createAppJwt,
  parseAnswer,
  unavailable,
  type ApiCall,
  type CallContext,
  type GitHubAppCredentials,
} from "../github/api-call.ts";
import { createMemo, type Memo } from "../github/memo.ts";
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
  /** Starts call and budget timers; default the real timer. Injected so a test expires them without waiting. */
  startTimer?: StartTimer;
}

/** What every call of the token App shares. */
interface AppState {
  apiUrl: string;
  call: ApiCall;
  jwt: () => Promise<string>;
  now: Clock;
  log: LogFn;
  installations: Memo<number>;
  budgetMs: number;
  startTimer: StartTimer | undefined;
}

/** An operator's setup, not the caller's doing: a config line in the log, `forbidden` on the wire. */
function refused(state: AppState, reason: BrokerReason, grant: GithubTokenGrant, status: number): BrokerError {
  state.log({ message: "config_invalid", reason, github_token: grant.name, owner: grant.owner, status });
  return new BrokerError("forbidden", reason);
}

async function installationId(state: AppState, context: CallContext, grant: GithubTokenGrant): Promise<number> {
  const { apiUrl, call, jwt } = state;
  return state.installations.get(
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
      throw refused(state, "github_token_app_not_installed", grant, 404);
    },
    () => state.now() + GITHUB_INSTALLATION_CACHE_MS,
  );
}

/** DELETE /installation/token with the token itself; best effort (the token expires within the hour anyway). */
async function revoke(state: AppState, token: string): Promise<boolean> {
  const budget = startDeadline(state.budgetMs, { startTimer: state.startTimer });
  const context = { signal: budget.signal, rateRemaining: undefined, calls: 0 };
  try {
    const url = `${state.apiUrl}/installation/token`;
    return (await state.call(context, state.apiUrl, url, `Bearer ${token}`, { method: "DELETE" })).status === 204;
  } catch {
    return false;
  } finally {
    budget.cancel();
  }
}

/** POST access_tokens for exactly the grant's repositories and permissions; GitHub's refusals as BrokerErrors. */
async function askToken(state: AppState, context: CallContext, grant: GithubTokenGrant, installation: number) {
  const asked = accessTokenRequest(grant);
  const url = `${state.apiUrl}/app/installations/${installation}/access_tokens`;
  const answer = await state.call(context, state.apiUrl, url, `Bearer ${await state.jwt()}`, {
    method: "POST",
    body: JSON.stringify(asked),
  });
  if (answer.status === 401 || answer.status === 404) {
    // Uninstalled since it was looked up: forget it, so the next exchange looks again.
    state.installations.delete(grant.owner.toLowerCase());
    throw refused(state, "github_token_app_not_installed", grant, answer.status);
  }
  if (answer.status === 403) {
    const message = safeParse(ErrorBodySchema, answer.body).data?.message ?? "";
    const reason = /suspend/i.test(message) ? "github_token_app_suspended" : "github_token_app_refused";
    throw refused(state, reason, grant, 403);
  }
  // 422: a repository outside the installation, or a permission the App was not granted.
  if (answer.status === 422) throw refused(state, "github_token_app_scope_missing", grant, 422);
  if (answer.status !== 201) throw unavailable("github_api_unavailable", `HTTP ${answer.status} from access_tokens`);
  return { asked, granted: parseAnswer(GrantedTokenSchema, answer.body, "access_tokens") };
}

async function mint(state: AppState, grant: GithubTokenGrant, progress: MintProgress): Promise<MintedGithubToken> {
  const budget = startDeadline(state.budgetMs, { startTimer: state.startTimer });
  const context: CallContext = { signal: budget.signal, rateRemaining: undefined, calls: 0 };
  try {
    const { asked, granted } = await askToken(state, context, grant, await installationId(state, context, grant));
    const wider = widerThanAsked(asked, {
      permissions: granted.permissions,
      repositorySelection: granted.repository_selection,
      repositories: granted.repositories?.map((repo) => repo.name),
    });
    if (wider !== undefined) {
      // Never handed out: GitHub (or something between) gave more than the grant says. Revoked at once.
      const revoked = await revoke(state, granted.token);
      state.log({
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
      apiUrl: state.apiUrl,
    };
  } finally {
    budget.cancel();
    progress.calls += context.calls;
    progress.rateRemaining = context.rateRemaining;
  }
}

export function createTokenApp(options: TokenAppOptions): TokenApp {
  const { apiUrl, now, log, startTimer } = options;
  const state: AppState = {
    apiUrl,
    call: createApiCall({ fetch: options.fetch, now, callTimeoutMs: options.callTimeoutMs, startTimer }),
    jwt: createAppJwt(options.app, now, "github_token_app_key_invalid"),
    now,
    log,
    installations: createMemo<number>(now, GITHUB_CACHE_MAX_ENTRIES),
    budgetMs: options.budgetMs ?? GITHUB_BUDGET_MS,
    startTimer,
  };
  return { apiUrl, mint: (grant, progress) => mint(state, grant, progress) };
}
