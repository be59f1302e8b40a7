// The STS stage's I/O: send a credentials call (AssumeRole signed with SigV4 by aws4fetch, or an unsigned
// AssumeRoleWithWebIdentity from ./web-identity.ts) with the injected fetch, retry transient failures, parse strictly.
// Time, sleep, randomness and fetch are injected; every failure leaves as a BrokerError that holds no ARN or account
// id.
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../http/constants.ts";
import {
  MAX_STS_RESPONSE_BYTES,
  STS_ATTEMPT_TIMEOUT_MS,
  STS_BACKOFF_BASE_MS,
  STS_BACKOFF_CAP_MS,
  STS_DEADLINE_MS,
  STS_MAX_ATTEMPTS,
  STS_MIN_ATTEMPT_MS,
} from "./constants.ts";
import type { AwsOptions } from "./options.ts";
import type { Clock, FetchFn, RandomFn, Sleep } from "../deps.ts";
import { BrokerError } from "../errors.ts";
import { startDeadline, type StartTimer } from "../http/deadline.ts";
import { callUpstream, UpstreamError } from "../http/upstream.ts";
import type { AssumeRoleInput } from "./session.ts";
import { classify, finalError, type AttemptOutcome, type RetryReason } from "./sts-classify.ts";
import { assumeRoleForm } from "./sts-request.ts";
import type { CredentialsAction, StsCredentials } from "./sts-response.ts";
import { amzDate, signedPost } from "./sts-sign.ts";

/** What every STS call needs, whichever way it authenticates. */
export interface StsCallDeps {
  fetch: FetchFn;
  now: Clock;
  sleep: Sleep;
  random: RandomFn;
  /** Timeout of one attempt, real milliseconds. Defaults to STS_ATTEMPT_TIMEOUT_MS; tests shorten it. */
  attemptTimeoutMs?: number;
  /** Starts the attempt and budget timers; default the real timer. Injected so a test expires them at will. */
  startTimer?: StartTimer;
  /** Updated after every attempt, so the audit event has attempts and STS time when the call fails too. */
  progress?: AssumeRoleProgress;
}

export interface AssumeRoleDeps extends StsCallDeps {
  aws: AwsOptions;
}

export interface AssumeRoleProgress {
  attempts: number;
  stsMs: number;
}

export interface AssumeRoleResult {
  credentials: StsCredentials;
  attempts: number;
  /** Time spent waiting on STS over all attempts (injected clock), excluding backoff sleeps. */
  stsMs: number;
}

/** Each failure of the outbound-request helper as an attempt's outcome. */
function attemptFailure(error: UpstreamError, action: CredentialsAction): AttemptOutcome {
  switch (error.kind) {
    case "timeout":
    case "budget":
      return { kind: "retry", reason: "sts_timeout", detail: "timeout" };
    case "network":
      return { kind: "retry", reason: "sts_unavailable", detail: error.detail };
    case "too_large":
    case "read_failed":
    case "not_utf8":
      // An answer whose body could not be read: classified by its status as if it had no STS error code.
      return classify(error.status ?? 0, { ok: false, failure: error.kind }, action);
    default: {
      // A redirect (STS never redirects; following one would replay a signed request elsewhere) is not STS talking.
      const cause = `sts: ${error.detail} refused`;
      return { kind: "fail", error: finalError("upstream_unavailable", "sts_bad_response", cause) };
    }
  }
}

/** One attempt, bounded by `timeoutMs` and the call's budget. */
async function attemptOnce(
  request: Request,
  deps: StsCallDeps,
  timeoutMs: number,
  budget: AbortSignal,
  action: CredentialsAction,
): Promise<AttemptOutcome> {
  try {
    const answer = await callUpstream(deps.fetch, request, {
      timeoutMs,
      budget,
      maxBytes: MAX_STS_RESPONSE_BYTES,
      startTimer: deps.startTimer,
    });
    return classify(answer.status, { ok: true, text: answer.text }, action);
  } catch (error) {
    if (error instanceof UpstreamError) return attemptFailure(error, action);
    throw error;
  }
}

/**
 * Full-jitter backoff before retry number `retry` (1 for the sleep after the first failure):
 * random() * min(CAP, BASE * 2^retry), as in "Exponential Backoff And Jitter" (AWS Architecture Blog, 2015)
 * and the AWS SDKs' standard retry mode.
 */
export function backoffMs(retry: number, random: RandomFn): number {
  return random() * Math.min(STS_BACKOFF_CAP_MS, STS_BACKOFF_BASE_MS * 2 ** retry);
}

/**
 * One STS credentials call with our retry policy. `request` builds the attempt's request (a fresh signature each time,
 * for SigV4). Retries throttling, 5xx, transient codes, network errors and timeouts, at most STS_MAX_ATTEMPTS times,
 * never starting an attempt or a sleep that would leave less than STS_MIN_ATTEMPT_MS before STS_DEADLINE_MS
 * (injected clock). Throws BrokerError: forbidden/sts_access_denied; upstream_unavailable with
 * sts_throttled | sts_unavailable | sts_timeout (retries exhausted), sts_region_disabled or sts_bad_response;
 * internal_error with sts_rejected_request, sts_broker_credentials or sts_identity_token_rejected.
 */
export async function callSts(
  action: CredentialsAction,
  request: () => Promise<Request>,
  deps: StsCallDeps,
): Promise<AssumeRoleResult> {
  const { now, sleep, random } = deps;
  const attemptTimeoutMs = deps.attemptTimeoutMs ?? STS_ATTEMPT_TIMEOUT_MS;
  // The whole call's budget: its clock decides whether an attempt or a sleep may start, its signal ends one in flight.
  const budget = startDeadline(STS_DEADLINE_MS, { now, startTimer: deps.startTimer });

  let stsMs = 0;
  let attempts = 0;
  const exhausted = (last: { reason: RetryReason; detail: string }) =>
    new BrokerError("upstream_unavailable", last.reason, {
      retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS,
      cause: `sts: gave up after ${attempts} attempt(s); last: ${last.detail}`,
    });

  try {
    for (;;) {
      attempts += 1;
      const built = await request();
      const started = now();
      const timeoutMs = Math.min(attemptTimeoutMs, budget.remainingMs());
      const outcome = await attemptOnce(built, deps, timeoutMs, budget.signal, action);
      stsMs += now() - started;
      if (deps.progress !== undefined) {
        deps.progress.attempts = attempts;
        deps.progress.stsMs = stsMs;
      }

      if (outcome.kind === "ok") return { credentials: outcome.credentials, attempts, stsMs };
      if (outcome.kind === "fail") throw outcome.error;
      // Retries exhausted, or the budget spent while the attempt ran: no sleep, no other attempt.
      if (attempts >= STS_MAX_ATTEMPTS || budget.signal.aborted) throw exhausted(outcome);
      const delay = backoffMs(attempts, random);
      if (delay + STS_MIN_ATTEMPT_MS > budget.remainingMs()) throw exhausted(outcome);
      await sleep(delay);
      if (budget.remainingMs() < STS_MIN_ATTEMPT_MS) throw exhausted(outcome);
    }
  } finally {
    budget.cancel();
  }
}

/** Call STS AssumeRole, signed with the broker's key (SigV4), with callSts's retry policy. */
export async function assumeRole(input: AssumeRoleInput, deps: AssumeRoleDeps): Promise<AssumeRoleResult> {
  const body = assumeRoleForm(input);
  // A fresh signature per attempt: X-Amz-Date is the attempt's time.
  return callSts("AssumeRole", () => signedPost(deps.aws, body, amzDate(deps.now())), deps);
}
