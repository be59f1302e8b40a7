// The SQL of each named query, built for a frame: the CLI's window over one dataset, or a Grafana panel's macros
// (src/dashboards/), so `npm run analytics` and the dashboard agree. Pure; no I/O; no clock. Every count
// is SUM(_sample_interval) and every quantile quantileExactWeighted(..)(.., _sample_interval) (sql-fragments.ts):
// Analytics Engine samples at high volume, and a row then stands for `_sample_interval` events
// (developers.cloudflare.com/analytics/analytics-engine/sampling/).
import { ANALYTICS_TABLE_LIMIT } from "./constants.ts";
import { blob, double, INDEX_COLUMN, type AuditDouble } from "./schema.ts";
import { sqlString } from "./sql-api.ts";
import { COUNT, countWhere, measured, outcomeIs, quantileOf } from "./sql-fragments.ts";

/**
 * Where and over what a query runs. The CLI reads one dataset over the minutes before NOW(); a Grafana panel reads
 * the dashboard's dataset variable over the panel's time range with the Altinity plugin's macros (src/dashboards/).
 * Both build their SQL from the same functions below, so a dashboard panel and `npm run analytics` agree.
 */
export interface QueryFrame {
  /** What FROM names: a dataset, or a dashboard variable. */
  table: string;
  /** The time condition: `timestamp > NOW() - INTERVAL '60' MINUTE`, or `$timeFilter`. */
  window: string;
  /** The time bucket of a series: `toStartOfInterval(timestamp, INTERVAL '2' MINUTE)`, or `$timeSeries`. */
  bucket: string;
  /** One more condition on every query (the dashboard's repository filter). */
  filter?: string;
  /** Add MAX(_sample_interval) AS max_sample_interval, so the CLI can say counts are estimates; panels leave it out. */
  sampleColumn: boolean;
}
const SAMPLE = "MAX(_sample_interval) AS max_sample_interval";

/** `WHERE` with the frame's window, its filter and the query's own conditions. */
export function whereClause(frame: QueryFrame, ...conditions: string[]): string {
  return `WHERE ${[frame.window, ...(frame.filter === undefined ? [] : [frame.filter]), ...conditions].join(" AND ")}`;
}

/** The SELECT list with the sampling column when the frame wants it. */
function selectList(frame: QueryFrame, columns: string[]): string {
  return [...columns, ...(frame.sampleColumn ? [SAMPLE] : [])].join(",\n  ");
}

function outcomeColumns(): string[] {
  return [
    `${countWhere(outcomeIs("issued"))} AS issued`,
    `${countWhere(`${outcomeIs("issued")} AND ${blob("kind")} = 'github_token'`)} AS github_tokens`,
    `${countWhere(outcomeIs("denied"))} AS denied`,
    `${countWhere(outcomeIs("rejected"))} AS rejected`,
    `${countWhere(outcomeIs("error"))} AS errors`,
  ];
}

export interface LatencyStage {
  label: string;
  /** Column-name prefix in a series (`total_issued_p50_ms`). */
  key: string;
  column: AuditDouble;
  filter?: string;
}

export const LATENCY_STAGES: readonly LatencyStage[] = [
  { label: "total", key: "total", column: "total_ms" },
  { label: "total (issued)", key: "total_issued", column: "total_ms", filter: outcomeIs("issued") },
  { label: "verify", key: "verify", column: "verify_ms" },
  { label: "admission", key: "admission", column: "admission_ms" },
  { label: "github", key: "github", column: "github_ms" },
  { label: "sts", key: "sts", column: "sts_ms" },
];

export function issuanceSql(frame: QueryFrame): string {
  return `SELECT
  ${selectList(frame, [`${frame.bucket} AS t`, ...outcomeColumns()])}
FROM ${frame.table}
${whereClause(frame)}
GROUP BY t
ORDER BY t ASC`;
}

export function denialsSql(frame: QueryFrame): string {
  return `SELECT
  ${selectList(frame, [`${blob("kind")} AS kind`, `${blob("outcome")} AS outcome`, `${blob("code")} AS code`, `${blob("reason")} AS reason`, `${blob("rule_id")} AS rule_id`, `${COUNT} AS requests`])}
FROM ${frame.table}
${whereClause(frame, `${blob("outcome")} IN ('denied', 'rejected')`)}
GROUP BY kind, outcome, code, reason, rule_id
ORDER BY requests DESC
LIMIT ${ANALYTICS_TABLE_LIMIT}`;
}

export function topReposSql(frame: QueryFrame): string {
  return `SELECT
  ${selectList(frame, [`${INDEX_COLUMN} AS repository`, `${COUNT} AS requests`, ...outcomeColumns()])}
FROM ${frame.table}
${whereClause(frame)}
GROUP BY repository
ORDER BY requests DESC
LIMIT ${ANALYTICS_TABLE_LIMIT}`;
}

