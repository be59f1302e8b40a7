// One broker answer classified for the retry loop: the 200 body parsed by the endpoint's own parser, an error body read
// strictly (code, request id), Retry-After read. Pure; no I/O; the time a check needs arrives as `nowMs`.
import { parseCredentials, type Credentials } from "./credentials.ts";
import { ClientError } from "./errors.ts";

/** What one broker endpoint's answers mean: its 200 body parser and what its 503 and 403 tell a person. */
export interface AnswerSpec<T> {
  /** Parses and checks a 200 body; throws ClientError (`not_credentials`) on any deviation. */
  parse(text: string, nowMs: number, requestId: string | undefined): T;
  /** What a 503 means for this endpoint (after "The broker answered 503: "). */
  unavailable: string;
  /** What the policy did not grant (after "The broker's policy does not grant "). */
  refused: string;
}

/** POST /v1/credentials: AWS credential_process JSON. */
export const CREDENTIALS_ANSWER: AnswerSpec<Credentials> = {
  parse: parseCredentials,
  unavailable: "a dependency (AWS STS or the OIDC issuer's keys) is unavailable",
  refused: "this repository, ref, event or role (check the role input and the policy's rules)",
};

/** What one broker answer means for the loop. */
export type AttemptOutcome<T> =
  | { kind: "answer"; value: T; requestId: string | undefined }
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

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (!Number.isFinite(date)) return undefined;
  return Math.max(0, date - nowMs);
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

export function withRequestId(requestId: string | undefined): { requestId?: string } {
  return requestId === undefined ? {} : { requestId };
}

export function requestIdLine(requestId: string | undefined): string {
  return requestId === undefined ? "" : ` Request id: ${requestId}.`;
}

/** Classifies one broker answer. Pure; `nowMs` is for the Expiration and Retry-After checks. */
export function classifyAnswer<T>(
  status: number,
  headers: Headers,
  text: string | undefined,
  nowMs: number,
  spec: AnswerSpec<T>,
): AttemptOutcome<T> {
  const body = status === 200 ? undefined : brokerErrorBody(text);
  const headerId = headers.get("x-request-id");
  const requestId = body?.requestId ?? (headerId !== null && REQUEST_ID.test(headerId) ? headerId : undefined);
  const ids = withRequestId(requestId);
  if (status === 200) {
    if (text === undefined)
      return {
        kind: "fail",
        error: new ClientError("not_credentials", "The broker's answer is larger than expected or not UTF-8.", ids),
      };
    try {
      return { kind: "answer", value: spec.parse(text, nowMs, requestId), requestId };
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
        `The broker answered 503: ${spec.unavailable}.${requestIdLine(requestId)}`,
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
    const lookup =
      requestId === undefined
        ? ""
        : ` Ask an operator to look it up: \`npm run analytics -- request ${requestId}\` (and \`npm run policy:explain -- <claims.json>\` with this job's claims).`;
    return {
      kind: "fail",
      error: new ClientError(
        "forbidden",
        `The broker's policy does not grant ${spec.refused}.${requestIdLine(requestId)}${lookup}`,
        { ...ids, status },
      ),
    };
  }
  return {
    kind: "fail",
    error: new ClientError(
      "broker_rejected",
      `The broker answered HTTP ${status} (${body.error}).${requestIdLine(requestId)}`,
      { ...ids, status },
    ),
  };
}
