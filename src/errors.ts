// The one error type of the broker, its closed set of public codes, and the table that maps each
// code to an HTTP status and a fixed public message. Nothing else decides what a client sees.
// The `reason` is internal: it goes to the log line and the audit event, never on the wire. Its closed list is
// brokerReasons() (error-reasons.ts), each documented in docs/api.md.
import type { BrokerReason } from "./error-reasons.ts";

export type { BrokerReason };

export const ERROR_TABLE = {
  invalid_request: { status: 400, message: "The request is malformed." },
  invalid_token: { status: 401, message: "The token is not valid for this broker." },
  token_reused: { status: 401, message: "This token was already used. Mint a new token." },
  forbidden: { status: 403, message: "The policy does not grant this request." },
  not_found: { status: 404, message: "No such endpoint." },
  method_not_allowed: { status: 405, message: "Method not allowed on this endpoint." },
  payload_too_large: { status: 413, message: "The request body is too large." },
  unsupported_media_type: { status: 415, message: "The request body must be application/json." },
  rate_limited: { status: 429, message: "Too many requests. Retry after the indicated delay." },
  internal_error: { status: 500, message: "The broker failed to process the request." },
  config_invalid: { status: 500, message: "The broker is misconfigured." },
  upstream_unavailable: { status: 503, message: "A dependency is unavailable. Retry after the indicated delay." },
} as const satisfies Record<string, { status: number; message: string }>;

/** Stable public error codes. Never renamed; documented in README.md "Errors" and docs/api.md. */
export type ErrorCode = keyof typeof ERROR_TABLE;

export interface BrokerErrorOptions {
  /** Seconds a client should wait; sent as Retry-After (required for 429 and 503). */
  retryAfterSeconds?: number;
  /** The underlying error, kept for the log line only. */
  cause?: unknown;
}

/**
 * A failure with a public `code` and a precise internal `reason` (snake_case, e.g. `token_expired`,
 * `sts_access_denied`): one of brokerReasons(). Throw it from any stage; the app's error handler renders it. Every
 * reason is listed in docs/api.md "Internal reasons"; the policy's are `DenyReason` (src/policy/decide.ts), all
 * `forbidden`: roles' (`role_not_granted`, ...) and GitHub token grants' (`grant_not_granted`).
 */
export class BrokerError extends Error {
  readonly code: ErrorCode;
  readonly reason: BrokerReason;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, reason: BrokerReason, options: BrokerErrorOptions = {}) {
    // The message is the internal reason: never rendered to clients (see errorBody).
    super(reason, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "BrokerError";
    this.code = code;
    this.reason = reason;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isBrokerError(value: unknown): value is BrokerError {
  return value instanceof BrokerError;
}

/** The JSON body for an error: code, fixed public text, request id. Nothing else, ever. */
export function errorBody(
  code: ErrorCode,
  requestId: string,
): { error: ErrorCode; message: string; request_id: string } {
  return { error: code, message: ERROR_TABLE[code].message, request_id: requestId };
}
