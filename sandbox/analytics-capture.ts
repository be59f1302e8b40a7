// How the sandbox's local Analytics Engine gets its data points: from the broker itself. Under wrangler dev the AUDIT
// binding's writes are not stored anywhere queryable, but every exchange also prints its audit event as one JSON log
// line (`credential_exchange`, the same scrubbed event the Analytics Engine sink receives: src/audit/sinks.ts). The
// sandbox reads that line from the broker's output and encodes it with the broker's own encoder (toDataPoint), so the
// stored point is the one the Worker wrote. Pure; no I/O.
import { blankEvent, type ExchangeEvent, type Outcome } from "../src/audit/event.ts";
import { toDataPoint, type AuditDataPoint } from "../src/audit/schema.ts";
import type { ErrorCode } from "../src/errors.ts";

const OUTCOMES: readonly Outcome[] = ["issued", "denied", "rejected", "error"];
const TEXT_FIELDS = [
  "code",
  "reason",
  "issuer",
  "repository",
  "ref",
  "event_name",
  "rule_id",
  "role_alias",
  "token_sha256",
  "context_facts",
  "github_token",
  "github_repositories",
  "github_permissions",
  "minted_sha256",
] as const;
const NUMBER_FIELDS = [
  "verify_ms",
  "admission_ms",
  "sts_ms",
  "sts_attempts",
  "github_ms",
  "github_rate_remaining",
] as const;

/** The audit event of a `credential_exchange` log line, or undefined for any other line (or a malformed one). */
export function auditEventFromLogLine(line: string): ExchangeEvent | undefined {
  const trimmed = line.replace(/\u001b\[[0-9;]*m/g, "").trim();
  if (!trimmed.startsWith("{") || !trimmed.includes('"credential_exchange"')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const fields = value as Record<string, unknown>;
  if (fields.message !== "credential_exchange") return undefined;
  const { request_id: requestId, outcome, status, total_ms: totalMs } = fields;
  if (
    typeof requestId !== "string" ||
    !OUTCOMES.includes(outcome as Outcome) ||
    typeof status !== "number" ||
    typeof totalMs !== "number"
  )
    return undefined;
  const event: ExchangeEvent = {
    ...blankEvent(requestId, fields.kind === "github_token" ? "github_token" : "aws"),
    outcome: outcome as Outcome,
    status,
    total_ms: totalMs,
  };
  for (const name of TEXT_FIELDS) {
    const text = fields[name];
    if (typeof text === "string")
      (event as unknown as Record<string, unknown>)[name] = name === "code" ? (text as ErrorCode) : text;
  }
  for (const name of NUMBER_FIELDS) {
    const number = fields[name];
    if (typeof number === "number") (event as unknown as Record<string, unknown>)[name] = number;
  }
  return event;
}

/** The data point the broker wrote for a `credential_exchange` log line, or undefined. */
export function dataPointFromLogLine(line: string): AuditDataPoint | undefined {
  const event = auditEventFromLogLine(line);
  return event === undefined ? undefined : toDataPoint(event);
}
