// The named queries of `npm run analytics`: their names, what each takes (window, argument) and the plan of SQL
// statements to run (query-sql.ts writes the SQL; query-shape.ts shapes the answers). Pure; no I/O; no clock.
import {
  ANALYTICS_DEFAULT_SINCE_MINUTES,
  ANALYTICS_MAX_SINCE_MINUTES,
  ANALYTICS_REQUEST_DEFAULT_SINCE_MINUTES,
  ANALYTICS_SERIES_TARGET_BUCKETS,
  TOKEN_HASH_PREFIX_HEX_CHARS,
} from "./constants.ts";
import {
  denialsSql,
  githubRateSql,
  issuanceSql,
  LATENCY_STAGES,
  latencyStageSql,
  recordSql,
  replaysSql,
  repositorySql,
  topReposSql,
  type QueryFrame,
} from "./query-sql.ts";
import { blob } from "./schema.ts";
import { sqlString } from "./sql-api.ts";

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
const since = (minutes: number) => `timestamp > NOW() - INTERVAL '${minutes}' MINUTE`;

const REQUEST_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TOKEN_HASH_PATTERN = new RegExp(`^[0-9a-f]{${TOKEN_HASH_PREFIX_HEX_CHARS}}$`);
/** A GitHub repository or GitLab project path as claims carry it: no quote or white space can reach the SQL. */
const REPOSITORY_PATTERN = /^[\w.-]+(\/[\w.-]+)+$/;

/** The CLI's frame: one dataset, the `sinceMinutes` before NOW(), round buckets of about 30 per window. */
export function cliFrame(dataset: string, sinceMinutes: number): QueryFrame {
  return {
    table: dataset,
    window: since(sinceMinutes),
    bucket: `toStartOfInterval(timestamp, INTERVAL '${bucketMinutesFor(sinceMinutes)}' MINUTE)`,
    sampleColumn: true,
  };
}

function plan(name: QueryName, title: string, sql: string): QueryPlan {
  return { name, title, shape: "table", statements: [{ sql }] };
}

function repositoryPlan(frame: QueryFrame, argument: string | undefined): QueryPlan {
  const repository = (argument ?? "").trim();
  if (!REPOSITORY_PATTERN.test(repository) || repository.length > 256)
    throw new QueryInputError("repository needs owner/name (GitLab: group/…/project), spelled as top-repos shows it");
  return plan("repository", `Requests of ${repository}`, repositorySql(frame, repository));
}

/** One request by its id, or the requests of a token hash prefix (the OIDC token's or a minted GitHub token's). */
function recordPlan(frame: QueryFrame, name: "request" | "token", argument: string | undefined): QueryPlan {
  const value = (argument ?? "").trim().toLowerCase();
  const isRequest = name === "request";
  if (!(isRequest ? REQUEST_ID_PATTERN : TOKEN_HASH_PATTERN).test(value)) {
    throw new QueryInputError(
      isRequest
        ? "request needs a request id (a UUID, as in the response's request_id)"
        : `token needs a ${TOKEN_HASH_PREFIX_HEX_CHARS}-hex-digit token_sha256 prefix`,
    );
  }
  const condition = isRequest
    ? `${blob("request_id")} = ${sqlString(value)}`
    : `(${blob("token_sha256")} = ${sqlString(value)} OR ${blob("minted_sha256")} = ${sqlString(value)})`;
  return {
    name,
    title: isRequest ? `Request ${value}` : `Requests with token_sha256 or minted_sha256 ${value}`,
    shape: "record",
    statements: [{ sql: recordSql(frame, condition) }],
  };
}

/** The SQL for a named query. Throws QueryInputError on a bad argument (the only user text that reaches SQL). */
export function planQuery(input: QueryInput): QueryPlan {
  const frame = cliFrame(input.dataset, input.sinceMinutes);
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
      return plan("denials", "Denials and rejections by reason", denialsSql(frame));
    case "top-repos":
      return plan("top-repos", "Top repositories", topReposSql(frame));
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
      return plan("replays", "Replays and rate limiting", replaysSql(frame));
    case "github-rate":
      return plan(
        "github-rate",
        `Lowest GitHub rate limit left per ${bucketMinutesFor(input.sinceMinutes)} min`,
        githubRateSql(frame),
      );
    case "repository":
      return repositoryPlan(frame, input.argument);
    case "request":
    case "token":
      return recordPlan(frame, input.name, input.argument);
  }
}
