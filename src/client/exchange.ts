// One credential fetch from the broker: mint a fresh OIDC token per attempt, POST /v1/credentials, classify the answer,
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
import { parseCredentials, type Credentials } from "./credentials.ts";
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

/** What one broker answer means for the loop. */
export type AttemptOutcome =
  | { kind: "credentials"; credentials: Credentials; requestId: string | undefined }
  | { kind: "retry"; error: ClientError; retryAfterMs: number | undefined }
  | { kind: "token_reused"; requestId: string | undefined }
  | { kind: "fail"; error: ClientError };

/** The broker's error body (src/errors.ts errorBody): {error, message, request_id}. */
interface BrokerErrorBody {
  error: string;
  requestId: string | undefined;
}

/** Request ids are UUIDs; anything else is not echoed into a log (it could carry a forged line). */
const REQUEST_ID = /^[A-Za-z0-9-]{1,128}$/;
const ERROR_CODE = /^[a-z][a-z_]{0,63}$/;

/** https or loopback http (the local sandbox); the credentials route appended unless already there. */
export function credentialsEndpoint(brokerUrl: string): URL {
  if (!URL.canParse(brokerUrl)) throw new ClientError("usage", `broker-url is not a URL: ${JSON.stringify(brokerUrl.slice(0, 200))}.`);
  const url = new URL(brokerUrl);
  if (!isHttpsOrLoopback(url)) {
    throw new ClientError("usage", "broker-url must use https (plain http only for a loopback address: the local sandbox).");
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    throw new ClientError("usage", "broker-url must not carry credentials, a query or a fragment.");
  }
  // The URL is written into the credential_process line: nothing a shell or shlex would interpret may survive.
  if (/[$`'"\\()\s;&|<>*!{}]/.test(url.href)) {
    throw new ClientError("usage", "broker-url must not contain shell or quoting characters.");
  }
  if (url.pathname.endsWith("/v1/credentials")) return url;
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/credentials`;
  return url;
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (!Number.isFinite(date)) return undefined;
  return Math.max(0, date - nowMs);
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

function brokerErrorBody(text: string | undefined): BrokerErrorBody | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const { error, request_id: requestId } = value as Record<string, unknown>;
  if (typeof error !== "string" || !ERROR_CODE.test(error)) return undefined;
  return { error, requestId: typeof requestId === "string" && REQUEST_ID.test(requestId) ? requestId : undefined };
}

function withRequestId(requestId: string | undefined): { requestId?: string } {
  return requestId === undefined ? {} : { requestId };
}

function requestIdLine(requestId: string | undefined): string {
  return requestId === undefined ? "" : ` Request id: ${requestId}.`;
}

/** Classifies one broker answer. Pure; `nowMs` is for the Expiration and Retry-After checks. */
export function classifyAnswer(status: number, headers: Headers, text: string | undefined, nowMs: number): AttemptOutcome {
  const body = status === 200 ? undefined : brokerErrorBody(text);
  const headerId = headers.get("x-request-id");
  const requestId = body?.requestId ?? (headerId !== null && REQUEST_ID.test(headerId) ? headerId : undefined);
  const ids = withRequestId(requestId);
  if (status === 200) {
    if (text === undefined) return { kind: "fail", error: new ClientError("not_credentials", "The broker's answer is larger than expected or not UTF-8.", ids) };
    try {
      return { kind: "credentials", credentials: parseCredentials(text, nowMs, requestId), requestId };
    } catch (error) {
      if (error instanceof ClientError) return { kind: "fail", error };
      throw error;
    }
  }
  const retryAfterMs = parseRetryAfter(headers.get("retry-after"), nowMs);
  if (status === 429) {
    return {
      kind: "retry",
      retryAfterMs,
      error: new ClientError(
        "rate_limited",
        `The broker answered 429: this repository asked for credentials too often (the policy rule's rate).${requestIdLine(requestId)}`,
        { ...ids, status },
      ),
    };
  }
  if (status === 503) {
    return {
      kind: "retry",
      retryAfterMs,
      error: new ClientError(
        "broker_unavailable",
        `The broker answered 503: a dependency (AWS STS or the OIDC issuer's keys) is unavailable.${requestIdLine(requestId)}`,
        { ...ids, status },
      ),
    };
  }
  if (body === undefined) {
    return {
      kind: "fail",
      error: new ClientError(
        "not_credentials",
        `The broker URL answered HTTP ${status} with a body that is neither credentials nor a broker error. Check broker-url: it must point at the broker (a proxy, login page or wrong path answers like this).`,
        { ...ids, status },
      ),
    };
  }
  if (status === 401 && body.error === "token_reused") return { kind: "token_reused", requestId };
  if (status === 401 && body.error === "invalid_token") {
    return {
      kind: "fail",
      error: new ClientError(
        "invalid_token",
        "The broker refused the OIDC token (invalid_token). Most often the audience is wrong: the audience input must be one the broker trusts " +
          `for this issuer (its ISSUERS setting; default "ci-credential-broker"). Otherwise the token expired or its issuer is not trusted: ` +
          `an operator can see the precise reason with \`npm run analytics -- request <id>\`.${requestIdLine(requestId)}`,
        { ...ids, status },
      ),
    };
  }
  if (status === 403 && body.error === "forbidden") {
    const lookup = requestId === undefined ? "" : ` Ask an operator to look it up: \`npm run analytics -- request ${requestId}\` (and \`npm run policy:explain -- <claims.json>\` with this job's claims).`;
    return {
      kind: "fail",
      error: new ClientError(
        "forbidden",
        `The broker's policy does not grant this repository, ref, event or role (check the role input and the policy's rules).${requestIdLine(requestId)}${lookup}`,
        { ...ids, status },
      ),
    };
  }
  return {
    kind: "fail",
    error: new ClientError("broker_rejected", `The broker answered HTTP ${status} (${body.error}).${requestIdLine(requestId)}`, { ...ids, status }),
  };
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

function finalError(last: ClientError, attempts: number, elapsedMs: number, retryAfterMs: number | undefined, leftMs: number): ClientError {
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
  const lookup = requestId === undefined ? "" : ` Request id ${requestId}: an operator can look it up with \`npm run analytics -- request ${requestId}\`.`;
  return (
    `The broker refused the OIDC token this job minted moments ago${hash} as already used, though this client sent it only once: ` +
    `something else presented it first (a proxy or tool replaying the request, or someone who obtained the token from this runner). ` +
    `Retrying once with a new token.${lookup}`
  );
}

/** Fetches credentials, retrying what is worth retrying. Throws ClientError for every failure a user can act on. */
export async function fetchCredentials(options: FetchCredentialsOptions, deps: ClientDeps): Promise<FetchedCredentials> {
  const started = deps.now();
  const deadline = started + (options.deadlineMs ?? CLIENT_DEADLINE_MS);
  const body: Record<string, unknown> = {};
  if (options.role !== undefined) body.role = options.role;
  if (options.durationSeconds !== undefined) body.duration_seconds = options.durationSeconds;
  const payload = JSON.stringify(body);
  let reuseRetried = false;
  let reusedToken: string | undefined;

  /** The last retryable failure and when it came: what a deadline reached while minting the next token reports. */
  let lastRetry: { error: ClientError; retryAfterMs: number | undefined; attempt: number } | undefined;

  /** One attempt: a new token, one POST, one outcome. A transient token-source failure is a retry outcome too. */
  async function attemptOnce(attempt: number): Promise<{ outcome: AttemptOutcome; token: string | undefined }> {
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
        throw finalError(lastRetry.error, lastRetry.attempt, deps.now() - started, lastRetry.retryAfterMs, deadline - deps.now());
      }
      throw new ClientError("id_token_unavailable", `Getting the OIDC token from ${deps.tokens.description} used up the time left before the deadline; the broker was not called.`);
    }
    deps.onToken?.(token);
    deps.debug(`attempt ${attempt}: OIDC token from ${deps.tokens.description} (sha256 ${await tokenHashPrefix(token)}), POST ${options.endpoint.origin}${options.endpoint.pathname}`);
    const timeoutMs = Math.max(1, Math.min(CLIENT_ATTEMPT_TIMEOUT_MS, deadline - deps.now()));
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const response = await deps.fetch(options.endpoint.href, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json" },
        body: payload,
        signal,
      });
      const text = await readTextCapped(response, MAX_BROKER_RESPONSE_BYTES);
      // A body cut short by the attempt timeout is no answer (retried), not a malformed one.
      if (text === undefined && signal.aborted) throw signal.reason;
      const outcome = classifyAnswer(response.status, response.headers, text, deps.now());
      const requestId = outcome.kind === "credentials" || outcome.kind === "token_reused" ? outcome.requestId : outcome.error.requestId;
      const code = outcome.kind === "retry" || outcome.kind === "fail" ? ` ${outcome.error.code}` : outcome.kind === "token_reused" ? " token_reused" : "";
      deps.debug(`attempt ${attempt}: HTTP ${response.status}${code}, request id ${requestId ?? "none"}`);
      return { outcome, token };
    } catch (error) {
      deps.debug(`attempt ${attempt}: no answer (${networkCause(error)})`);
      const unreachable = new ClientError(
        "broker_unreachable",
        `Could not reach the broker at ${options.endpoint.origin} (${networkCause(error)}). Check broker-url and the runner's network egress.`,
        { cause: error },
      );
      return { outcome: { kind: "retry", error: unreachable, retryAfterMs: undefined }, token };
    }
  }

  /** Retries without a Retry-After: capped (full jitter may draw near-zero sleeps). With one, the deadline alone decides. */
  let unguided = 0;
  for (let attempt = 1; ; attempt++) {
    const { outcome, token } = await attemptOnce(attempt);
    if (outcome.kind === "credentials") return { credentials: outcome.credentials, requestId: outcome.requestId, attempts: attempt };
    if (outcome.kind === "fail") throw outcome.error;
    if (outcome.kind === "token_reused") {
      if (reuseRetried) {
        throw new ClientError("token_reused", `The broker refused two tokens in a row as already used.${requestIdLine(outcome.requestId)}`, withRequestId(outcome.requestId));
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
      delay = Math.max(Math.max(CLIENT_RETRY_AFTER_MIN_MS, outcome.retryAfterMs), Math.min(room, retryAfterDelayMs(outcome.retryAfterMs, deps.random)));
    } else {
      unguided += 1;
      if (unguided >= CLIENT_MAX_ATTEMPTS) throw finalError(outcome.error, attempt, elapsed, undefined, deadline - deps.now());
      delay = backoffDelayMs(unguided, deps.random);
    }
    // Never earlier than the broker asked (it would only be refused again), so a wait that does not fit ends here.
    if (deps.now() + delay + CLIENT_MIN_ATTEMPT_MS > deadline) throw finalError(outcome.error, attempt, elapsed, outcome.retryAfterMs, deadline - deps.now());
    deps.debug(`attempt ${attempt}: retrying in ${delay} ms${outcome.retryAfterMs === undefined ? "" : ` (Retry-After ${Math.ceil(outcome.retryAfterMs / 1000)} s plus jitter)`}`);
    await deps.sleep(delay);
  }
}
