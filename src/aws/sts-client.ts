// The STS stage's I/O: send a credentials call (AssumeRole signed with SigV4 by aws4fetch, or an unsigned
// AssumeRoleWithWebIdentity from ./web-identity.ts) with the injected fetch, retry transient failures, parse strictly.
// Time, sleep, randomness and fetch are injected; every failure leaves as a BrokerError that holds no ARN or account id.
import { AwsV4Signer } from "aws4fetch";
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
import type { AwsOptions } from "../config.ts";
import type { Clock, FetchFn, RandomFn, Sleep } from "../deps.ts";
import { BrokerError, type ErrorCode } from "../errors.ts";
import type { AssumeRoleInput } from "./session.ts";
import { assumeRoleForm } from "./sts-request.ts";
import {
  parseCredentialsResponse,
  parseStsError,
  type CredentialsAction,
  type StsCredentials,
} from "./sts-response.ts";
import { readTextCapped, type CappedText } from "../http/read-capped.ts";

/** What every STS call needs, whichever way it authenticates. */
export interface StsCallDeps {
  fetch: FetchFn;
  now: Clock;
  sleep: Sleep;
  random: RandomFn;
  /** Timeout of one attempt, real milliseconds. Defaults to STS_ATTEMPT_TIMEOUT_MS; tests shorten it. */
  attemptTimeoutMs?: number;
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

type RetryReason = "sts_throttled" | "sts_unavailable" | "sts_timeout";

type AttemptOutcome =
  | { kind: "ok"; credentials: StsCredentials }
  | { kind: "retry"; reason: RetryReason; detail: string }
  | { kind: "fail"; error: BrokerError };

// Error codes, as STS writes them in <Code> (Query protocol names, which drop the SDKs' `Exception` suffix
// for some): https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html#API_AssumeRole_Errors
// and https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html. Both spellings are listed.
const THROTTLING_CODES = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "RequestThrottled",
]);
const TRANSIENT_CODES = new Set([
  "IDPCommunicationError",
  "InternalFailure",
  "InternalError",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "RequestTimeout",
  "RequestTimeoutException",
  "PriorRequestNotComplete",
]);

/** Final (not retried) errors: STS code -> what we answer. The role's ARN is in STS's Message; we never keep it. */
const FINAL_ERRORS: ReadonlyMap<string, { code: ErrorCode; reason: string }> = new Map<
  string,
  { code: ErrorCode; reason: string }
>([
  ...["AccessDenied", "AccessDeniedException"].map(
    (code) => [code, { code: "forbidden", reason: "sts_access_denied" }] as const,
  ),
  ...["RegionDisabledException", "RegionDisabled"].map(
    (code) => [code, { code: "upstream_unavailable", reason: "sts_region_disabled" }] as const,
  ),
  // The request as we formed it: a bug in session.ts or a policy STS will not take. Retrying cannot help.
  ...[
    "ValidationError",
    "MalformedPolicyDocument",
    "MalformedPolicyDocumentException",
    "PackedPolicyTooLarge",
    "PackedPolicyTooLargeException",
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "MissingParameter",
    "InvalidAction",
    "InvalidQueryParameter",
    "MalformedQueryString",
    "RequestExpired",
  ].map((code) => [code, { code: "internal_error", reason: "sts_rejected_request" }] as const),
  // The broker's own AWS credentials are wrong, expired or mis-signed: an operator must act.
  ...[
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "MissingAuthenticationToken",
    "IncompleteSignature",
    "UnrecognizedClientException",
  ].map((code) => [code, { code: "internal_error", reason: "sts_broker_credentials" }] as const),
  // Web-identity mode: AWS could not validate the broker's own token (OIDC provider not registered in IAM, key not
  // published, wrong audience): an operator must act. AssumeRoleWithWebIdentity errors:
  // https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html#API_AssumeRoleWithWebIdentity_Errors
  ...["InvalidIdentityToken", "InvalidIdentityTokenException", "IDPRejectedClaim", "IDPRejectedClaimException"].map(
    (code) => [code, { code: "internal_error", reason: "sts_identity_token_rejected" }] as const,
  ),
]);

