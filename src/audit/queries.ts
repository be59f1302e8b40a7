// The named queries of `npm run analytics`: SQL text over the audit schema, and the shaping of their answers into one
// table (time series gap-filled). Pure; no I/O; the clock arrives as `nowMs`. Every count is SUM(_sample_interval) and
// every quantile quantileExactWeighted(..)(.., _sample_interval): Analytics Engine samples at high volume, and a row
// then stands for `_sample_interval` events (developers.cloudflare.com/analytics/analytics-engine/sampling/).
import {
  ANALYTICS_DEFAULT_SINCE_MINUTES,
  ANALYTICS_MAX_SINCE_MINUTES,
  ANALYTICS_REQUEST_DEFAULT_SINCE_MINUTES,
  ANALYTICS_SERIES_TARGET_BUCKETS,
  ANALYTICS_TABLE_LIMIT,
  AUDIT_NOT_MEASURED,
  TOKEN_HASH_PREFIX_HEX_CHARS,
} from "../constants.ts";
import { blob, double, INDEX_COLUMN, type AuditDouble } from "./schema.ts";
import { sqlString, type SqlResult, type SqlValue } from "./sql-api.ts";

export const QUERY_NAMES = ["issuance", "denials", "top-repos", "latency", "replays", "request", "token", "repository"] as const;
export type QueryName = (typeof QUERY_NAMES)[number];

export const QUERY_DESCRIPTIONS: Record<QueryName, string> = {
  issuance: "issuance rate over time, with denials, rejections and errors per bucket (chart)",
  denials: "denied and rejected requests by outcome, code, internal reason and rule",
  "top-repos": "repositories by requests, with outcomes",
  latency: "p50/p99 of total, verification, admission and STS time",
  replays: "replayed tokens (token_reused) and rate limiting (rate_limited) by repository",
  request: "one request by its request id (the request_id the client saw)",
  token: "requests by token SHA-256 prefix (the token_sha256 field)",
  repository: "one repository's requests, newest first: what it was issued (rule, role, ref) and what was refused",
};

export interface QueryInput {
  name: QueryName;
  dataset: string;
  sinceMinutes: number;
  /** request id (request), token hash prefix (token) or `owner/name` (repository). */
  argument?: string;
}

export interface Statement {
  /** Row label when a query runs several statements (latency: one per stage). */
  label?: string;
  sql: string;
}

export interface QueryPlan {
  name: QueryName;
  title: string;
  statements: Statement[];
  /** series: first column `t` is a time bucket; record: one row per event, shown vertically. */
  shape: "series" | "table" | "record";
  bucketMinutes?: number;
}

/** One displayable table: column names and rows of values; the time series too, when there is one. */
export interface QueryTable {
  title: string;
  columns: string[];
  rows: SqlValue[][];
  shape: QueryPlan["shape"];
  series?: { bucketMinutes: number; column: string; points: Array<{ t: number; value: number }> };
  /** Largest _sample_interval seen: above 1, counts are estimates from sampled rows. */
  maxSampleInterval: number;
}

export class QueryInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QueryInputError";
  }
}

/** `30m`, `6h`, `7d` -> minutes. Bounded by the dataset's 3-month retention. */
export function parseSince(text: string): number {
  const match = /^(\d{1,6})([mhd])$/.exec(text.trim());
  if (match === null) throw new QueryInputError(`--since must look like 30m, 6h or 7d (got ${JSON.stringify(text)})`);
  const minutes = Number(match[1]) * { m: 1, h: 60, d: 1440 }[match[2] as "m" | "h" | "d"];
  if (minutes < 1 || minutes > ANALYTICS_MAX_SINCE_MINUTES) throw new QueryInputError(`--since must be between 1m and ${ANALYTICS_MAX_SINCE_MINUTES / 1440}d`);
  return minutes;
}

/** The queries that take an argument (a request id, a token hash, a repository) and look back 7 days by default. */
export const LOOKUP_QUERIES: readonly QueryName[] = ["request", "token", "repository"];

