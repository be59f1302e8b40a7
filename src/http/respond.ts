// The only place that turns outcomes into HTTP responses: credentials, or a BrokerError's code.
// Pure; no I/O. Bodies carry fixed public text only (src/errors.ts); internal reasons never leave.
import { UPSTREAM_RETRY_AFTER_SECONDS } from "./constants.ts";
import { ERROR_TABLE, errorBody, type BrokerError } from "../errors.ts";

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: string;
}

/**
 * A plain record (lower-case names), handed to the Response as it is: no Headers object built and copied per answer.
 */
function baseHeaders(requestId: string): Record<string, string> {
  return {
    "content-type": "application/json; charset=utf-8",
    // Credentials and errors alike are per-request answers: no cache, proxy or browser may keep them.
    "cache-control": "no-store",
    "x-request-id": requestId,
    "x-content-type-options": "nosniff",
  };
}

/** 200 in the AWS CLI `credential_process` shape (Version 1), so any AWS SDK takes it as it is. */
export function credentialsResponse(credentials: IssuedCredentials, requestId: string): Response {
  const body = {
    Version: 1,
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    SessionToken: credentials.sessionToken,
    Expiration: credentials.expiration,
  };
  return new Response(JSON.stringify(body), { status: 200, headers: baseHeaders(requestId) });
}

export function errorResponse(
  error: BrokerError,
  requestId: string,
  extraHeaders: Record<string, string> = {},
): Response {
  const headers = baseHeaders(requestId);
  // 429 and 503 always say when to come back (RFC 9110 §10.2.3), in whole seconds.
  const retryAfter =
    error.retryAfterSeconds ??
    (error.code === "rate_limited" || error.code === "upstream_unavailable" ? UPSTREAM_RETRY_AFTER_SECONDS : undefined);
  if (retryAfter !== undefined) headers["retry-after"] = String(Math.max(1, Math.ceil(retryAfter)));
  for (const [name, value] of Object.entries(extraHeaders)) headers[name.toLowerCase()] = value;
  return new Response(JSON.stringify(errorBody(error.code, requestId)), {
    status: ERROR_TABLE[error.code].status,
    headers,
  });
}

export function jsonResponse(body: unknown, requestId: string, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: baseHeaders(requestId) });
}
