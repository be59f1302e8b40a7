// One attempt of an exchange: mint a fresh OIDC token (refusing a source that repeats a spent one, or a mint that ate
// the deadline), POST it with the body, and classify the answer; no answer at all is a retry outcome. Effects injected.
import { CLIENT_ATTEMPT_TIMEOUT_MS, CLIENT_MIN_ATTEMPT_MS, MAX_BROKER_RESPONSE_BYTES } from "./constants.ts";
import { classifyAnswer, type AnswerSpec, type AttemptOutcome } from "./broker-answer.ts";
import type { ClientDeps } from "./client-deps.ts";
import { ClientError } from "./errors.ts";
import { finalError, networkCause, tokenHashPrefix } from "./exchange-messages.ts";
import { readTextCapped } from "./read-capped.ts";

/** One exchange request: where, what JSON body (the OIDC token goes in the Authorization header), how to read a 200. */
export interface ExchangeRequest<T> {
  endpoint: URL;
  body: Record<string, unknown>;
  answer: AnswerSpec<T>;
  /** Total budget in ms, retries included. Default CLIENT_DEADLINE_MS. */
  deadlineMs?: number;
}
/** The exchange's state an attempt reads: its request, deadline, the token refused as reused, the last retry. */
export interface AttemptContext<T> {
  request: ExchangeRequest<T>;
  /** The JSON body, serialised once. */
  payload: string;
  started: number;
  deadline: number;
  reusedToken: string | undefined;
  /** The last retryable failure and when it came: what a deadline reached while minting the next token reports. */
  lastRetry: { error: ClientError; retryAfterMs: number | undefined; attempt: number } | undefined;
}

export interface Attempt<T> {
  outcome: AttemptOutcome<T>;
  token: string | undefined;
}

/** A new token, or a retry outcome when the source failed transiently. Throws when no POST may follow. */
async function mintToken<T>(
  context: AttemptContext<T>,
  attempt: number,
  deps: ClientDeps,
): Promise<{ token: string } | Attempt<T>> {
  const { deadline, lastRetry } = context;
  let token: string;
  try {
    token = await deps.tokens.mint();
  } catch (error) {
    if (!(error instanceof ClientError) || !error.transient) throw error;
    deps.debug(`attempt ${attempt}: ${error.message}`);
    return { outcome: { kind: "retry", error, retryAfterMs: undefined }, token: undefined };
  }
  if (context.reusedToken !== undefined && token === context.reusedToken) {
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
        deps.now() - context.started,
        lastRetry.retryAfterMs,
        deadline - deps.now(),
      );
    }
    throw new ClientError(
      "id_token_unavailable",
      `Getting the OIDC token from ${deps.tokens.description} used up the time left before the deadline; the broker was not called.`,
    );
  }
  return { token };
}

/** One attempt: a new token, one POST, one outcome. A transient token-source failure is a retry outcome too. */
export async function attemptOnce<T>(
  context: AttemptContext<T>,
  attempt: number,
  deps: ClientDeps,
): Promise<Attempt<T>> {
  const minted = await mintToken(context, attempt, deps);
  if ("outcome" in minted) return minted;
  const { token } = minted;
  const { request, deadline } = context;
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
      body: context.payload,
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
