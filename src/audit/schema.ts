// The Analytics Engine data point of one exchange: which blob, double and index holds what (fixed positions), and the
// encoder from ExchangeEvent. Pure; no I/O; no clock. Positions are append-only: queries and docs/audit.md depend on
// them.
import {
  AE_MAX_INDEX_BYTES,
  AUDIT_MAX_BLOB_BYTES,
  AUDIT_NOT_MEASURED,
  AUDIT_SCHEMA_VERSION,
  AUDIT_UNKNOWN_INDEX,
} from "./constants.ts";
import type { ExchangeEvent } from "./event.ts";
import { scrub } from "./redact.ts";

/**
 * Blob positions: `AUDIT_BLOBS[i]` is stored in `blob{i+1}`. Strings; "" when unknown.
 * Limits (developers.cloudflare.com/analytics/analytics-engine/limits/): at most 20 blobs, 20 doubles and one
 * index per data point; all blobs together at most 16 KB (5120 bytes before June 2025); the index at most 96 bytes.
 */
export const AUDIT_BLOBS = [
  "outcome", // blob1: issued | denied | rejected | error
  "code", // blob2: public error code ("" when issued)
  "reason", // blob3: internal reason (token_expired, no_matching_rule, sts_throttled, ...)
  "issuer", // blob4: issuer id from ISSUERS
  "repository", // blob5: owner/name claim
  "ref", // blob6: git ref claim
  "event_name", // blob7: CI trigger (push, pull_request, ...)
  "rule_id", // blob8: policy rule that allowed or denied
  "role_alias", // blob9: role alias granted (never the ARN)
  "request_id", // blob10: x-request-id / request_id the client saw
  "token_sha256", // blob11: first hex chars of SHA-256(token)
  "context_facts", // blob12: GitHub facts used by a rule's requirements ("" when none were needed)
  "kind", // blob13: aws | github_token (which endpoint)
  "github_token", // blob14: GitHub token grant asked for and allowed ("" for AWS and denials)
  "github_repositories", // blob15: the token's repositories, owner/name comma-separated
  "github_permissions", // blob16: the token's permissions as granted, name:level comma-separated
  "minted_sha256", // blob17: first hex chars of SHA-256(minted installation token)
] as const satisfies ReadonlyArray<keyof ExchangeEvent>;

/**
 * Double positions: `AUDIT_DOUBLES[i]` is stored in `double{i+1}`. Timings are ms; AUDIT_NOT_MEASURED (-1) when a stage
 * did not run.
 */
export const AUDIT_DOUBLES = [
  "status", // double1: HTTP status answered
  "total_ms", // double2: whole exchange
  "verify_ms", // double3: token verification (JWKS included)
  "admission_ms", // double4: admission control
  "sts_ms", // double5: waiting on STS, all attempts, sleeps excluded
  "sts_attempts", // double6: AssumeRole attempts (0 when STS was not called)
  "schema_version", // double7: AUDIT_SCHEMA_VERSION
  "github_ms", // double8: context stage (GitHub facts), -1 when not run
  "github_rate_remaining", // double9: lowest x-ratelimit-remaining GitHub reported, -1 when no call was made
] as const;

export type AuditBlob = (typeof AUDIT_BLOBS)[number];
export type AuditDouble = (typeof AUDIT_DOUBLES)[number];

/**
 * What `writeDataPoint` receives; structurally an `AnalyticsEngineDataPoint` (kept local so Node code can import it).
 */
export interface AuditDataPoint {
  indexes: [string];
  blobs: string[];
  doubles: number[];
}

/** SQL column holding a blob field, e.g. `blob("outcome")` is `blob1`. */
export function blob(name: AuditBlob): string {
  return `blob${AUDIT_BLOBS.indexOf(name) + 1}`;
}

/** SQL column holding a double field, e.g. `double("sts_ms")` is `double5`. */
export function double(name: AuditDouble): string {
  return `double${AUDIT_DOUBLES.indexOf(name) + 1}`;
}

/** The index column: the repository (AE samples per index value, so per-repository counts stay exact). */
export const INDEX_COLUMN = "index1";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `value` cut to at most `maxBytes` of UTF-8, never inside a code point (a cut sequence would store U+FFFD). */
export function truncateUtf8(value: string, maxBytes: number): string {
  const bytes = encoder.encode(value);
  if (bytes.byteLength <= maxBytes) return value;
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) so the cut lands on the first byte of a code point.
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end -= 1;
  return decoder.decode(bytes.subarray(0, end));
}

// Defence in depth: the event type holds no secrets, but a claim value is attacker-influenced text. Anything shaped
// like a role ARN, an AWS access key id or a JWT never reaches the log or the dataset (src/audit/redact.ts).
export { REDACTED } from "./redact.ts";

/** The event with every free-text field checked against secret shapes; applied once before any sink sees it. */
export function scrubEvent(event: ExchangeEvent): ExchangeEvent {
  return {
    ...event,
    reason: scrub(event.reason),
    issuer: scrub(event.issuer),
    repository: scrub(event.repository),
    ref: scrub(event.ref),
    event_name: scrub(event.event_name),
    rule_id: scrub(event.rule_id),
    role_alias: scrub(event.role_alias),
    context_facts: scrub(event.context_facts),
    github_token: scrub(event.github_token),
    github_repositories: scrub(event.github_repositories),
    github_permissions: scrub(event.github_permissions),
  };
}

function blobValue(event: ExchangeEvent, name: AuditBlob): string {
  return truncateUtf8(event[name] ?? "", AUDIT_MAX_BLOB_BYTES);
}

function measured(value: number | undefined): number {
  return value === undefined || !Number.isFinite(value) ? AUDIT_NOT_MEASURED : value;
}

/** The data point for one event, positions as in AUDIT_BLOBS / AUDIT_DOUBLES. */
export function toDataPoint(event: ExchangeEvent): AuditDataPoint {
  const repository = event.repository === undefined || event.repository === "" ? AUDIT_UNKNOWN_INDEX : event.repository;
  const doubles: Record<AuditDouble, number> = {
    status: event.status,
    total_ms: measured(event.total_ms),
    verify_ms: measured(event.verify_ms),
    admission_ms: measured(event.admission_ms),
    sts_ms: measured(event.sts_ms),
    sts_attempts: event.sts_attempts ?? 0,
    schema_version: AUDIT_SCHEMA_VERSION,
    github_ms: measured(event.github_ms),
    github_rate_remaining: measured(event.github_rate_remaining),
  };
  return {
    indexes: [truncateUtf8(repository, AE_MAX_INDEX_BYTES)],
    blobs: AUDIT_BLOBS.map((name) => blobValue(event, name)),
    doubles: AUDIT_DOUBLES.map((name) => doubles[name]),
  };
}
