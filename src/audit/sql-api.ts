// Client of the Workers Analytics Engine SQL API, shared by `npm run analytics` (Node) and the alert cron (Worker).
// Fetch is injected; no clock. POST the SQL as the body with a Bearer token; the answer is FORMAT JSON: {meta, data,
// rows}.
// Reference: developers.cloudflare.com/analytics/analytics-engine/sql-api/ and .../sql-reference/statements/#json
import { CLOUDFLARE_API_BASE_URL, MAX_SQL_RESPONSE_BYTES, SQL_API_TIMEOUT_MS } from "./constants.ts";
import type { FetchFn } from "../deps.ts";
import type { StartTimer } from "../http/deadline.ts";
import { callUpstream, UpstreamError, type UpstreamAnswer } from "../http/upstream.ts";

export type SqlValue = string | number | null;

export interface SqlColumn {
  name: string;
  /** ClickHouse type name as the API reports it: String, DateTime, UInt64, Float64, ... */
  type: string;
}

export interface SqlResult {
  columns: SqlColumn[];
  rows: Array<Record<string, SqlValue>>;
}

export type SqlApiFailure = "unauthorized" | "bad_query" | "unavailable" | "timeout" | "bad_response";

/** A failed query. `detail` is at most a short excerpt of the API's own message, with the token removed. */
export class SqlApiError extends Error {
  readonly reason: SqlApiFailure;
  readonly status: number | undefined;
  readonly detail: string;

  constructor(reason: SqlApiFailure, status: number | undefined, detail: string) {
    super(
      `analytics engine sql api: ${reason}${status === undefined ? "" : ` (HTTP ${status})`}${detail === "" ? "" : `: ${detail}`}`,
    );
    this.name = "SqlApiError";
    this.reason = reason;
    this.status = status;
    this.detail = detail;
  }
}

export interface SqlApiOptions {
  /** 32 hex characters (Cloudflare dashboard, or CLOUDFLARE_ACCOUNT_ID). */
  accountId: string;
  /** API token with Account Analytics: Read. Sent as Bearer; never logged. */
  apiToken: string;
  fetch: FetchFn;
  timeoutMs?: number;
  /** Starts the call's timer; default the real timer. Injected so a test expires the call without waiting. */
  startTimer?: StartTimer;
  /** API base (default CLOUDFLARE_API_BASE_URL); `npm run analytics` points it at the sandbox's local SQL API. */
  baseUrl?: string;
}

const ACCOUNT_ID_PATTERN = /^[0-9a-f]{32}$/;

export function isAccountId(value: string): boolean {
  return ACCOUNT_ID_PATTERN.test(value);
}

export function sqlEndpoint(accountId: string, baseUrl = CLOUDFLARE_API_BASE_URL): string {
  if (!isAccountId(accountId)) throw new SqlApiError("unauthorized", undefined, "account id must be 32 hex characters");
  return `${baseUrl}/accounts/${accountId}/analytics_engine/sql`;
}

/** A SQL string literal: single quotes doubled, backslashes escaped (ClickHouse string literal rules). */
export function sqlString(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** Dataset names are SQL identifiers here; refuse anything else rather than quote it. */
export function isDatasetName(value: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(value);
}

const NUMERIC_TYPE = /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/;

/**
 * ClickHouse's JSON format quotes 64-bit integers ("UInt64" sums arrive as strings) and may print nan/inf: every
 * numeric column becomes a finite number or null, so callers never parse numbers themselves.
 */
function normalise(value: unknown, type: string): SqlValue {
  if (value === null || value === undefined) return null;
  if (NUMERIC_TYPE.test(type)) {
    const number = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
    return Number.isFinite(number) ? number : null;
  }
  if (typeof value === "string" || typeof value === "number") return value;
  return JSON.stringify(value);
}

/** Parse a FORMAT JSON answer. Pure. Throws SqlApiError("bad_response") on anything else. */
export function parseSqlResponse(text: string): SqlResult {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new SqlApiError("bad_response", undefined, "not JSON");
  }
  const meta = (body as { meta?: unknown }).meta;
  const data = (body as { data?: unknown }).data;
  if (!Array.isArray(meta) || !Array.isArray(data)) throw new SqlApiError("bad_response", undefined, "no meta/data");
  const columns: SqlColumn[] = meta.map((column: unknown) => {
    const { name, type } = (column ?? {}) as { name?: unknown; type?: unknown };
    if (typeof name !== "string" || typeof type !== "string")
      throw new SqlApiError("bad_response", undefined, "bad meta");
    return { name, type };
  });
  const rows = data.map((row: unknown) => {
    if (row === null || typeof row !== "object") throw new SqlApiError("bad_response", undefined, "bad row");
    const record = row as Record<string, unknown>;
    return Object.fromEntries(columns.map((column) => [column.name, normalise(record[column.name], column.type)]));
  });
  return { columns, rows };
}

/** A short, single-line excerpt of an error body: the API's `errors[].message` if it has them, never the token. */
function errorDetail(text: string, token: string): string {
  let detail = text;
  try {
    const errors = (JSON.parse(text) as { errors?: Array<{ message?: unknown }> }).errors;
    if (Array.isArray(errors)) detail = errors.map((error) => String(error?.message ?? "")).join("; ");
  } catch {
    // Plain-text error (the SQL endpoint answers query errors as text).
  }
  if (token !== "") detail = detail.split(token).join("[token]");
  return detail
    .replace(/[\u0000-\u001f\u007f]+/g, " ")
    .trim()
    .slice(0, 200);
}

function failureFor(status: number): SqlApiFailure {
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 429 || status >= 500) return "unavailable";
  return "bad_query";
}

/** The outbound-request helper's failure as a SqlApiError: kinds and status only, never the URL or the token. */
function sqlFailure(error: unknown, timeoutMs: number): unknown {
  if (!(error instanceof UpstreamError)) return error;
  switch (error.kind) {
    case "timeout":
    case "budget":
      return new SqlApiError("timeout", undefined, `no answer within ${timeoutMs} ms`);
    case "network":
      return new SqlApiError("unavailable", undefined, error.detail);
    case "redirect":
      // The SQL API answers from its own URL: a redirect (a proxy, a moved base URL) would carry the token elsewhere.
      return new SqlApiError("bad_response", error.status, "redirect refused");
    case "too_large":
      return new SqlApiError("bad_response", error.status, "response too large");
    default:
      return new SqlApiError("bad_response", error.status, "response unreadable");
  }
}

/** Run one query. Appends FORMAT JSON when the statement names no format. */
export async function runSql(sql: string, options: SqlApiOptions): Promise<SqlResult> {
  const url = sqlEndpoint(options.accountId, options.baseUrl);
  const statement = /\bFORMAT\s+\w+\s*$/i.test(sql.trim()) ? sql.trim() : `${sql.trim()}\nFORMAT JSON`;
  const timeoutMs = options.timeoutMs ?? SQL_API_TIMEOUT_MS;
  let answer: UpstreamAnswer;
  try {
    answer = await callUpstream(options.fetch, url, {
      method: "POST",
      headers: { authorization: `Bearer ${options.apiToken}`, "content-type": "text/plain; charset=utf-8" },
      body: statement,
      timeoutMs,
      maxBytes: MAX_SQL_RESPONSE_BYTES,
      startTimer: options.startTimer,
    });
  } catch (error) {
    throw sqlFailure(error, timeoutMs);
  }
  if (answer.status < 200 || answer.status > 299)
    throw new SqlApiError(failureFor(answer.status), answer.status, errorDetail(answer.text, options.apiToken));
  return parseSqlResponse(answer.text);
}
