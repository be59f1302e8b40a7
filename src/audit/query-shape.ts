// The answers of a named query's statements shaped into one displayable table: time series gap-filled (the API omits
// empty groups), latency stages as rows, sampling noted. Pure; no I/O; the clock arrives as `nowMs`.
import type { QueryPlan } from "./queries.ts";
import type { SqlResult, SqlValue } from "./sql-api.ts";

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
function fillSeries(
  result: SqlResult,
  bucketMinutes: number,
  sinceMinutes: number,
  nowMs: number,
): Array<Record<string, SqlValue>> {
  const bucketMs = bucketMinutes * 60_000;
  const byBucket = new Map<number, Record<string, SqlValue>>();
  for (const row of result.rows) byBucket.set(parseDateTime(row.t ?? null), row);
  const valueColumns = result.columns
    .map((column) => column.name)
    .filter((name) => name !== "t" && name !== "max_sample_interval");
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
export function shapeResult(
  plan: QueryPlan,
  results: SqlResult[],
  options: { sinceMinutes: number; nowMs: number },
): QueryTable {
  const hidden = new Set(["max_sample_interval"]);
  const maxSampleInterval = Math.max(1, ...results.map((result) => maxSample(result.rows)));
  if (plan.name === "latency") {
    const columns = ["stage", "p50_ms", "p99_ms", "requests"];
    const rows = plan.statements.map((statement, i) => {
      const row = results[i]?.rows[0] ?? {};
      const requests = typeof row.requests === "number" ? row.requests : 0;
      // With no rows the quantile of nothing is meaningless (ClickHouse answers nan or the first value): show "-".
      return [
        statement.label ?? "",
        requests > 0 ? (row.p50_ms ?? null) : null,
        requests > 0 ? (row.p99_ms ?? null) : null,
        requests,
      ];
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
        points: filled.map((row) => ({
          t: parseDateTime(row.t ?? null),
          value: typeof row[seriesColumn] === "number" ? (row[seriesColumn] as number) : 0,
        })),
      },
      maxSampleInterval,
    };
  }
  return {
    title: plan.title,
    columns,
    rows: result.rows.map((row) => columns.map((name) => row[name] ?? null)),
    shape: plan.shape,
    maxSampleInterval,
  };
}
