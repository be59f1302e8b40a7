// The alert queries: SQL over the audit schema for the windows the rules name, ending at an explicit instant (the
// cron's scheduled time minus ingestion lag), and the metrics read back. Pure; no I/O; the instant is a parameter.
import { ALERT_DENIAL_GROUPS_LIMIT, ALERT_REPLAY_MAX_REPOSITORIES } from "./constants.ts";
import { codeIs, COUNT, measured, outcomeIs, quantileOf } from "../audit/sql-fragments.ts";
import { blob, double, INDEX_COLUMN } from "../audit/schema.ts";
import type { SqlResult } from "../audit/sql-api.ts";
import type { AlertMetrics, AlertRules, DenialGroup } from "./rules.ts";

export interface AlertQuery {
  /**
   * counts: issued per window (and GitHub tokens refused as too wide); denials: denied per repository and reason; sts:
   * the STS p99; replay: token_reused per repository; github: the lowest GitHub rate limit left.
   */
  kind: "counts" | "denials" | "sts" | "replay" | "github";
  sql: string;
}

/** `timestamp` bound as an explicit instant, so one evaluation is reproducible whatever NOW() says. */
const at = (epochSeconds: number) => `toDateTime(${Math.floor(epochSeconds)})`;

/**
 * The statements needed by the enabled rules, windows ending at `endMs`. Counts are SUM(if(..., _sample_interval, 0)):
 * a sampled row stands for `_sample_interval` events. The STS p99 is weighted the same way and skips requests that
 * never reached STS (double5 = -1).
 */
export function alertQueries(rules: AlertRules, dataset: string, endMs: number): AlertQuery[] {
  const end = endMs / 1000;
  const queries: AlertQuery[] = [];
  const columns: string[] = [];
  let lookbackMinutes = 0;
  const issued = outcomeIs("issued");
  if (rules.issuance_drop.enabled) {
    const { window_minutes: window, baseline_minutes: baseline } = rules.issuance_drop;
    const split = at(end - window * 60);
    columns.push(
      `SUM(if(${issued} AND timestamp > ${split}, _sample_interval, 0)) AS issued_recent`,
      `SUM(if(${issued} AND timestamp <= ${split} AND timestamp > ${at(end - (window + baseline) * 60)}, _sample_interval, 0)) AS issued_baseline`,
    );
    lookbackMinutes = Math.max(lookbackMinutes, window + baseline);
  }
  if (rules.github_token_wide.enabled) {
    const window = rules.github_token_wide.window_minutes;
    columns.push(
      `SUM(if(${blob("reason")} = 'github_token_wider_than_asked' AND timestamp > ${at(end - window * 60)}, _sample_interval, 0)) AS github_tokens_too_wide`,
    );
    lookbackMinutes = Math.max(lookbackMinutes, window);
  }
  if (columns.length > 0) {
    queries.push({
      kind: "counts",
      sql: `SELECT
  ${columns.join(",\n  ")}
FROM ${dataset}
WHERE timestamp > ${at(end - lookbackMinutes * 60)} AND timestamp <= ${at(end)}`,
    });
  }
  if (rules.denials.enabled) {
    // Grouped by repository and reason (owners are derived from repositories when read back); largest first, so the
    // LIMIT drops only the smallest groups.
    queries.push({
      kind: "denials",
      sql: `SELECT
  ${blob("repository")} AS repository,
  ${blob("reason")} AS reason,
  ${COUNT} AS denials
FROM ${dataset}
WHERE timestamp > ${at(end - rules.denials.window_minutes * 60)} AND timestamp <= ${at(end)} AND ${outcomeIs("denied")}
GROUP BY repository, reason
ORDER BY denials DESC
LIMIT ${ALERT_DENIAL_GROUPS_LIMIT}`,
    });
  }
  if (rules.sts_p99.enabled) {
    queries.push({
      kind: "sts",
      sql: `SELECT
  ${quantileOf(0.99, "sts_ms")} AS sts_p99_ms,
  ${COUNT} AS sts_samples
FROM ${dataset}
WHERE timestamp > ${at(end - rules.sts_p99.window_minutes * 60)} AND timestamp <= ${at(end)} AND ${measured("sts_ms")}`,
    });
  }
  if (rules.replay.enabled) {
    // The index is the repository: Analytics Engine samples per index value, so per-repository counts stay exact.
    queries.push({
      kind: "replay",
      sql: `SELECT
  ${INDEX_COLUMN} AS repository,
  ${COUNT} AS replays
FROM ${dataset}
WHERE timestamp > ${at(end - rules.replay.window_minutes * 60)} AND timestamp <= ${at(end)} AND ${codeIs("token_reused")}
GROUP BY repository
ORDER BY replays DESC
LIMIT ${ALERT_REPLAY_MAX_REPOSITORIES}`,
    });
  }
  if (rules.github_rate_limit.enabled) {
    queries.push({
      kind: "github",
      sql: `SELECT
  MIN(${double("github_rate_remaining")}) AS github_min_remaining,
  ${COUNT} AS github_samples
FROM ${dataset}
WHERE timestamp > ${at(end - rules.github_rate_limit.window_minutes * 60)} AND timestamp <= ${at(end)} AND ${measured("github_rate_remaining")}`,
    });
  }
  return queries;
}

