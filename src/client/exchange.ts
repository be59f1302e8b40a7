// One exchange at the broker (POST /v1/credentials, POST /v1/github-token): mint a fresh OIDC token per attempt, POST, classify the answer,
// retry on 429/503/network errors only: at the broker's Retry-After plus bounded jitter for as long as the deadline
// allows (the broker's queue slot, docs/fleet-scale.md), else full-jitter backoff up to an attempt cap.
// Platform-neutral (WebCrypto, fetch types); every effect is injected: fetch, clock, sleep, random, token source, debug sink.
import type { Clock, FetchFn, RandomFn, Sleep } from "../deps.ts";
import {
  CLIENT_ATTEMPT_TIMEOUT_MS,
  CLIENT_BACKOFF_BASE_MS,
  CLIENT_BACKOFF_CAP_MS,
  CLIENT_DEADLINE_MS,
  CLIENT_MAX_ATTEMPTS,
  CLIENT_MIN_ATTEMPT_MS,
  CLIENT_RETRY_AFTER_JITTER_MS,
  CLIENT_RETRY_AFTER_MIN_MS,
  MAX_BROKER_RESPONSE_BYTES,
  TOKEN_HASH_PREFIX_HEX_CHARS,
} from "./constants.ts";
import {
  classifyAnswer,
  CREDENTIALS_ANSWER,
  requestIdLine,
  withRequestId,
  type AnswerSpec,
  type AttemptOutcome,
} from "./broker-answer.ts";
import type { Credentials } from "./credentials.ts";
import { ClientError } from "./errors.ts";
import { readTextCapped } from "./read-capped.ts";
import type { TokenSource } from "./token-source.ts";
import { sha256HexPrefix } from "../http/sha256-prefix.ts";
import { isHttpsOrLoopback } from "../http/trusted-url.ts";

export interface FetchCredentialsOptions {
  /** The broker's POST /v1/credentials URL (see credentialsEndpoint). */
  endpoint: URL;
  /** Role alias; undefined lets the policy pick the rule's only role. */
  role: string | undefined;
  durationSeconds: number | undefined;
  /** Total budget in ms, retries included. Default CLIENT_DEADLINE_MS. */
  deadlineMs?: number;
}

export interface ClientDeps {
  fetch: FetchFn;
  now: Clock;
  sleep: Sleep;
  random: RandomFn;
  tokens: TokenSource;
  /** Debug lines: attempts, statuses, request ids, delays, token hash prefixes. Never a token or a credential. */
  debug: (message: string) => void;
  /** Warnings a person should see (GitHub: a ::warning:: annotation), e.g. a token replayed. Never a token or a credential. */
  warn?: (message: string) => void;
  /** Sees each minted token before it is sent (the Action masks it). */
  onToken?: (token: string) => void;
}

export interface FetchedCredentials {
  credentials: Credentials;
  requestId: string | undefined;
  attempts: number;
}

/** The broker's routes a client calls. */
export type BrokerRoute = "/v1/credentials" | "/v1/github-token";
const ROUTES: readonly BrokerRoute[] = ["/v1/credentials", "/v1/github-token"];

/** https or loopback http (the local sandbox); the credentials route appended unless already there. */
export function credentialsEndpoint(brokerUrl: string): URL {
  return brokerEndpoint(brokerUrl, "/v1/credentials");
}