export function defaultSinceMinutes(name: QueryName): number {
  return LOOKUP_QUERIES.includes(name) ? ANALYTICS_REQUEST_DEFAULT_SINCE_MINUTES : ANALYTICS_DEFAULT_SINCE_MINUTES;
}

const BUCKET_STEPS_MINUTES = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];

/** The smallest "round" bucket that cuts the window into at most ANALYTICS_SERIES_TARGET_BUCKETS buckets. */
export function bucketMinutesFor(sinceMinutes: number): number {
  const wanted = sinceMinutes / ANALYTICS_SERIES_TARGET_BUCKETS;
  return BUCKET_STEPS_MINUTES.find((step) => step >= wanted) ?? 1440;
}

const count = "SUM(_sample_interval)";
const countWhere = (condition: string) => `SUM(if(${condition}, _sample_interval, 0))`;
const outcomeIs = (outcome: string) => `${blob("outcome")} = ${sqlString(outcome)}`;
const since = (minutes: number) => `timestamp > NOW() - INTERVAL '${minutes}' MINUTE`;
const SAMPLE = "MAX(_sample_interval) AS max_sample_interval";

function outcomeColumns(): string {
  return [
    `${countWhere(outcomeIs("issued"))} AS issued`,
    `${countWhere(outcomeIs("denied"))} AS denied`,
    `${countWhere(outcomeIs("rejected"))} AS rejected`,
    `${countWhere(outcomeIs("error"))} AS errors`,
  ].join(",\n  ");
}

const REQUEST_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TOKEN_HASH_PATTERN = new RegExp(`^[0-9a-f]{${TOKEN_HASH_PREFIX_HEX_CHARS}}$`);
/** A GitHub repository or GitLab project path as claims carry it: no quote or white space can reach the SQL. */
const REPOSITORY_PATTERN = /^[\w.-]+(\/[\w.-]+)+$/;

const LATENCY_STAGES: Array<{ label: string; column: AuditDouble; filter?: string }> = [
  { label: "total", column: "total_ms" },
  { label: "total (issued)", column: "total_ms", filter: outcomeIs("issued") },
  { label: "verify", column: "verify_ms" },
  { label: "admission", column: "admission_ms" },
  { label: "sts", column: "sts_ms" },
];

function recordSelect(): string {
  return [
    "timestamp",
    `${blob("request_id")} AS request_id`,
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
    `${double("status")} AS status`,
    `${double("total_ms")} AS total_ms`,
    `${double("verify_ms")} AS verify_ms`,
    `${double("admission_ms")} AS admission_ms`,
    `${double("sts_ms")} AS sts_ms`,
    `${double("sts_attempts")} AS sts_attempts`,
    "_sample_interval",
  ].join(",\n  ");
}