function isKnownCode(code: string): boolean {
  return THROTTLING_CODES.has(code) || TRANSIENT_CODES.has(code) || FINAL_ERRORS.has(code);
}

/** What the log line may say about an attempt: status, and the code only if it is one of ours (never free text). */
function describe(status: number, code: string | undefined): string {
  const shownCode = code === undefined ? "none" : isKnownCode(code) ? code : "unrecognised";
  return `status ${status} code ${shownCode}`;
}

/** A final error; 503s always carry Retry-After (errors.ts). */
function finalError(code: ErrorCode, reason: string, cause: string): BrokerError {
  const retryAfterSeconds = code === "upstream_unavailable" ? UPSTREAM_RETRY_AFTER_SECONDS : undefined;
  return new BrokerError(code, reason, { ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }), cause });
}

type BodyRead = CappedText;

const FORM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8";

/**
 * aws4fetch's cache of derived SigV4 signing keys (four HMACs per date, region and service), one per broker
 * configuration, so per isolate: a request then costs the body and canonical-request digests and one HMAC.
 */
const signingKeyCaches = new WeakMap<AwsOptions, Map<string, ArrayBuffer>>();

/** The AssumeRole request signed by aws4fetch's AwsV4Signer (its AwsClient adds fetch and retry code we do not use). */
async function signedPost(aws: AwsOptions, body: string, datetime: string): Promise<Request> {
  let cache = signingKeyCaches.get(aws);
  if (cache === undefined) {
    cache = new Map();
    signingKeyCaches.set(aws, cache);
  }
  const signed = await new AwsV4Signer({
    url: aws.stsEndpoint,
    method: "POST",
    headers: { "content-type": FORM_CONTENT_TYPE },
    body,
    accessKeyId: aws.accessKeyId,
    secretAccessKey: aws.secretAccessKey,
    ...(aws.sessionToken === undefined ? {} : { sessionToken: aws.sessionToken }),
    service: "sts",
    region: aws.region,
    cache,
    datetime,
  }).sign();
  return new Request(signed.url, { method: signed.method, headers: signed.headers, body });
}

/** Sort one answer into success, retry or final failure. */
function classify(status: number, body: BodyRead, action: CredentialsAction): AttemptOutcome {
  if (status === 200) {
    if ("failure" in body) {
      // A cut connection is transient; an oversized or non-UTF-8 success is not STS talking.
      return body.failure === "read_failed"
        ? { kind: "retry", reason: "sts_unavailable", detail: "status 200 body read failed" }
        : {
            kind: "fail",
            error: finalError("upstream_unavailable", "sts_bad_response", `sts: status 200 body ${body.failure}`),
          };
    }
    try {
      return { kind: "ok", credentials: parseCredentialsResponse(body.text, action) };
    } catch (error) {
      if (error instanceof BrokerError) return { kind: "fail", error };
      throw error;
    }
  }
  const code = "text" in body ? parseStsError(body.text)?.code : undefined;
  const detail = describe(status, code);
  if (code !== undefined && THROTTLING_CODES.has(code)) return { kind: "retry", reason: "sts_throttled", detail };
  if (code !== undefined && TRANSIENT_CODES.has(code)) return { kind: "retry", reason: "sts_unavailable", detail };
  const final = code === undefined ? undefined : FINAL_ERRORS.get(code);
  if (final !== undefined) return { kind: "fail", error: finalError(final.code, final.reason, `sts: ${detail}`) };
  if (status === 429) return { kind: "retry", reason: "sts_throttled", detail };
  if (status >= 500) return { kind: "retry", reason: "sts_unavailable", detail };
  // A well-formed STS error we do not know: STS refused the request as formed. Anything else is not STS.
  if (code !== undefined)
    return { kind: "fail", error: finalError("internal_error", "sts_rejected_request", `sts: ${detail}`) };
  return { kind: "fail", error: finalError("upstream_unavailable", "sts_bad_response", `sts: ${detail}`) };
}

