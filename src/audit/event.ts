// The one event each credential exchange produces, and the structured log line it becomes.
// Pure except `tokenHashPrefix` (WebCrypto digest). Never holds a token, a credential or a role ARN.
import { TOKEN_HASH_PREFIX_HEX_CHARS } from "../constants.ts";
import type { ErrorCode } from "../errors.ts";

export type Outcome = "issued" | "denied" | "rejected" | "error";

export interface ExchangeEvent {
  request_id: string;
  outcome: Outcome;
  /** Public code answered (absent when issued). */
  code: ErrorCode | undefined;
  /** Precise internal reason (e.g. token_expired, no_matching_rule, sts_throttled). */
  reason: string | undefined;
  issuer: string | undefined;
  repository: string | undefined;
  ref: string | undefined;
  event_name: string | undefined;
  rule_id: string | undefined;
  role_alias: string | undefined;
  /** First hex chars of SHA-256(token): correlates requests, useless to replay. */
  token_sha256: string | undefined;
  status: number;
  total_ms: number;
  verify_ms: number | undefined;
  sts_ms: number | undefined;
  sts_attempts: number | undefined;
}

/** Where events go. Issue #5 adds the Analytics Engine sink; today: the log line. */
export interface AuditSink {
  write(event: ExchangeEvent): void;
}

export function outcomeFor(status: number, code: ErrorCode | undefined): Outcome {
  if (status === 200) return "issued";
  if (code === "forbidden") return "denied";
  return status >= 500 ? "error" : "rejected";
}

export async function tokenHashPrefix(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return [...new Uint8Array(digest)]
    .map((byte) => byte.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, TOKEN_HASH_PREFIX_HEX_CHARS);
}

/** A sink that writes each event as one JSON log line (Workers Logs indexes JSON fields). */
export function logSink(log: (line: Record<string, unknown>) => void): AuditSink {
  return {
    write(event) {
      log({ message: "credential_exchange", ...event });
    },
  };
}