/** The SQL for a named query. Throws QueryInputError on a bad argument (the only user text that reaches SQL). */
export function planQuery(input: QueryInput): QueryPlan {
  const { dataset, sinceMinutes } = input;
  const window = since(sinceMinutes);
  switch (input.name) {
    case "issuance": {
      const bucket = bucketMinutesFor(sinceMinutes);
      return {
        name: "issuance",
        title: `Issuance per ${bucket} min`,
        shape: "series",
        bucketMinutes: bucket,
        statements: [
          {
            sql: `SELECT
  toStartOfInterval(timestamp, INTERVAL '${bucket}' MINUTE) AS t,
  ${outcomeColumns()},
  ${SAMPLE}
FROM ${dataset}
WHERE ${window}
GROUP BY t
ORDER BY t ASC`,
          },
        ],
      };
    }
    case "denials":
      return {
        name: "denials",
        title: "Denials and rejections by reason",
        shape: "table",
        statements: [
          {
            sql: `SELECT
  ${blob("outcome")} AS outcome,
  ${blob("code")} AS code,
  ${blob("reason")} AS reason,
  ${blob("rule_id")} AS rule_id,
  ${count} AS requests,
  ${SAMPLE}
FROM ${dataset}
WHERE ${window} AND ${blob("outcome")} IN ('denied', 'rejected')
GROUP BY outcome, code, reason, rule_id
ORDER BY requests DESC
LIMIT ${ANALYTICS_TABLE_LIMIT}`,
          },
        ],
      };
    case "top-repos":
      return {
        name: "top-repos",
        title: "Top repositories",
        shape: "table",
        statements: [
          {
            sql: `SELECT
  ${INDEX_COLUMN} AS repository,
  ${count} AS requests,
  ${outcomeColumns()},
  ${SAMPLE}
FROM ${dataset}
WHERE ${window}
GROUP BY repository
ORDER BY requests DESC
LIMIT ${ANALYTICS_TABLE_LIMIT}`,
          },
        ],
      };
    case "latency":
      return {
        name: "latency",
        title: "Latency in ms",
        shape: "table",
        statements: LATENCY_STAGES.map((stage) => ({
          label: stage.label,
          // Stages that did not run hold AUDIT_NOT_MEASURED (-1): filtered out, never averaged in.
          sql: `SELECT
  quantileExactWeighted(0.5)(${double(stage.column)}, _sample_interval) AS p50_ms,
  quantileExactWeighted(0.99)(${double(stage.column)}, _sample_interval) AS p99_ms,
  ${count} AS requests,
  ${SAMPLE}
FROM ${dataset}
WHERE ${window} AND ${double(stage.column)} > ${AUDIT_NOT_MEASURED}${stage.filter === undefined ? "" : ` AND ${stage.filter}`}`,
        })),
      };
    case "replays":
      return {
        name: "replays",
        title: "Replays and rate limiting",
        shape: "table",
        statements: [
          {
            sql: `SELECT
  ${INDEX_COLUMN} AS repository,
  ${blob("code")} AS code,
  ${blob("reason")} AS reason,
  ${count} AS events,
  MIN(timestamp) AS first_seen,
  MAX(timestamp) AS last_seen,
  ${SAMPLE}
FROM ${dataset}
WHERE ${window} AND ${blob("code")} IN ('token_reused', 'rate_limited')
GROUP BY repository, code, reason
ORDER BY events DESC
LIMIT ${ANALYTICS_TABLE_LIMIT}`,
          },
        ],
      };
    case "repository": {
      const repository = (input.argument ?? "").trim();
      if (!REPOSITORY_PATTERN.test(repository) || repository.length > 256) throw new QueryInputError("repository needs owner/name (GitLab: group/…/project), spelled as top-repos shows it");
      return {
        name: "repository",
        title: `Requests of ${repository}`,
        shape: "table",
        statements: [
          {
            sql: `SELECT
  timestamp,
  ${blob("outcome")} AS outcome,
  ${blob("reason")} AS reason,
  ${blob("issuer")} AS issuer,
  ${blob("rule_id")} AS rule_id,
  ${blob("role_alias")} AS role_alias,
  ${blob("ref")} AS ref,
  ${blob("event_name")} AS event_name,
  ${blob("request_id")} AS request_id,
  ${blob("token_sha256")} AS token_sha256,
  _sample_interval AS max_sample_interval
FROM ${dataset}
WHERE ${window} AND ${blob("repository")} = ${sqlString(repository)}
ORDER BY timestamp DESC
LIMIT ${ANALYTICS_TABLE_LIMIT}`,
          },
        ],
      };
    }
    case "request":
    case "token": {
      const argument = (input.argument ?? "").trim().toLowerCase();
      const isRequest = input.name === "request";
      if (!(isRequest ? REQUEST_ID_PATTERN : TOKEN_HASH_PATTERN).test(argument)) {
        throw new QueryInputError(
          isRequest ? "request needs a request id (a UUID, as in the response's request_id)" : `token needs a ${TOKEN_HASH_PREFIX_HEX_CHARS}-hex-digit token_sha256 prefix`,
        );
      }
      return {
        name: input.name,
        title: isRequest ? `Request ${argument}` : `Requests with token_sha256 ${argument}`,
        shape: "record",
        statements: [
          {
            sql: `SELECT
  ${recordSelect()}
FROM ${dataset}
WHERE ${window} AND ${blob(isRequest ? "request_id" : "token_sha256")} = ${sqlString(argument)}
ORDER BY timestamp DESC
LIMIT ${ANALYTICS_TABLE_LIMIT}`,
          },
        ],
      };
    }
  }
}