/** https or loopback http (the local sandbox); `route` appended to the base URL (one ending in either route counts as the base). */
export function brokerEndpoint(brokerUrl: string, route: BrokerRoute): URL {
  if (!URL.canParse(brokerUrl))
    throw new ClientError("usage", `broker-url is not a URL: ${JSON.stringify(brokerUrl.slice(0, 200))}.`);
  const url = new URL(brokerUrl);
  if (!isHttpsOrLoopback(url)) {
    throw new ClientError(
      "usage",
      "broker-url must use https (plain http only for a loopback address: the local sandbox).",
    );
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    throw new ClientError("usage", "broker-url must not carry credentials, a query or a fragment.");
  }
  // The URL is written into the credential_process line: nothing a shell or shlex would interpret may survive.
  if (/[$`'"\\()\s;&|<>*!{}]/.test(url.href)) {
    throw new ClientError("usage", "broker-url must not contain shell or quoting characters.");
  }
  const base = ROUTES.reduce(
    (path, known) => (path.endsWith(known) ? path.slice(0, -known.length) : path),
    url.pathname,
  );
  url.pathname = `${base.replace(/\/+$/, "")}${route}`;
  return url;
}

/** The wait on a broker's Retry-After: at least CLIENT_RETRY_AFTER_MIN_MS, plus jitter uniform in [0, CLIENT_RETRY_AFTER_JITTER_MS). Never earlier than asked. */
export function retryAfterDelayMs(retryAfterMs: number, random: RandomFn): number {
  return Math.max(CLIENT_RETRY_AFTER_MIN_MS, retryAfterMs) + Math.floor(random() * CLIENT_RETRY_AFTER_JITTER_MS);
}

/** Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))). */
export function backoffDelayMs(attempt: number, random: RandomFn): number {
  const ceiling = Math.min(CLIENT_BACKOFF_CAP_MS, CLIENT_BACKOFF_BASE_MS * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/** The SHA-256 prefix of a token, as the broker writes it to its audit event (src/audit/event.ts): correlates without revealing it. */
export async function tokenHashPrefix(token: string): Promise<string> {
  return sha256HexPrefix(token, TOKEN_HASH_PREFIX_HEX_CHARS);
}

/** Names a fetch failure without its message (which may quote a URL with a query): the error code or the error's name. */
function networkCause(error: unknown): string {
  if (error instanceof Error) {
    const code = (error.cause as { code?: unknown } | undefined)?.code;
    if (typeof code === "string" && /^[A-Z_]{2,40}$/.test(code)) return code;
    if (error.name === "TimeoutError" || error.name === "AbortError") return "timed out";
    return error.name;
  }
  return "unknown error";
}

function finalError(
  last: ClientError,
  attempts: number,
  elapsedMs: number,
  retryAfterMs: number | undefined,
  leftMs: number,
): ClientError {
  const tried = `Gave up after ${attempts} attempt${attempts === 1 ? "" : "s"} in ${(elapsedMs / 1000).toFixed(1)} s.`;
  let later = "";
  if (retryAfterMs !== undefined) {
    const wait = Math.ceil(retryAfterMs / 1000);
    const left = Math.max(0, Math.floor(leftMs / 1000));
    later =
      last.code === "rate_limited"
        ? ` The broker queued this job: a token for it in ${wait} s, but only ${left} s were left before this client's deadline. ` +
          "Allow a longer deadline (CLI --deadline), start fewer jobs of this repository at once, or raise the rule's rateLimit (docs/fleet-scale.md)."
        : ` The broker asked to wait ${wait} s, past this client's deadline (${left} s left); re-run the job then.`;
  }
  const ids = withRequestId(last.requestId);
  const status = last.status === undefined ? {} : { status: last.status };
  return new ClientError(last.code, `${last.message} ${tried}${later}`, { ...ids, ...status, cause: last.cause });
}

/** What a fresh token refused as already used means: someone else presented it first. One line, no token. */
async function replayWarning(token: string | undefined, requestId: string | undefined): Promise<string> {
  const hash = token === undefined ? "" : ` (sha256 ${await tokenHashPrefix(token)})`;
  const lookup =
    requestId === undefined
      ? ""
      : ` Request id ${requestId}: an operator can look it up with \`npm run analytics -- request ${requestId}\`.`;
  return (
    `The broker refused the OIDC token this job minted moments ago${hash} as already used, though this client sent it only once: ` +
    `something else presented it first (a proxy or tool replaying the request, or someone who obtained the token from this runner). ` +
    `Retrying once with a new token.${lookup}`
  );
}

/** Fetches credentials, retrying what is worth retrying. Throws ClientError for every failure a user can act on. */
export async function fetchCredentials(
  options: FetchCredentialsOptions,
  deps: ClientDeps,
): Promise<FetchedCredentials> {
  const body: Record<string, unknown> = {};
  if (options.role !== undefined) body.role = options.role;
  if (options.durationSeconds !== undefined) body.duration_seconds = options.durationSeconds;
  const exchanged = await exchange(
    { endpoint: options.endpoint, body, answer: CREDENTIALS_ANSWER, ...deadlineOf(options) },
    deps,
  );
  return { credentials: exchanged.value, requestId: exchanged.requestId, attempts: exchanged.attempts };
}

const deadlineOf = (options: { deadlineMs?: number }) =>
  options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs };

