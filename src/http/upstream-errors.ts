// The outbound-request helper's error vocabulary: one typed error with a stable kind, which each caller maps to its
// own BrokerError (or result) in one place. Pure. Never carries an upstream body or a URL: only kinds and a status.

/**
 * - `timeout`: the call's own timer fired. `budget`: the caller's total budget was spent (before or during the call).
 * - `network`: fetch rejected (DNS, TLS, reset). `redirect`: a 3xx the redirect policy does not follow.
 * - `status`: a status the caller does not accept (body discarded). `too_large`: the body exceeded its cap.
 * - `read_failed`: the body stream broke. `not_utf8`: the body is not UTF-8 text.
 */
export type UpstreamErrorKind =
  | "timeout"
  | "budget"
  | "network"
  | "redirect"
  | "status"
  | "too_large"
  | "read_failed"
  | "not_utf8";

export class UpstreamError extends Error {
  readonly kind: UpstreamErrorKind;
  /** The answer's status, when there was an answer (redirect, status, body failures). */
  readonly status: number | undefined;

  constructor(kind: UpstreamErrorKind, status?: number, options?: { cause?: unknown }) {
    super(status === undefined ? `upstream ${kind}` : `upstream ${kind} (HTTP ${status})`, options);
    this.name = "UpstreamError";
    this.kind = kind;
    this.status = status;
  }

  /** A fixed description for a log or an error cause: kind and status, plus a bare error name for `network`. */
  get detail(): string {
    if (this.kind !== "network") return this.message.replace(/^upstream /, "");
    const name = this.cause instanceof Error ? this.cause.name : typeof this.cause;
    return `network error (${/^[A-Za-z]{1,40}$/.test(name) ? name : "unknown"})`;
  }
}

export function isUpstreamError(error: unknown): error is UpstreamError {
  return error instanceof UpstreamError;
}
