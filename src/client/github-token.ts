// A GitHub installation token from the broker (POST /v1/github-token): the answer read strictly, the git host it is
// for, and its revocation (DELETE /installation/token). Platform-neutral; fetch and the clock are injected.
//
// The broker's answer (docs/api.md): 200 {"token", "expires_at", "permissions", "repositories", "api_url"}, where
// `repositories` are `owner/name` and `api_url` is the REST base the token works against (https://api.github.com,
// https://HOST/api/v3). Members beyond these five are ignored, so the broker may add some.
import type { FetchFn } from "../deps.ts";
import { parseStrictJson } from "../http/strict-json.ts";
import { isHttpsOrLoopback } from "../http/trusted-url.ts";
import type { AnswerSpec } from "./broker-answer.ts";
import {
  EXPIRATION_SLACK_MS,
  GITHUB_API_VERSION,
  GITHUB_REVOKE_TIMEOUT_MS,
  GITHUB_TOKEN_LIFETIME_MS,
  MAX_GITHUB_TOKEN_CHARS,
} from "./constants.ts";
import { ClientError } from "./errors.ts";
import type { ClientDeps } from "./client-deps.ts";
import { exchange } from "./exchange.ts";

export interface GithubToken {
  token: string;
  /** ISO 8601 UTC, as the broker sent it. */
  expiresAt: string;
  expiresAtMs: number;
  /** Permission -> level, as GitHub granted them. */
  permissions: Readonly<Record<string, string>>;
  /** `owner/name` of every repository the token reaches. */
  repositories: readonly string[];
  /** The REST API base, without a trailing slash. */
  apiUrl: string;
}

/**
 * Installation tokens: `ghs_` then 36 characters, or the stateless `ghs_<app id>_<JWT>` (base64url segments and dots).
 */
const TOKEN = new RegExp(`^ghs_[A-Za-z0-9_.-]{16,${MAX_GITHUB_TOKEN_CHARS - 4}}$`);
/** ISO 8601 UTC as GitHub writes it (seconds, optional fraction, Z). */
const EXPIRES_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const PERMISSION = /^[a-z][a-z_]{0,63}$/;
const LEVELS = new Set(["read", "write", "admin"]);
/** `owner/name` as GitHub spells logins and repository names. */
const FULL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,38}\/[A-Za-z0-9._-]{1,100}$/;
const MEMBERS = ["api_url", "expires_at", "permissions", "repositories", "token"] as const;

function notToken(detail: string, requestId: string | undefined): ClientError {
  return new ClientError(
    "not_credentials",
    `The broker answered 200 but the body is not a GitHub token answer (${detail}). Check that broker-url points at the broker itself, not a proxy or login page.`,
    requestId === undefined ? {} : { requestId },
  );
}