/** One exchange request: where, what JSON body (the OIDC token goes in the Authorization header), how to read a 200. */
export interface ExchangeRequest<T> {
  endpoint: URL;
  body: Record<string, unknown>;
  answer: AnswerSpec<T>;
  /** Total budget in ms, retries included. Default CLIENT_DEADLINE_MS. */
  deadlineMs?: number;
}

export interface Exchanged<T> {
  value: T;
  requestId: string | undefined;
  attempts: number;
}

/** One exchange, retrying what is worth retrying. Throws ClientError for every failure a user can act on. */
export async function exchange<T>(request: ExchangeRequest<T>, deps: ClientDeps): Promise<Exchanged<T>> {
  const started = deps.now();
  const deadline = started + (request.deadlineMs ?? CLIENT_DEADLINE_MS);
  const payload = JSON.stringify(request.body);
  let reuseRetried = false;
  let reusedToken: string | undefined;

  /** The last retryable failure and when it came: what a deadline reached while minting the next token reports. */
  let lastRetry: { error: ClientError; retryAfterMs: number | undefined; attempt: number } | undefined;

  /** One attempt: a new token, one POST, one outcome. A transient token-source failure is a retry outcome too. */
  async function attemptOnce(attempt: number): Promise<{ outcome: AttemptOutcome<T>; token: string | undefined }> {
    let token: string;
    try {
      token = await deps.tokens.mint();
    } catch (error) {
      if (!(error instanceof ClientError) || !error.transient) throw error;
      deps.debug(`attempt ${attempt}: ${error.message}`);
      return { outcome: { kind: "retry", error, retryAfterMs: undefined }, token: undefined };
    }
    if (reusedToken !== undefined && token === reusedToken) {
      throw new ClientError(
        "token_reused",
        `The broker had already accepted this token, and ${deps.tokens.description} gave the same one again. Each exchange needs a new token: ` +
          "in GitLab declare one id_tokens variable per exchange (or run the client once per job); a token file must be rewritten before each call.",
      );
    }
    // A slow token endpoint must not push the POST past the deadline: a request cut short by its timeout may still
    // be admitted by the broker, spending the token and the repository's budget for credentials nobody receives.
    if (deadline - deps.now() < CLIENT_MIN_ATTEMPT_MS) {
      // After a failed attempt the cause worth naming is that failure (the broker unreachable, say), not the slow mint.
      if (lastRetry !== undefined) {
        throw finalError(
          lastRetry.error,
          lastRetry.attempt,
          deps.now() - started,
          lastRetry.retryAfterMs,
          deadline - deps.now(),
        );
      }
      throw new ClientError(
        "id_token_unavailable",
        `Getting the OIDC token from ${deps.tokens.description} used up the time left before the deadline; the broker was not called.`,
      );
    }
    deps.onToken?.(token);
    deps.debug(
      `attempt ${attempt}: OIDC token from ${deps.tokens.description} (sha256 ${await tokenHashPrefix(token)}), POST ${request.endpoint.origin}${request.endpoint.pathname}`,
    );
    const timeoutMs = Math.max(1, Math.min(CLIENT_ATTEMPT_TIMEOUT_MS, deadline - deps.now()));
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const response = await deps.fetch(request.endpoint.href, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json" },
        body: payload,
        signal,
      });
      const text = await readTextCapped(response, MAX_BROKER_RESPONSE_BYTES);
      // A body cut short by the attempt timeout is no answer (retried), not a malformed one.
      if (text === undefined && signal.aborted) throw signal.reason;
      const outcome = classifyAnswer(response.status, response.headers, text, deps.now(), request.answer);
      const requestId =
        outcome.kind === "answer" || outcome.kind === "token_reused" ? outcome.requestId : outcome.error.requestId;
      const code =
        outcome.kind === "retry" || outcome.kind === "fail"
          ? ` ${outcome.error.code}`
          : outcome.kind === "token_reused"
            ? " token_reused"
            : "";
      deps.debug(`attempt ${attempt}: HTTP ${response.status}${code}, request id ${requestId ?? "none"}`);
      return { outcome, token };
    } catch (error) {
      deps.debug(`attempt ${attempt}: no answer (${networkCause(error)})`);
      const unreachable = new ClientError(
        "broker_unreachable",
        `Could not reach the broker at ${request.endpoint.origin} (${networkCause(error)}). Check broker-url and the runner's network egress.`,
        { cause: error },
      );
      return { outcome: { kind: "retry", error: unreachable, retryAfterMs: undefined }, token };
    }
  }

  /** Retries without a Retry-After: capped (full jitter may draw near-zero sleeps). With one, the deadline alone decides. */
  let unguided = 0;
  for (let attempt = 1; ; attempt++) {
    const { outcome, token } = await attemptOnce(attempt);
    if (outcome.kind === "answer") return { value: outcome.value, requestId: outcome.requestId, attempts: attempt };
    if (outcome.kind === "fail") throw outcome.error;
    if (outcome.kind === "token_reused") {
      if (reuseRetried) {
        throw new ClientError(
          "token_reused",
          `The broker refused two tokens in a row as already used.${requestIdLine(outcome.requestId)}`,
          withRequestId(outcome.requestId),
        );
      }
      // A token this source minted just now, sent once: a replay by someone else (the broker's replay alert counts these).
      if (deps.tokens.mintsFresh === true) deps.warn?.(await replayWarning(token, outcome.requestId));
      // The broker takes each token once; the retry must carry a new one. Mint and go again at once (once only).
      reuseRetried = true;
      reusedToken = token;
      continue;
    }
    lastRetry = { error: outcome.error, retryAfterMs: outcome.retryAfterMs, attempt };
    const elapsed = deps.now() - started;
    let delay: number;
    if (outcome.retryAfterMs !== undefined) {
      // Jitter only as far as the deadline allows: the wait itself is what the broker asked for.
      const room = deadline - deps.now() - CLIENT_MIN_ATTEMPT_MS;
      delay = Math.max(
        Math.max(CLIENT_RETRY_AFTER_MIN_MS, outcome.retryAfterMs),
        Math.min(room, retryAfterDelayMs(outcome.retryAfterMs, deps.random)),
      );
    } else {
      unguided += 1;
      if (unguided >= CLIENT_MAX_ATTEMPTS)
        throw finalError(outcome.error, attempt, elapsed, undefined, deadline - deps.now());
      delay = backoffDelayMs(unguided, deps.random);
    }
    // Never earlier than the broker asked (it would only be refused again), so a wait that does not fit ends here.
    if (deps.now() + delay + CLIENT_MIN_ATTEMPT_MS > deadline)
      throw finalError(outcome.error, attempt, elapsed, outcome.retryAfterMs, deadline - deps.now());
    deps.debug(
      `attempt ${attempt}: retrying in ${delay} ms${outcome.retryAfterMs === undefined ? "" : ` (Retry-After ${Math.ceil(outcome.retryAfterMs / 1000)} s plus jitter)`}`,
    );
    await deps.sleep(delay);
  }
}
