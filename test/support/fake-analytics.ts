// In-process fakes for the Analytics Engine side: a recording dataset (the AUDIT binding), the SQL API over rows with
// timestamps and _sample_interval, and a webhook. Platform-neutral (Workers runtime and Node): route the handlers
// through test/support/fake-network.ts.
//
// The SQL API's interpreter (fake-sql/: tokens, parser, values, select) accepts only what
// developers.cloudflare.com/analytics/analytics-engine/sql-reference/ documents and the broker uses: SELECT .. FROM ..
// [WHERE] [GROUP BY] [ORDER BY] [LIMIT] [FORMAT JSON]; sum, count, avg, min, max, quantileExactWeighted(q)(x, w), if,
// toStartOfInterval, toDateTime, now; INTERVAL 'n' UNIT; IN; AND/OR/NOT; + - * /. Anything else is a 400, so a query
// the real API might not take fails here too. Answers follow ClickHouse's JSON format: {meta, data, rows}, 64-bit
// integers quoted as strings, DateTime as "YYYY-MM-DD hh:mm:ss", nan as null.
import { parse } from "./fake-sql/parser.ts";
import { type Row, runSelect } from "./fake-sql/select.ts";
import { SqlError } from "./fake-sql/tokens.ts";

export type { Row } from "./fake-sql/select.ts";

/** A data point as writeDataPoint receives it. */
export interface DataPointLike {
  indexes?: Array<string | ArrayBuffer | null>;
  blobs?: Array<string | ArrayBuffer | null>;
  doubles?: number[];
}

// Analytics Engine's write limits (developers.cloudflare.com/analytics/analytics-engine/limits/).
const AE_LIMITS = { blobs: 20, doubles: 20, indexes: 1, indexBytes: 96, blobBytes: 16 * 1024, pointsPerInvocation: 25 };

const utf8 = new TextEncoder();
const byteLength = (value: string | ArrayBuffer | null | undefined) =>
  value === null || value === undefined
    ? 0
    : typeof value === "string"
      ? utf8.encode(value).byteLength
      : value.byteLength;

export interface FakeDataset {
  writeDataPoint(point?: DataPointLike): void;
  /** Every data point written, in order, as passed. */
  readonly points: DataPointLike[];
  /** Every write with the (injected) time it happened. */
  readonly writes: Array<{ at: number; point: DataPointLike }>;
}

/** A recording AUDIT binding that enforces Analytics Engine's per-point limits, as production would. */
export function createFakeDataset(now: () => number): FakeDataset {
  const writes: Array<{ at: number; point: DataPointLike }> = [];
  const points: DataPointLike[] = [];
  return {
    points,
    writes,
    writeDataPoint(point = {}) {
      const blobs = point.blobs ?? [];
      const doubles = point.doubles ?? [];
      const indexes = point.indexes ?? [];
      if (blobs.length > AE_LIMITS.blobs)
        throw new RangeError(`writeDataPoint: ${blobs.length} blobs (max ${AE_LIMITS.blobs})`);
      if (doubles.length > AE_LIMITS.doubles)
        throw new RangeError(`writeDataPoint: ${doubles.length} doubles (max ${AE_LIMITS.doubles})`);
      if (indexes.length > AE_LIMITS.indexes) throw new RangeError("writeDataPoint: more than one index");
      if (indexes.some((index) => byteLength(index) > AE_LIMITS.indexBytes))
        throw new RangeError("writeDataPoint: index over 96 bytes");
      if (blobs.reduce((sum, value) => sum + byteLength(value), 0) > AE_LIMITS.blobBytes)
        throw new RangeError("writeDataPoint: blobs over 16 KB");
      if (doubles.some((value) => typeof value !== "number"))
        throw new TypeError("writeDataPoint: doubles must be numbers");
      points.push(point);
      writes.push({ at: now(), point });
    },
  };
}

// --- Table rows -------------------------------------------------------------------------------

/** A stored row of a dataset table: the columns of developers.cloudflare.com/analytics/analytics-engine/sql-api/. */
export function rowFor(dataset: string, point: DataPointLike, at: number, sampleInterval = 1): Row {
  const row: Row = {
    dataset,
    timestamp: at,
    _sample_interval: sampleInterval,
    index1: String(point.indexes?.[0] ?? ""),
  };
  for (let i = 1; i <= 20; i++) {
    row[`blob${i}`] = String(point.blobs?.[i - 1] ?? "");
    row[`double${i}`] = point.doubles?.[i - 1] ?? 0;
  }
  return row;
}

