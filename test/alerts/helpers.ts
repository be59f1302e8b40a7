// Shared by the alert tests: realistic audit rows (data points from real ExchangeEvents) at chosen times.
import type { ExchangeEvent, Outcome } from "../../src/audit/event.ts";
import { toDataPoint } from "../../src/audit/schema.ts";
import type { FakeSqlApi } from "../support/fake-analytics.ts";

export const ACCOUNT = "fedcba9876543210fedcba9876543210";
export const API_TOKEN = "alerts-test-token-9f8e7d6c5b4a";
export const WEBHOOK = "https://hooks.slack.example/services/T000/B000/XXXXSECRETXXXX";
export const MIN = 60_000;

const BASE: Omit<ExchangeEvent, "outcome" | "status"> = {
  request_id: "00000000-0000-4000-8000-000000000000",
  kind: "aws",
  code: undefined,
  reason: undefined,
  issuer: "github",
  repository: "acme/app",
  ref: "refs/heads/main",
  event_name: "push",
  rule_id: "acme-app-main-deploy",
  role_alias: "deploy",
  token_sha256: "0123456789abcdef",
  total_ms: 150,
  verify_ms: 20,
  admission_ms: 2,
  sts_ms: undefined,
  sts_attempts: undefined,
};

const STATUS: Record<Outcome, number> = { issued: 200, denied: 403, rejected: 401, error: 503 };

/** The data point of an exchange with this outcome (issued ones reach STS, with `stsMs`). */
export function auditPoint(outcome: Outcome, options: { stsMs?: number; repository?: string; code?: string } = {}) {
  const issued = outcome === "issued";
  return toDataPoint({
    ...BASE,
    request_id: crypto.randomUUID(),
    outcome,
    status: STATUS[outcome],
    code:
      (options.code as ExchangeEvent["code"]) ??
      (outcome === "denied"
        ? "forbidden"
        : outcome === "rejected"
          ? "invalid_token"
          : outcome === "error"
            ? "upstream_unavailable"
            : undefined),
    reason:
      outcome === "denied"
        ? "no_matching_rule"
        : outcome === "rejected"
          ? "token_expired"
          : outcome === "error"
            ? "sts_unavailable"
            : undefined,
    repository: options.repository ?? BASE.repository,
    sts_ms: issued ? (options.stsMs ?? 150) : undefined,
    sts_attempts: issued ? 1 : undefined,
  });
}

/** `count` rows of one outcome spread evenly over [from, to). */
export function insertSpread(
  sql: FakeSqlApi,
  dataset: string,
  outcome: Outcome,
  count: number,
  from: number,
  to: number,
  options: { stsMs?: number; sampleInterval?: number; repository?: string } = {},
): void {
  for (let i = 0; i < count; i++)
    sql.insert(
      dataset,
      auditPoint(outcome, options),
      from + Math.floor(((to - from) * i) / count),
      options.sampleInterval ?? 1,
    );
}
