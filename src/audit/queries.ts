// The named queries of `npm run analytics` and the Grafana panels: SQL text over the audit schema, built for a frame
// (the CLI's window, or a panel's macros); query-shape.ts shapes their answers. Pure; no I/O; no clock. Every count
// is SUM(_sample_interval) and every quantile quantileExactWeighted(..)(.., _sample_interval) (sql-fragments.ts):
// Analytics Engine samples at high volume, and a row then stands for `_sample_interval` events
// (developers.cloudflare.com/analytics/analytics-engine/sampling/).
import {
  ANALYTICS_DEFAULT_SINCE_MINUTES,
  ANALYTICS_MAX_SINCE_MINUTES,
  ANALYTICS_REQUEST_DEFAULT_SINCE_MINUTES,
  ANALYTICS_SERIES_TARGET_BUCKETS,
  ANALYTICS_TABLE_LIMIT,
  TOKEN_HASH_PREFIX_HEX_CHARS,
} from "./constants.ts";
import { blob, double, INDEX_COLUMN, type AuditDouble } from "./schema.ts";
import { sqlString } from "./sql-api.ts";
import { COUNT, countWhere, measured, outcomeIs, quantileOf } from "./sql-fragments.ts";

export const QUERY_NAMES = [
  "issuance",
  "denials",
  "top-repos",
  "latency",
  "replays",
  "github-rate",
  "request",
  "token",
  "repository",
] as const;
export type QueryName = (typeof QUERY_NAMES)[number];

export const QUERY_DESCRIPTIONS: Record<QueryName, string> = {
  issuance:
    "issuance rate over time (GitHub tokens among them), with denials, rejections and errors per bucket (chart)",
  denials: "denied and rejected requests by kind (aws, github_token), outcome, code, internal reason and rule",
  "top-repos": "repositories by requests, with outcomes",
  latency: "p50/p99 of total, verification, admission, GitHub and STS time",
  replays: "replayed tokens (token_reused) and rate limiting (rate_limited) by repository",
  "github-rate": "the lowest GitHub API rate limit left per time bucket, and the exchanges that called GitHub",
  request: "one request by its request id (the request_id the client saw)",
  token: "requests by token SHA-256 prefix: the OIDC token's (token_sha256) or a minted GitHub token's (minted_sha256)",
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
  if (minutes < 1 || minutes > ANALYTICS_MAX_SINCE_MINUTES)
    throw new QueryInputError(`--since must be between 1m and ${ANALYTICS_MAX_SINCE_MINUTES / 1440}d`);
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

const since = (minutes: number) => `timestamp > NOW() - INTERVAL '${minutes}' MINUTE`;
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

const REQUEST_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TOKEN_HASH_PATTERN = new RegExp(`^[0-9a-f]{${TOKEN_HASH_PREFIX_HEX_CHARS}}$`);
/** A GitHub repository or GitLab project path as claims carry it: no quote or white space can reach the SQL. */
const REPOSITORY_PATTERN = /^[\w.-]+(\/[\w.-]+)+$/;

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

/** The CLI's frame: one dataset, the `sinceMinutes` before NOW(), round buckets of about 30 per window. */
export function cliFrame(dataset: string, sinceMinutes: number): QueryFrame {
  return {
    table: dataset,
    window: since(sinceMinutes),
    bucket: `toStartOfInterval(timestamp, INTERVAL '${bucketMinutesFor(sinceMinutes)}' MINUTE)`,
    sampleColumn: true,
  };
}

/** The SQL for a named query. Throws QueryInputError on a bad argument (the only user text that reaches SQL). */
export function planQuery(input: QueryInput): QueryPlan {
  const frame = cliFrame(input.dataset, input.sinceMinutes);
  const table = (name: QueryName, title: string, sql: string): QueryPlan => ({
    name,
    title,
    shape: "table",
    statements: [{ sql }],
  });
  switch (input.name) {
    case "issuance": {
      const bucket = bucketMinutesFor(input.sinceMinutes);
      return {
        name: "issuance",
        title: `Issuance per ${bucket} min`,
        shape: "series",
        bucketMinutes: bucket,
        statements: [{ sql: issuanceSql(frame) }],
      };
    }
    case "denials":
      return table("denials", "Denials and rejections by reason", denialsSql(frame));
    case "top-repos":
      return table("top-repos", "Top repositories", topReposSql(frame));
    case "latency":
      return {
        name: "latency",
        title: "Latency in ms",
        shape: "table",
        statements: LATENCY_STAGES.map((stage) => ({
          label: stage.label,
          sql: latencyStageSql(frame, stage, { series: false }),
        })),
      };
    case "replays":
      return table("replays", "Replays and rate limiting", replaysSql(frame));
    case "github-rate":
      return table(
        "github-rate",
        `Lowest GitHub rate limit left per ${bucketMinutesFor(input.sinceMinutes)} min`,
        githubRateSql(frame),
      );
    case "repository": {
      const repository = (input.argument ?? "").trim();
      if (!REPOSITORY_PATTERN.test(repository) || repository.length > 256)
        throw new QueryInputError(
          "repository needs owner/name (GitLab: group/…/project), spelled as top-repos shows it",
        );
      return table("repository", `Requests of ${repository}`, repositorySql(frame, repository));
    }
    case "request":
    case "token": {
      const argument = (input.argument ?? "").trim().toLowerCase();
      const isRequest = input.name === "request";
      if (!(isRequest ? REQUEST_ID_PATTERN : TOKEN_HASH_PATTERN).test(argument)) {
        throw new QueryInputError(
          isRequest
            ? "request needs a request id (a UUID, as in the response's request_id)"
            : `token needs a ${TOKEN_HASH_PREFIX_HEX_CHARS}-hex-digit token_sha256 prefix`,
        );
      }
      return {
        name: input.name,
        title: isRequest ? `Request ${argument}` : `Requests with token_sha256 or minted_sha256 ${argument}`,
        shape: "record",
        statements: [
          {
            sql: `SELECT
  ${recordSelect()}
FROM ${input.dataset}
WHERE ${since(input.sinceMinutes)} AND ${isRequest ? `${blob("request_id")} = ${sqlString(argument)}` : `(${blob("token_sha256")} = ${sqlString(argument)} OR ${blob("minted_sha256")} = ${sqlString(argument)})`}
ORDER BY timestamp DESC
LIMIT ${ANALYTICS_TABLE_LIMIT}`,
          },
        ],
      };
    }
  }
}
