// One exchange at the broker (POST /v1/credentials, POST /v1/github-token): attempts (exchange-attempt.ts), and
// retry on 429/503/network errors only: at the broker's Retry-After plus bounded jitter for as long as the deadline
// allows (the broker's queue slot, docs/fleet-scale.md), else full-jitter backoff up to an attempt cap.
// Platform-neutral (WebCrypto, fetch types); every effect is injected: fetch, clock, sleep, random, token source, debug
// sink.
import type { RandomFn } from "../deps.ts";
import {
  CLIENT_BACKOFF_BASE_MS,
  CLIENT_BACKOFF_CAP_MS,
  CLIENT_DEADLINE_MS,
  CLIENT_MAX_ATTEMPTS,
  CLIENT_MIN_ATTEMPT_MS,
  CLIENT_RETRY_AFTER_JITTER_MS,
  CLIENT_RETRY_AFTER_MIN_MS,
} from "./constants.ts";
import { CREDENTIALS_ANSWER, requestIdLine, withRequestId } from "./broker-answer.ts";
import type { ClientDeps } from "./client-deps.ts";
import type { Credentials } from "./credentials.ts";
import { ClientError } from "./errors.ts";
import { attemptOnce, type AttemptContext, type ExchangeRequest } from "./exchange-attempt.ts";
import { finalError, replayWarning } from "./exchange-messages.ts";

export interface FetchCredentialsOptions {
  /** The broker's POST /v1/credentials URL (see credentialsEndpoint). */
  endpoint: URL;
  /** Role alias; undefined lets the policy pick the rule's only role. */
  role: string | undefined;
  durationSeconds: number | undefined;
  /** Total budget in ms, retries included. Default CLIENT_DEADLINE_MS. */
  deadlineMs?: number;
}

export interface FetchedCredentials {
  credentials: Credentials;
  requestId: string | undefined;
  attempts: number;
}

/**
 * The wait on a broker's Retry-After: at least CLIENT_RETRY_AFTER_MIN_MS, plus jitter uniform in [0,
 * CLIENT_RETRY_AFTER_JITTER_MS). Never earlier than asked.
 */
export function retryAfterDelayMs(retryAfterMs: number, random: RandomFn): number {
  return Math.max(CLIENT_RETRY_AFTER_MIN_MS, retryAfterMs) + Math.floor(random() * CLIENT_RETRY_AFTER_JITTER_MS);
}

/** Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))). */
export function backoffDelayMs(attempt: number, random: RandomFn): number {
  const ceiling = Math.min(CLIENT_BACKOFF_CAP_MS, CLIENT_BACKOFF_BASE_MS * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
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

export interface Exchanged<T> {
  value: T;
  requestId: string | undefined;
  attempts: number;
}

/**
 * The wait before the next attempt after a retryable failure, or the final error when none fits the deadline.
 * `unguided`: retries so far without a Retry-After (capped: full jitter may draw near-zero sleeps).
 */
function nextDelay<T>(
  context: AttemptContext<T>,
  failure: { error: ClientError; retryAfterMs: number | undefined },
  attempt: number,
  unguided: number,
  deps: ClientDeps,
): number {
  const { deadline } = context;
  const elapsed = deps.now() - context.started;
  let delay: number;
  if (failure.retryAfterMs !== undefined) {
    // Jitter only as far as the deadline allows: the wait itself is what the broker asked for.
    const room = deadline - deps.now() - CLIENT_MIN_ATTEMPT_MS;
    delay = Math.max(
      Math.max(CLIENT_RETRY_AFTER_MIN_MS, failure.retryAfterMs),
      Math.min(room, retryAfterDelayMs(failure.retryAfterMs, deps.random)),
    );
  } else {
    if (unguided >= CLIENT_MAX_ATTEMPTS)
      throw finalError(failure.error, attempt, elapsed, undefined, deadline - deps.now());
    delay = backoffDelayMs(unguided, deps.random);
  }
  // Never earlier than the broker asked (it would only be refused again), so a wait that does not fit ends here.
  if (deps.now() + delay + CLIENT_MIN_ATTEMPT_MS > deadline)
    throw finalError(failure.error, attempt, elapsed, failure.retryAfterMs, deadline - deps.now());
  return delay;
}

/** One exchange, retrying what is worth retrying. Throws ClientError for every failure a user can act on. */
export async function exchange<T>(request: ExchangeRequest<T>, deps: ClientDeps): Promise<Exchanged<T>> {
  const started = deps.now();
  const context: AttemptContext<T> = {
    request,
    payload: JSON.stringify(request.body),
    started,
    deadline: started + (request.deadlineMs ?? CLIENT_DEADLINE_MS),
    reusedToken: undefined,
    lastRetry: undefined,
  };
  let reuseRetried = false;
  /**
   * Retries without a Retry-After: capped (full jitter may draw near-zero sleeps). With one, the deadline alone
   * decides.
   */
  let unguided = 0;
  for (let attempt = 1; ; attempt++) {
    const { outcome, token } = await attemptOnce(context, attempt, deps);
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
      // A token this source minted just now, sent once: a replay by someone else (the broker's replay alert counts
      // these).
      if (deps.tokens.mintsFresh === true) deps.warn?.(await replayWarning(token, outcome.requestId));
      // The broker takes each token once; the retry must carry a new one. Mint and go again at once (once only).
      reuseRetried = true;
      reuseRetried = true;
      context.reusedToken = token;
      continue;
    }
    context.lastRetry = { error: outcome.error, retryAfterMs: outcome.retryAfterMs, attempt };
    if (outcome.retryAfterMs === undefined) unguided += 1;
    const delay = nextDelay(context, outcome, attempt, unguided, deps);
    deps.debug(
      `attempt ${attempt}: retrying in ${delay} ms${outcome.retryAfterMs === undefined ? "" : ` (Retry-After ${Math.ceil(outcome.retryAfterMs / 1000)} s plus jitter)`}`,
    );
    await deps.sleep(delay);
  }
}