/**
 * p50 and p99 of one stage. Stages that did not run hold AUDIT_NOT_MEASURED (-1): filtered out, never averaged in.
 * `series`: per time bucket, with the stage's key in the column names (a panel's lines); else one row over the window.
 */
export function latencyStageSql(frame: QueryFrame, stage: LatencyStage, options: { series: boolean }): string {
  const name = (suffix: string) => (options.series ? `${stage.key}_${suffix}` : suffix);
  const columns = [
    `${quantileOf(0.5, stage.column)} AS ${name("p50_ms")}`,
    `${quantileOf(0.99, stage.column)} AS ${name("p99_ms")}`,
  ];
  const conditions = [measured(stage.column), ...(stage.filter === undefined ? [] : [stage.filter])];
  if (!options.series)
    return `SELECT\n  ${selectList(frame, [...columns, `${COUNT} AS requests`])}\nFROM ${frame.table}\n${whereClause(frame, ...conditions)}`;
  return `SELECT\n  ${selectList(frame, [`${frame.bucket} AS t`, ...columns])}\nFROM ${frame.table}\n${whereClause(frame, ...conditions)}\nGROUP BY t\nORDER BY t ASC`;
}

export function replaysSql(frame: QueryFrame): string {
  return `SELECT
  ${selectList(frame, [`${INDEX_COLUMN} AS repository`, `${blob("code")} AS code`, `${blob("reason")} AS reason`, `${COUNT} AS events`, "MIN(timestamp) AS first_seen", "MAX(timestamp) AS last_seen"])}
FROM ${frame.table}
${whereClause(frame, `${blob("code")} IN ('token_reused', 'rate_limited')`)}
GROUP BY repository, code, reason
ORDER BY events DESC
LIMIT ${ANALYTICS_TABLE_LIMIT}`;
}

/** The lowest x-ratelimit-remaining GitHub reported per bucket (only buckets where an exchange called GitHub). */
export function githubRateSql(frame: QueryFrame): string {
  return `SELECT
  ${selectList(frame, [`${frame.bucket} AS t`, `MIN(${double("github_rate_remaining")}) AS lowest_remaining`, `${COUNT} AS exchanges`])}
FROM ${frame.table}
${whereClause(frame, measured("github_rate_remaining"))}
GROUP BY t
ORDER BY t ASC`;
}

/** One repository's requests, newest first: rows, not counts, each standing for its own `_sample_interval` events. */
export function repositorySql(frame: QueryFrame, repository: string): string {
  const columns = [
    "outcome",
    "reason",
    "issuer",
    "rule_id",
    "role_alias",
    "ref",
    "event_name",
    "request_id",
    "token_sha256",
  ] as const;
  return `SELECT
  timestamp,
  ${columns.map((name) => `${blob(name)} AS ${name}`).join(",\n  ")},
  _sample_interval AS max_sample_interval
FROM ${frame.table}
${whereClause(frame, `${blob("repository")} = ${sqlString(repository)}`)}
ORDER BY timestamp DESC
LIMIT ${ANALYTICS_TABLE_LIMIT}`;
}

function recordSelect(): string {
  return [
    "timestamp",
    `${blob("request_id")} AS request_id`,
    `${blob("kind")} AS kind`,
    `${blob("outcome")} AS outcome`,
    `${blob("code")} AS code`,
    `${blob("reason")} AS reason`,
    `${blob("issuer")} AS issuer`,
    `${blob("repository")} AS repository`,
    `${blob("ref")} AS ref`,
    `${blob("event_name")} AS event_name`,
    `${blob("rule_id")} AS rule_id`,
    `${blob("role_alias")} AS role_alias`,
    `${blob("token_sha256")} AS token_sha256`,
    `${blob("github_token")} AS github_token`,
    `${blob("github_repositories")} AS github_repositories`,
    `${blob("github_permissions")} AS github_permissions`,
    `${blob("minted_sha256")} AS minted_sha256`,
    `${double("status")} AS status`,
    `${double("total_ms")} AS total_ms`,
    `${double("verify_ms")} AS verify_ms`,
    `${double("admission_ms")} AS admission_ms`,
    `${double("github_ms")} AS github_ms`,
    `${double("sts_ms")} AS sts_ms`,
    `${double("sts_attempts")} AS sts_attempts`,
    "_sample_interval",
  ].join(",\n  ");
}

/** Every column of the requests matching `condition` (already-validated SQL), newest first. */
export function recordSql(frame: QueryFrame, condition: string): string {
  return `SELECT
  ${recordSelect()}
FROM ${frame.table}
${whereClause(frame, condition)}
ORDER BY timestamp DESC
LIMIT ${ANALYTICS_TABLE_LIMIT}`;
}
