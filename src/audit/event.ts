// The one event each credential exchange produces, and the structured log line it becomes.
// Pure except `tokenHashPrefix` (WebCrypto digest). Never holds a token, a credential or a role ARN.
import { TOKEN_HASH_PREFIX_HEX_CHARS } from "./constants.ts";
import type { ErrorCode } from "../errors.ts";
import { sha256HexPrefix } from "../http/sha256-prefix.ts";

export type Outcome = "issued" | "denied" | "rejected" | "error";

/** Which exchange: AWS credentials (`POST /v1/credentials`) or a GitHub token grant (`POST /v1/github-token`). */
export type ExchangeKind = "aws" | "github_token";

export interface ExchangeEvent {
  request_id: string;
  kind: ExchangeKind;
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
  /** Token verification (JWKS included), ms by the injected clock; absent when the request never got that far. */
  verify_ms: number | undefined;
  /** Admission control (single use, rate limit). */
  admission_ms: number | undefined;
  /** Time waiting on STS over all attempts, backoff sleeps excluded; set on failure too. */
  sts_ms: number | undefined;
  /** AssumeRole attempts made (first try included); set on failure too. */
  sts_attempts: number | undefined;
  /**
   * GitHub facts the rule's requirements were judged on (check conclusion and app, PR number, approvals);
   * docs/github-facts.md.
   */
  context_facts?: string | undefined;
  /** Time in the context stage (GitHub API or fact cache), ms. */
  github_ms?: number | undefined;
  /** Lowest `x-ratelimit-remaining` GitHub reported to this exchange (absent when no call was made). */
  github_rate_remaining?: number | undefined;
  /** GitHub token grants: the grant's name (set once the policy allowed it). */
  github_token?: string | undefined;
  /** The token's repositories as asked (`owner/name`, comma-separated); never the token. */
  github_repositories?: string | undefined;
  /** The token's permissions as GitHub granted them (`name:level`, comma-separated, sorted). */
  github_permissions?: string | undefined;
  /** First hex chars of SHA-256(minted installation token): find it in GitHub's audit log, useless to use. */
  minted_sha256?: string | undefined;
}

/**
 * Where events go: the log line and the Analytics Engine data point (src/audit/sinks.ts composes them).
 * `write` must not block: a sink that returns a promise is never awaited.
 */
export interface AuditSink {
  write(event: ExchangeEvent): void | Promise<void>;
}

/** An event with nothing known yet but the request id; stages fill it in. */
export function blankEvent(requestId: string, kind: ExchangeKind): ExchangeEvent {
  return {
    request_id: requestId,
    kind,
    outcome: "error",
    code: undefined,
    reason: undefined,
    issuer: undefined,
    repository: undefined,
    ref: undefined,
    event_name: undefined,
    rule_id: undefined,
    role_alias: undefined,
    token_sha256: undefined,
    status: 0,
    total_ms: 0,
    verify_ms: undefined,
    admission_ms: undefined,
    sts_ms: undefined,
    sts_attempts: undefined,
  };
}

export function outcomeFor(status: number, code: ErrorCode | undefined): Outcome {
  if (status === 200) return "issued";
  if (code === "forbidden") return "denied";
  return status >= 500 ? "error" : "rejected";
}

export async function tokenHashPrefix(token: string): Promise<string> {
  return sha256HexPrefix(token, TOKEN_HASH_PREFIX_HEX_CHARS);
}

/** A sink that writes each event as one JSON log line (Workers Logs indexes JSON fields). */
export function logSink(log: (line: Record<string, unknown>) => void): AuditSink {
  return {
    write(event) {
      log({ message: "credential_exchange", ...event });
    },
  };
}