/** "2026-11-25 12:05:00" (the API's DateTime, UTC) -> ms since the epoch; NaN if it is not one. */
export function parseDateTime(value: SqlValue): number {
  if (typeof value !== "string") return Number.NaN;
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value);
  if (match === null) return Number.NaN;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

function maxSample(rows: Array<Record<string, SqlValue>>): number {
  let max = 1;
  for (const row of rows) {
    const value = row.max_sample_interval ?? row._sample_interval;
    if (typeof value === "number" && value > max) max = value;
  }
  return max;
}

/** Every bucket of the window, oldest first, with zeros where the API returned no row (it omits empty groups). */
function fillSeries(result: SqlResult, bucketMinutes: number, sinceMinutes: number, nowMs: number): Array<Record<string, SqlValue>> {
  const bucketMs = bucketMinutes * 60_000;
  const byBucket = new Map<number, Record<string, SqlValue>>();
  for (const row of result.rows) byBucket.set(parseDateTime(row.t ?? null), row);
  const valueColumns = result.columns.map((column) => column.name).filter((name) => name !== "t" && name !== "max_sample_interval");
  const first = Math.floor((nowMs - sinceMinutes * 60_000) / bucketMs) * bucketMs;
  const last = Math.floor(nowMs / bucketMs) * bucketMs;
  const rows: Array<Record<string, SqlValue>> = [];
  for (let t = first; t <= last; t += bucketMs) {
    const found = byBucket.get(t);
    rows.push({ t: formatDateTime(t), ...Object.fromEntries(valueColumns.map((name) => [name, found?.[name] ?? 0])) });
  }
  return rows;
}

/** The answers of a plan's statements as one table. */
export function shapeResult(plan: QueryPlan, results: SqlResult[], options: { sinceMinutes: number; nowMs: number }): QueryTable {
  const hidden = new Set(["max_sample_interval"]);
  const maxSampleInterval = Math.max(1, ...results.map((result) => maxSample(result.rows)));
  if (plan.name === "latency") {
    const columns = ["stage", "p50_ms", "p99_ms", "requests"];
    const rows = plan.statements.map((statement, i) => {
      const row = results[i]?.rows[0] ?? {};
      const requests = typeof row.requests === "number" ? row.requests : 0;
      // With no rows the quantile of nothing is meaningless (ClickHouse answers nan or the first value): show "-".
      return [statement.label ?? "", requests > 0 ? (row.p50_ms ?? null) : null, requests > 0 ? (row.p99_ms ?? null) : null, requests];
    });
    return { title: plan.title, columns, rows, shape: plan.shape, maxSampleInterval };
  }
  const result = results[0] ?? { columns: [], rows: [] };
  const columns = result.columns.map((column) => column.name).filter((name) => !hidden.has(name));
  if (plan.shape === "series" && plan.bucketMinutes !== undefined) {
    const filled = fillSeries(result, plan.bucketMinutes, options.sinceMinutes, options.nowMs);
    const seriesColumn = columns[1] ?? "value";
    return {
      title: plan.title,
      columns,
      rows: filled.map((row) => columns.map((name) => row[name] ?? null)),
      shape: plan.shape,
      series: {
        bucketMinutes: plan.bucketMinutes,
        column: seriesColumn,
        points: filled.map((row) => ({ t: parseDateTime(row.t ?? null), value: typeof row[seriesColumn] === "number" ? (row[seriesColumn] as number) : 0 })),
      },
      maxSampleInterval,
    };
  }
  return { title: plan.title, columns, rows: result.rows.map((row) => columns.map((name) => row[name] ?? null)), shape: plan.shape, maxSampleInterval };
}
