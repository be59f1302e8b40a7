// Client of the Workers Analytics Engine SQL API, shared by `npm run analytics` (Node) and the alert cron (Worker).
// Fetch is injected; no clock. POST the SQL as the body with a Bearer token; the answer is FORMAT JSON: {meta, data, rows}.
// Reference: developers.cloudflare.com/analytics/analytics-engine/sql-api/ and .../sql-reference/statements/#json
import { CLOUDFLARE_API_BASE_URL, MAX_SQL_RESPONSE_BYTES, SQL_API_TIMEOUT_MS } from "./constants.ts";
import type { FetchFn } from "../deps.ts";
import { readTextCapped } from "../http/read-capped.ts";

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

async function readCapped(response: Response, cap: number): Promise<string> {
  const read = await readTextCapped(response, cap);
  if (!read.ok)
    throw new SqlApiError(
      "bad_response",
      response.status,
      read.failure === "too_large" ? "response too large" : "response unreadable",
    );
  return read.text;
}

function failureFor(status: number): SqlApiFailure {
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 429 || status >= 500) return "unavailable";
  return "bad_query";
}

/** Run one query. Appends FORMAT JSON when the statement names no format. */
export async function runSql(sql: string, options: SqlApiOptions): Promise<SqlResult> {
  const url = sqlEndpoint(options.accountId, options.baseUrl);
  const statement = /\bFORMAT\s+\w+\s*$/i.test(sql.trim()) ? sql.trim() : `${sql.trim()}\nFORMAT JSON`;
  const controller = new AbortController();
  const timeoutMs = options.timeoutMs ?? SQL_API_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new SqlApiError("timeout", undefined, `no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const exchange = async () => {
      let response: Response;
      try {
        response = await options.fetch(url, {
          method: "POST",
          headers: { authorization: `Bearer ${options.apiToken}`, "content-type": "text/plain; charset=utf-8" },
          body: statement,
          signal: controller.signal,
        });
      } catch (error) {
        throw new SqlApiError(
          "unavailable",
          undefined,
          `network error (${error instanceof Error ? error.name : "unknown"})`,
        );
      }
      const text = await readCapped(response, MAX_SQL_RESPONSE_BYTES);
      if (!response.ok)
        throw new SqlApiError(failureFor(response.status), response.status, errorDetail(text, options.apiToken));
      return parseSqlResponse(text);
    };
    return await Promise.race([exchange(), timedOut]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