const numberOr = (value: unknown, fallback: number) => (typeof value === "number" ? value : fallback);

/**
 * Metrics from the answers, in the order of `alertQueries`. An aggregate over no rows is one row of zeros (or null).
 */
export function readAlertMetrics(rules: AlertRules, queries: AlertQuery[], results: SqlResult[]): AlertMetrics {
  const metrics: AlertMetrics = {};
  queries.forEach((query, i) => {
    const row = results[i]?.rows[0] ?? {};
    if (query.kind === "counts") {
      if (rules.issuance_drop.enabled) {
        metrics.issuedRecent = numberOr(row.issued_recent, 0);
        metrics.issuedBaseline = numberOr(row.issued_baseline, 0);
      }
      if (rules.github_token_wide.enabled) metrics.githubTokensTooWide = numberOr(row.github_tokens_too_wide, 0);
    } else if (query.kind === "denials") {
      metrics.denialGroups = denialGroups(results[i]?.rows ?? []);
      metrics.denials = metrics.denialGroups.reduce((sum, group) => sum + group.count, 0);
    } else if (query.kind === "replay") {
      metrics.replays = (results[i]?.rows ?? []).map((r) => ({
        repository: String(r.repository ?? ""),
        count: numberOr(r.replays, 0),
      }));
    } else if (query.kind === "github") {
      metrics.githubMinRemaining =
        numberOr(row.github_samples, 0) > 0 && typeof row.github_min_remaining === "number"
          ? row.github_min_remaining
          : null;
    } else {
      metrics.stsSamples = numberOr(row.sts_samples, 0);
      metrics.stsP99Ms = metrics.stsSamples > 0 && typeof row.sts_p99_ms === "number" ? row.sts_p99_ms : null;
    }
  });
  return metrics;
}

/** The owner of a repository: GitHub `owner/name` -> owner; GitLab `group/sub/project` -> the top-level group. */
function ownerOf(repository: string): string {
  const slash = repository.indexOf("/");
  return slash === -1 ? repository : repository.slice(0, slash);
}

/** Rows of (repository, reason, denials) summed per owner and reason, largest first (ties by owner, then reason). */
export function denialGroups(rows: ReadonlyArray<Record<string, unknown>>): DenialGroup[] {
  const groups = new Map<string, DenialGroup>();
  for (const row of rows) {
    const repository = typeof row.repository === "string" ? row.repository : "";
    const reason = typeof row.reason === "string" ? row.reason : "";
    const owner = ownerOf(repository);
    const key = `${owner}\n${reason}`;
    const group = groups.get(key) ?? { owner, reason, count: 0, repositories: 0 };
    group.count += numberOr(row.denials, 0);
    group.repositories += 1;
    groups.set(key, group);
  }
  return [...groups.values()].sort(
    (a, b) => b.count - a.count || a.owner.localeCompare(b.owner) || a.reason.localeCompare(b.reason),
  );
}
