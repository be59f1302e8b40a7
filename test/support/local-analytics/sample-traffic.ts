// Audit traffic for the queries-on-a-real-engine tests: events of every outcome, encoded by the broker's own encoder
// (toDataPoint), some rows sampled (`_sample_interval` > 1), one repository whose name holds a quote and a backslash;
// and the truths the tests compare the engine's answers with (counts weighted by the sample interval, ClickHouse's
// quantileExactWeighted). Deterministic (seeded); times relative to an `endMs` the caller chooses. Pure.
import { blankEvent, type ExchangeEvent, type Outcome } from "../../../src/audit/event.ts";
import { toDataPoint } from "../../../src/audit/schema.ts";
import type { StoredPoint } from "../../../sandbox/local-analytics/engine.ts";

/** A repository name with a quote and a backslash: SQL literals and Grafana's escaping must keep it whole. */
export const ODD_REPOSITORY = "acme/o'brien\\tools";
export const REPOSITORIES = ["acme/app", "acme/api", "globex/site", ODD_REPOSITORY] as const;

export interface Row {
  event: ExchangeEvent;
  atMs: number;
  sampleInterval: number;
}

/** A small PRNG (mulberry32): the same traffic every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function base(requestId: string): ExchangeEvent {
  return {
    ...blankEvent(requestId, "aws"),
    outcome: "issued",
    issuer: "github",
    ref: "refs/heads/main",
    event_name: "push",
    status: 200,
  };
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0").slice(-width);

/**
 * `count` events spread over the `spanMinutes` before `endMs` (never in its last minute nor exactly on a minute
 * boundary, so window edges never split a test). Mix: issued (most), denied by policy, rejected (bad token before the
 * repository was known, replay, rate limit), errors; GitHub facts on some.
 */
export function sampleTraffic(options: { endMs: number; spanMinutes: number; count: number; seed?: number }): Row[] {
  const next = random(options.seed ?? 7);
  const rows: Row[] = [];
  for (let i = 0; i < options.count; i++) {
    const minutesBefore = 1 + Math.floor(next() * (options.spanMinutes - 2));
    const atMs =
      Math.floor((options.endMs - minutesBefore * 60_000 - 1_000 - Math.floor(next() * 58_000)) / 1000) * 1000;
    const repository = REPOSITORIES[Math.floor(next() * REPOSITORIES.length)] as string;
    const event = base(`${hex(i, 8)}-0000-4000-8000-${hex(i * 7919, 12)}`);
    event.token_sha256 = hex(i * 104729 + 1, 16);
    event.verify_ms = Math.round(next() * 40);
    const roll = next();
    let outcome: Outcome = "issued";
    if (roll < 0.55) {
      Object.assign(event, {
        repository,
        rule_id: "deploy-main",
        role_alias: "deploy",
        admission_ms: Math.round(next() * 15),
        sts_ms: Math.round(20 + next() * 600),
        sts_attempts: 1,
      });
    } else if (roll < 0.75) {
      outcome = "denied";
      Object.assign(event, {
        repository,
        status: 403,
        code: "forbidden",
        reason: next() < 0.5 ? "no_matching_rule" : "guard_self_hosted_runner",
        rule_id: next() < 0.5 ? "" : "deploy-main",
      });
    } else if (roll < 0.83) {
      outcome = "rejected";
      Object.assign(event, {
        status: 401,
        code: "invalid_token",
        reason: "token_expired",
        issuer: undefined,
        ref: undefined,
        event_name: undefined,
        verify_ms: Math.round(next() * 5),
      });
    } else if (roll < 0.9) {
      outcome = "rejected";
      Object.assign(event, {
        repository,
        status: 401,
        code: "token_reused",
        reason: "token_reused",
        rule_id: "deploy-main",
        admission_ms: Math.round(next() * 10),
      });
    } else if (roll < 0.96) {
      outcome = "rejected";
      Object.assign(event, {
        repository,
        status: 429,
        code: "rate_limited",
        reason: "rate_limited_repository",
        rule_id: "deploy-main",
        admission_ms: Math.round(next() * 10),
      });
    } else {
      outcome = "error";
      Object.assign(event, {
        repository,
        status: 503,
        code: "upstream_unavailable",
        reason: "sts_throttled",
        rule_id: "deploy-main",
        admission_ms: 3,
        sts_ms: Math.round(100 + next() * 900),
        sts_attempts: 3,
      });
    }
    event.outcome = outcome;
    // Every fifth exchange asks for a GitHub token (POST /v1/github-token): a grant instead of a role, no STS.
    if (i % 5 === 0 && event.issuer !== undefined) {
      Object.assign(event, {
        kind: "github_token",
        role_alias: undefined,
        sts_ms: undefined,
        sts_attempts: undefined,
        rule_id: event.rule_id === "deploy-main" ? "release-tap" : event.rule_id,
      });
      if (outcome === "issued") {
        Object.assign(event, {
          github_token: "homebrew-tap",
          github_repositories: "acme/homebrew-tap",
          github_permissions: "contents:write,metadata:read",
          minted_sha256: hex(i * 15485863 + 3, 16),
        });
      }
    }
    if (event.repository !== undefined && next() < 0.4) {
      event.github_ms = Math.round(next() * 200);
      event.github_rate_remaining = Math.round(100 + next() * 4900);
    }
    event.total_ms =
      (event.verify_ms ?? 0) +
      (event.admission_ms ?? 0) +
      (event.sts_ms ?? 0) +
      (event.github_ms ?? 0) +
      Math.round(next() * 5);
    // About one row in five is a sample standing for several events, as Analytics Engine keeps at high volume.
    const sampleInterval = next() < 0.8 ? 1 : ([2, 5, 20][Math.floor(next() * 3)] as number);
    rows.push({ event, atMs, sampleInterval });
  }
  return rows;
}

/** The rows as the local engine stores them: encoded by the broker's own toDataPoint. */
export function storedPoints(rows: readonly Row[]): StoredPoint[] {
  return rows.map((row) => ({ point: toDataPoint(row.event), atMs: row.atMs, sampleInterval: row.sampleInterval }));
}

/** The events the rows stand for: sum of sample intervals. */
export function weightedCount(rows: readonly Row[]): number {
  return rows.reduce((sum, row) => sum + row.sampleInterval, 0);
}

/** ClickHouse's quantileExactWeighted: values sorted, the first whose running weight reaches ceil(level × total)... */
export function weightedQuantile(
  pairs: ReadonlyArray<{ value: number; weight: number }>,
  level: number,
): number | undefined {
  const sorted = [...pairs].filter((pair) => pair.weight > 0).sort((a, b) => a.value - b.value);
  const total = sorted.reduce((sum, pair) => sum + pair.weight, 0);
  if (total === 0) return undefined;
  const threshold = level * total;
  let running = 0;
  for (const pair of sorted) {
    running += pair.weight;
    if (running >= threshold) return pair.value;
  }
  return sorted[sorted.length - 1]?.value;
}

/** The data point's index value (toDataPoint: the repository, "-" when unknown). */
export const indexOf = (row: Row) =>
  row.event.repository === undefined || row.event.repository === "" ? "-" : row.event.repository;
