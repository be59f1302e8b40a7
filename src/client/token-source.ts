// Where OIDC tokens come from: the GitHub Actions token endpoint (a new token per call), an environment variable
// (GitLab `id_tokens`), or a file re-read on every call. I/O through injected functions only (fetch, env, readFile).
import type { FetchFn } from "../deps.ts";
import { CLIENT_TOKEN_TIMEOUT_MS, MAX_ID_TOKEN_BYTES } from "./constants.ts";
import { ClientError } from "./errors.ts";
import { readTextCapped } from "./read-capped.ts";

export interface TokenSource {
  /** Names the source in messages ("the GitHub Actions token endpoint", "environment variable X", "file P"). */
  readonly description: string;
  /** One OIDC token (a compact JWS). Throws ClientError `id_token_*`; `transient` ones may be retried. */
  mint(): Promise<string>;
  /**
   * True when every `mint` returns a token nobody has seen yet (GitHub's endpoint): a broker `token_reused` then means
   * replay.
   */
  readonly mintsFresh?: boolean;
}

/**
 * A compact JWS: three base64url segments (RFC 7515 §7.1). Checked before sending so junk fails here, not at the
 * broker.
 */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** A description as the start of a sentence. */
function sentence(description: string): string {
  return description.charAt(0).toUpperCase() + description.slice(1);
}

function checkShape(token: string, source: string): string {
  const trimmed = token.trim();
  if (trimmed === "") throw new ClientError("id_token_unavailable", `${sentence(source)} is empty.`);
  if (trimmed.length > MAX_ID_TOKEN_BYTES || !COMPACT_JWS.test(trimmed)) {
    throw new ClientError(
      "id_token_unavailable",
      `${sentence(source)} does not hold an OIDC token (a JWT of three dot-separated base64url parts).`,
    );
  }
  return trimmed;
}

export interface ActionsTokenOptions {
  /** ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN as the runner set them (undefined when absent). */
  requestUrl: string | undefined;
  requestToken: string | undefined;
  audience: string;
  fetch: FetchFn;
}

const PERMISSION_HELP = [
  "GitHub sets ACTIONS_ID_TOKEN_REQUEST_URL only for jobs allowed to request an OIDC token. Add to the workflow or the job:",
  "  permissions:",
  "    id-token: write",
  "    contents: read",
  "(Pull requests from forks never get one; a reusable workflow needs the permission in the caller too.)",
].join("\n");

/**
 * GitHub Actions: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=<aud> with `Authorization: bearer
 * $ACTIONS_ID_TOKEN_REQUEST_TOKEN`
 * answers {"value": "<jwt>"}, a new token each time (what @actions/core getIDToken does;
 * https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect).
 */
export function actionsTokenSource(options: ActionsTokenOptions): TokenSource {
  const { requestUrl, requestToken } = options;
  if (requestUrl === undefined || requestUrl === "" || requestToken === undefined || requestToken === "") {
    throw new ClientError("id_token_permission_missing", PERMISSION_HELP);
  }
  if (!URL.canParse(requestUrl))
    throw new ClientError("id_token_unavailable", "ACTIONS_ID_TOKEN_REQUEST_URL is not a URL.");
  // String concatenation as @actions/core does: the runner's URL already carries `?api-version=...`.
  const url = `${requestUrl}${requestUrl.includes("?") ? "&" : "?"}audience=${encodeURIComponent(options.audience)}`;
  const endpoint = "the GitHub Actions token endpoint";
  return {
    description: endpoint,
    mintsFresh: true,
    async mint() {
      let response: Response;
      try {
        response = await options.fetch(url, {
          method: "GET",
          headers: { authorization: `bearer ${requestToken}`, accept: "application/json" },
          signal: AbortSignal.timeout(CLIENT_TOKEN_TIMEOUT_MS),
        });
      } catch (cause) {
        throw new ClientError("id_token_unavailable", `${sentence(endpoint)} did not answer.`, {
          transient: true,
          cause,
        });
      }
      const text = await readTextCapped(response, MAX_ID_TOKEN_BYTES);
      if (!response.ok) {
        // 429 and 5xx are the runner service having a moment; anything else will not change on retry.
        const transient = response.status === 429 || response.status >= 500;
        throw new ClientError("id_token_unavailable", `${sentence(endpoint)} answered HTTP ${response.status}.`, {
          status: response.status,
          transient,
        });
      }
      let value: unknown;
      try {
        value = text === undefined ? undefined : (JSON.parse(text) as { value?: unknown }).value;
      } catch {
        value = undefined;
      }
      if (typeof value !== "string")
        throw new ClientError(
          "id_token_unavailable",
          `${sentence(endpoint)} answered without a token ({"value": ...} expected).`,
        );
      return checkShape(value, `The token from ${endpoint}`);
    },
  };
}

/**
 * A token in an environment variable, e.g. GitLab's `id_tokens: BROKER_ID_TOKEN: {aud: ...}`. GitLab mints it once per
 * job: the broker accepts it once (its jti is single-use), so one job gets one exchange from it.
 */
export function envTokenSource(name: string, getEnv: (name: string) => string | undefined): TokenSource {
  const description = `environment variable ${name}`;
  return {
    description,
    async mint() {
      const value = getEnv(name);
      if (value === undefined || value.trim() === "") {
        throw new ClientError(
          "id_token_unavailable",
          `${sentence(description)} is not set or empty. In GitLab CI declare it under the job's id_tokens (with aud: the broker's audience).`,
        );
      }
      return checkShape(value, description);
    },
  };
}

/** A token file, re-read on every call: whatever rotates the file (a CI agent, a projected volume) keeps it fresh. */
export function fileTokenSource(path: string, readFile: (path: string) => Promise<string>): TokenSource {
  const description = `token file ${path}`;
  return {
    description,
    async mint() {
      let text: string;
      try {
        text = await readFile(path);
      } catch (cause) {
        throw new ClientError("id_token_unavailable", `Could not read ${description}.`, { cause });
      }
      if (text.length > MAX_ID_TOKEN_BYTES)
        throw new ClientError(
          "id_token_unavailable",
          `${sentence(description)} is larger than ${MAX_ID_TOKEN_BYTES} bytes.`,
        );
      return checkShape(text, description);
    },
  };
}
