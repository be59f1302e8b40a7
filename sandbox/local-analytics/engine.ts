// A local Workers Analytics Engine: each dataset a ClickHouse table (chdb, in process) with the columns Cloudflare
// documents, data points stored as writeDataPoint receives them, and queries answered as the SQL API answers them:
// only documented SQL (allowlist.ts), FORMAT JSON by default, errors as plain text. Node only; one per process
// (chdb runs one engine per process).
import type { AuditDataPoint } from "../../src/audit/schema.ts";
import { AE_COLUMNS, analyticsEngineViolations } from "./allowlist.ts";
import { loadChdb, type ChdbSession } from "./chdb.ts";

/** The result of one query: the SQL API's status and body. */
export type EngineAnswer =
  | { ok: true; body: string; contentType: string }
  | { ok: false; status: number; message: string };

/** One stored row: a data point, when it was written, and how many events it stands for (AE sampling). */
export interface StoredPoint {
  point: Pick<AuditDataPoint, "blobs" | "doubles"> & { indexes: readonly string[] };
  atMs: number;
  /** `_sample_interval`: 1 unless the row was kept as a sample of that many events. */
  sampleInterval?: number;
}

export interface LocalAnalyticsEngine {
  /**
   * Create the dataset's table if it does not exist (AE creates it on the first write; the sandbox's exists from the
   * start).
   */
  ensureDataset(dataset: string): void;
  insert(dataset: string, points: readonly StoredPoint[]): void;
  /** Run one statement as the SQL API would. */
  query(sql: string): EngineAnswer;
  datasets(): string[];
  close(): void;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const FORMAT_CLAUSE = /\bFORMAT\s+(\w+)\s*$/i;
/** Output formats the SQL API documents, by their ClickHouse names. */
const FORMATS: Record<string, string> = { json: "JSON", jsoneachrow: "JSONEachRow", tabseparated: "TabSeparated" };

/** A ClickHouse string literal (backslash and quote escaped). */
function literal(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

function columnsDdl(): string {
  return AE_COLUMNS.map((name) => {
    if (name === "timestamp") return "timestamp DateTime";
    // An unsigned integer: quantileExactWeighted refuses Float weights.
    if (name === "_sample_interval") return "_sample_interval UInt32";
    return `${name} ${name.startsWith("double") ? "Float64" : "String"}`;
  }).join(", ");
}

function rowValues(dataset: string, stored: StoredPoint): string {
  const { point } = stored;
  const values = [
    literal(dataset),
    `toDateTime(${Math.floor(stored.atMs / 1000)})`,
    String(Math.max(1, Math.floor(stored.sampleInterval ?? 1))),
    literal(point.indexes[0] ?? ""),
    ...Array.from({ length: 20 }, (_, i) => literal(point.blobs[i] ?? "")),
    ...Array.from({ length: 20 }, (_, i) => {
      const value = point.doubles[i] ?? 0;
      return Number.isFinite(value) ? String(value) : "0";
    }),
  ];
  return `(${values.join(", ")})`;
}

/** A message safe to answer: ClickHouse's own text, first line, without the engine's internals (stack, paths). */
function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (
    text
      .replace(/^Query failed:\s*/, "")
      .split("\n")[0]
      ?.slice(0, 500) ?? "query failed"
  );
}

/** Throws ChdbUnavailableError (with the reason and how to install) when chdb is not there. */
export function createLocalAnalyticsEngine(): LocalAnalyticsEngine {
  const chdb = loadChdb();
  // UTC, as Analytics Engine answers (SHOW TIMEZONE is Etc/UTC); 64-bit integers quoted as ClickHouse's JSON does by
  // default.
  const session: ChdbSession = new chdb.Session(undefined, {
    connectionArgs: ["--session_timezone=UTC", "--output_format_json_quote_64bit_integers=1"],
  });
  const tables = new Set<string>();
  return {
    ensureDataset(dataset) {
      if (!IDENTIFIER.test(dataset)) throw new Error(`dataset name must be an identifier: ${JSON.stringify(dataset)}`);
      if (tables.has(dataset)) return;
      session.query(`CREATE TABLE IF NOT EXISTS ${dataset} (${columnsDdl()}) ENGINE = MergeTree ORDER BY timestamp`);
      tables.add(dataset);
    },
    insert(dataset, points) {
      if (points.length === 0) return;
      this.ensureDataset(dataset);
      session.query(`INSERT INTO ${dataset} VALUES ${points.map((stored) => rowValues(dataset, stored)).join(", ")}`);
    },
    query(sql) {
      const text = sql.trim();
      const problems = analyticsEngineViolations(text, { tables: [...tables] });
      if (problems.length > 0)
        return {
          ok: false,
          status: 422,
          message: `Analytics Engine does not support this query: ${problems.join("; ")}`,
        };
      const named = FORMAT_CLAUSE.exec(text)?.[1]?.toLowerCase();
      const format = named === undefined ? "JSON" : FORMATS[named];
      if (format === undefined)
        return { ok: false, status: 422, message: "FORMAT must be JSON, JSONEachRow or TabSeparated" };
      if (/^show\s+tables/i.test(text)) {
        const names = [...tables].sort();
        return format === "JSON"
          ? {
              ok: true,
              body: JSON.stringify({
                meta: [{ name: "dataset", type: "String" }],
                data: names.map((dataset) => ({ dataset })),
                rows: names.length,
              }),
              contentType: "application/json",
            }
          : { ok: true, body: names.join("\n") + (names.length > 0 ? "\n" : ""), contentType: "text/plain" };
      }
      if (/^show\s/i.test(text))
        return {
          ok: true,
          body: JSON.stringify({
            meta: [{ name: "timezone", type: "String" }],
            data: [{ timezone: "Etc/UTC" }],
            rows: 1,
          }),
          contentType: "application/json",
        };
      try {
        const body = session.query(named === undefined ? text : text.replace(FORMAT_CLAUSE, ""), format);
        return { ok: true, body, contentType: format === "JSON" ? "application/json" : "text/plain" };
      } catch (error) {
        return { ok: false, status: 400, message: errorMessage(error) };
      }
    },
    datasets: () => [...tables].sort(),
    close: () => session.close(),
  };
}