function errorName(error: unknown): string {
  const name = error instanceof Error ? error.name : typeof error;
  return /^[A-Za-z]{1,40}$/.test(name) ? name : "unknown";
}

/** Send one signed request and read its answer. */
async function exchange(
  request: Request,
  fetchFn: FetchFn,
  signal: AbortSignal,
  action: CredentialsAction,
): Promise<AttemptOutcome> {
  let response: Response;
  try {
    // Redirects are not followed: STS never redirects, and following one would replay a signed request elsewhere.
    response = await fetchFn(request, { signal, redirect: "manual" });
  } catch (error) {
    return { kind: "retry", reason: "sts_unavailable", detail: `network error (${errorName(error)})` };
  }
  return classify(response.status, await readTextCapped(response, MAX_STS_RESPONSE_BYTES), action);
}

/**
 * One attempt, bounded by `timeoutMs`. We race rather than only pass the abort signal: a fetch implementation that
 * ignores the signal (or a body that trickles) must not hold the request past its budget.
 */
async function attemptOnce(
  request: Request,
  fetchFn: FetchFn,
  timeoutMs: number,
  action: CredentialsAction,
): Promise<AttemptOutcome> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<AttemptOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new DOMException("STS attempt timed out", "TimeoutError"));
      resolve({ kind: "retry", reason: "sts_timeout", detail: "timeout" });
    }, timeoutMs);
  });
  try {
    return await Promise.race([exchange(request, fetchFn, controller.signal, action), timedOut]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** SigV4's `X-Amz-Date` form of an instant: `YYYYMMDDTHHMMSSZ`. */
function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, "");
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
  // Called unbound: a Workers global `fetch` throws "Illegal invocation" when called as a method of another object.
  const fetchFn = deps.fetch;
  const attemptTimeoutMs = deps.attemptTimeoutMs ?? STS_ATTEMPT_TIMEOUT_MS;
  const deadline = now() + STS_DEADLINE_MS;

  let stsMs = 0;
  let attempts = 0;
  const exhausted = (last: { reason: RetryReason; detail: string }) =>
    new BrokerError("upstream_unavailable", last.reason, {
      retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS,
      cause: `sts: gave up after ${attempts} attempt(s); last: ${last.detail}`,
    });

  for (;;) {
    attempts += 1;
    const built = await request();
    const started = now();
    const outcome = await attemptOnce(
      built,
      fetchFn,
      Math.min(attemptTimeoutMs, Math.max(0, deadline - started)),
      action,
    );
    stsMs += now() - started;
    if (deps.progress !== undefined) {
      deps.progress.attempts = attempts;
      deps.progress.stsMs = stsMs;
    }

    if (outcome.kind === "ok") return { credentials: outcome.credentials, attempts, stsMs };
    if (outcome.kind === "fail") throw outcome.error;
    if (attempts >= STS_MAX_ATTEMPTS) throw exhausted(outcome);
    const delay = backoffMs(attempts, random);
    if (now() + delay + STS_MIN_ATTEMPT_MS > deadline) throw exhausted(outcome);
    await sleep(delay);
    if (deadline - now() < STS_MIN_ATTEMPT_MS) throw exhausted(outcome);
  }
}

/** Call STS AssumeRole, signed with the broker's key (SigV4), with callSts's retry policy. */
export async function assumeRole(input: AssumeRoleInput, deps: AssumeRoleDeps): Promise<AssumeRoleResult> {
  const body = assumeRoleForm(input);
  // A fresh signature per attempt: X-Amz-Date is the attempt's time.
  return callSts("AssumeRole", () => signedPost(deps.aws, body, amzDate(deps.now())), deps);
}