// --- SQL API --------------------------------------------------------------------------------------

export interface FakeSqlApi {
  /** Route "https://api.cloudflare.com" to this. */
  handler: (request: Request) => Promise<Response>;
  /** Every SQL text received (FORMAT clause included), in order. */
  readonly queries: string[];
  /** Add rows to a dataset table, as if written at `at` and kept with `_sample_interval`. */
  insert(dataset: string, point: DataPointLike, at: number, sampleInterval?: number): void;
  /** Add every write of a FakeDataset (timestamps as written). */
  ingest(dataset: string, source: FakeDataset, sampleInterval?: number): void;
  /** The next `count` queries answer this status and body instead. */
  failNext(status: number, body: string, count?: number): void;
  /** Run a query directly (tests of the fake itself). */
  query(sql: string): { meta: Array<{ name: string; type: string }>; data: Array<Record<string, unknown>> };
}

export function createFakeSqlApi(options: { accountId: string; apiToken: string; now: () => number }): FakeSqlApi {
  const tables = new Map<string, Row[]>();
  const queries: string[] = [];
  const failures: Array<{ status: number; body: string }> = [];
  const path = `/client/v4/accounts/${options.accountId}/analytics_engine/sql`;
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const cfError = (status: number, code: number, message: string) =>
    json(status, { success: false, errors: [{ code, message }], messages: [], result: null });

  const run = (sql: string) => {
    const parsed = parse(sql);
    const rows = tables.get(parsed.from);
    if (rows === undefined) throw new SqlError(`unknown table ${parsed.from}`);
    return runSelect(parsed, rows, options.now());
  };

  return {
    queries,
    insert(dataset, point, at, sampleInterval = 1) {
      tables.set(dataset, [...(tables.get(dataset) ?? []), rowFor(dataset, point, at, sampleInterval)]);
    },
    ingest(dataset, source, sampleInterval = 1) {
      for (const write of source.writes) this.insert(dataset, write.point, write.at, sampleInterval);
    },
    failNext(status, body, count = 1) {
      for (let i = 0; i < count; i++) failures.push({ status, body });
    },
    query: run,
    async handler(request) {
      const url = new URL(request.url);
      if (url.pathname !== path) return cfError(404, 7003, "Could not route to the requested path");
      if (request.method !== "POST") return cfError(405, 10405, "Method not allowed");
      if (request.headers.get("authorization") !== `Bearer ${options.apiToken}`)
        return cfError(401, 10000, "Authentication error");
      const sql = await request.text();
      queries.push(sql);
      const failure = failures.shift();
      if (failure !== undefined) return new Response(failure.body, { status: failure.status });
      try {
        const { meta, data } = run(sql);
        return json(200, {
          meta,
          data,
          rows: data.length,
          rows_before_limit_at_least: data.length,
          statistics: { elapsed: 0.001, rows_read: data.length, bytes_read: 0 },
        });
      } catch (error) {
        if (error instanceof SqlError)
          return new Response(`query error: ${error.message}`, {
            status: 400,
            headers: { "content-type": "text/plain" },
          });
        throw error;
      }
    },
  };
}

// --- Webhook --------------------------------------------------------------------------------------

export interface FakeWebhook {
  handler: (request: Request) => Promise<Response>;
  /** Parsed JSON bodies of the accepted posts. */
  readonly messages: Array<{ text: string }>;
  /** Every request, accepted or not. */
  readonly requests: Array<{ method: string; url: string; contentType: string | null; body: string }>;
  /** Answer this status from now on (Slack answers 200 "ok"; 404 no_service, 410 channel_is_archived, ...). */
  answer(status: number): void;
}

export function createFakeWebhook(): FakeWebhook {
  const messages: Array<{ text: string }> = [];
  const requests: FakeWebhook["requests"] = [];
  let status = 200;
  return {
    messages,
    requests,
    answer(next) {
      status = next;
    },
    async handler(request) {
      const body = await request.text();
      requests.push({
        method: request.method,
        url: request.url,
        contentType: request.headers.get("content-type"),
        body,
      });
      if (status !== 200) return new Response("no_service", { status });
      if (request.method !== "POST" || !(request.headers.get("content-type") ?? "").startsWith("application/json"))
        return new Response("invalid_payload", { status: 400 });
      const parsed = JSON.parse(body) as { text?: unknown };
      if (typeof parsed.text !== "string" || parsed.text === "") return new Response("no_text", { status: 400 });
      messages.push({ text: parsed.text });
      return new Response("ok", { status: 200 });
    },
  };
}