/** The REST base a token may be sent to: https (http only on a loopback address: the sandbox), nothing but a path. */
export function parseApiUrl(value: unknown): string | undefined {
  if (typeof value !== "string" || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  if (!isHttpsOrLoopback(url) || url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "")
    return undefined;
  return url.href.replace(/\/+$/, "");
}

/**
 * Parses and checks the broker's 200 body. Any deviation is `not_credentials`: nothing half-valid reaches an output.
 */
export function parseGithubToken(body: string, nowMs: number, requestId?: string): GithubToken {
  const parsed = parseStrictJson(body);
  if (!parsed.ok) throw notToken(parsed.reason === "json_duplicate_key" ? "duplicate member" : "not JSON", requestId);
  const record = parsed.value;
  if (typeof record !== "object" || record === null || Array.isArray(record))
    throw notToken("not a JSON object", requestId);
  const value = record as Record<string, unknown>;
  const missing = MEMBERS.filter((member) => !Object.hasOwn(value, member));
  if (missing.length > 0) throw notToken(`missing ${missing.join(", ")}`, requestId);
  const { token, expires_at: expiresAt, permissions, repositories } = value;
  if (typeof token !== "string" || !TOKEN.test(token))
    throw notToken("token is not a GitHub installation token (ghs_...)", requestId);
  if (typeof expiresAt !== "string" || !EXPIRES_AT.test(expiresAt)) throw notToken("expires_at malformed", requestId);
  const expiresAtMs = Date.parse(expiresAt);
  if (!Number.isFinite(expiresAtMs)) throw notToken("expires_at malformed", requestId);
  if (expiresAtMs <= nowMs) throw notToken("already expired: check the runner's clock", requestId);
  if (expiresAtMs > nowMs + GITHUB_TOKEN_LIFETIME_MS + EXPIRATION_SLACK_MS)
    throw notToken("expires_at beyond an installation token's hour", requestId);
  if (typeof permissions !== "object" || permissions === null || Array.isArray(permissions))
    throw notToken("permissions is not an object", requestId);
  const levels = Object.entries(permissions as Record<string, unknown>);
  if (
    levels.length === 0 ||
    !levels.every(([name, level]) => PERMISSION.test(name) && typeof level === "string" && LEVELS.has(level))
  ) {
    throw notToken("permissions malformed", requestId);
  }
  if (
    !Array.isArray(repositories) ||
    repositories.length === 0 ||
    !repositories.every((name): name is string => typeof name === "string" && FULL_NAME.test(name))
  ) {
    throw notToken("repositories malformed (owner/name expected)", requestId);
  }
  const apiUrl = parseApiUrl(value.api_url);
  if (apiUrl === undefined) throw notToken("api_url is not an https URL", requestId);
  return {
    token,
    expiresAt,
    expiresAtMs,
    permissions: Object.fromEntries(levels) as Record<string, string>,
    repositories: [...repositories],
    apiUrl,
  };
}

/** POST /v1/github-token: what its answers mean. */
export const GITHUB_TOKEN_ANSWER: AnswerSpec<GithubToken> = {
  parse: parseGithubToken,
  unavailable: "a dependency (the GitHub API or the OIDC issuer's keys) is unavailable",
  refused: "this repository, ref or event the GitHub token it asked for (check the grant name and the policy's rules)",
};

export interface FetchGithubTokenOptions {
  /** The broker's POST /v1/github-token URL (brokerEndpoint(url, "/v1/github-token")). */
  endpoint: URL;
  /** The grant's name in the broker's policy. */
  name: string;
  deadlineMs?: number;
}

/** One token for the grant, with the same retries as credentials (429 with Retry-After, 503, network errors). */
export async function fetchGithubToken(
  options: FetchGithubTokenOptions,
  deps: ClientDeps,
): Promise<{ token: GithubToken; requestId: string | undefined }> {
  const request = { endpoint: options.endpoint, body: { name: options.name }, answer: GITHUB_TOKEN_ANSWER };
  const exchanged = await exchange(
    options.deadlineMs === undefined ? request : { ...request, deadlineMs: options.deadlineMs },
    deps,
  );
  return { token: exchanged.value, requestId: exchanged.requestId };
}

/**
 * Where git reaches the API's repositories: `https://api.github.com` -> github.com, `https://api.SUB.ghe.com` ->
 * SUB.ghe.com, GHES `https://HOST/api/v3` -> HOST (with its port, as git sends `host`). Protocol as the API's.
 */
export function gitRemoteOf(apiUrl: string): { protocol: string; host: string } {
  const url = new URL(apiUrl);
  const protocol = url.protocol.slice(0, -1);
  if (url.hostname === "api.github.com") return { protocol, host: "github.com" };
  if (/^api\.[a-z0-9-]+\.ghe\.com$/.test(url.hostname)) return { protocol, host: url.host.slice("api.".length) };
  return { protocol, host: url.host };
}

/** A token's one line for a log: the owner's repositories and permissions, never the token. */
export function describeGithubToken(token: GithubToken): string {
  return `${token.repositories.join(", ")} (${Object.entries(token.permissions)
    .map(([name, level]) => `${name}: ${level}`)
    .join(", ")})`;
}

export type RevokeOutcome = "revoked" | "already_invalid" | { failed: string };

/**
 * Revokes an installation token with itself: `DELETE {api_url}/installation/token`, 204 when done
 * (https://docs.github.com/en/rest/apps/installations#revoke-an-installation-access-token). 401 means it no longer
 * works (expired or revoked before): nothing left to do.
 */
export async function revokeGithubToken(
  token: { token: string; apiUrl: string },
  fetch: FetchFn,
): Promise<RevokeOutcome> {
  let response: Response;
  try {
    response = await fetch(`${token.apiUrl}/installation/token`, {
      method: "DELETE",
      headers: {
        authorization: `Bearer ${token.token}`,
        accept: "application/vnd.github+json",
        "x-github-api-version": GITHUB_API_VERSION,
        "user-agent": "ci-credential-broker-client",
      },
      // Never followed: the token goes to api_url and nowhere else (a redirect is a failure).
      redirect: "manual",
      signal: AbortSignal.timeout(GITHUB_REVOKE_TIMEOUT_MS),
    });
  } catch (error) {
    return {
      failed:
        error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")
          ? "timed out"
          : "no answer",
    };
  }
  await response.body?.cancel();
  if (response.status === 204) return "revoked";
  if (response.status === 401) return "already_invalid";
  return { failed: `HTTP ${response.status}` };
}
