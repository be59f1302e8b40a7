// Text output of `npm run analytics`: aligned tables, vertical records, CSV, JSON and a small terminal bar chart.
// Pure; no I/O; no clock. Platform-neutral (no node:*), so the Workers test pool covers it.
import { ANALYTICS_CHART_HEIGHT_ROWS, ANALYTICS_CHART_MAX_WIDTH_COLUMNS } from "./constants.ts";
import type { QueryTable } from "../audit/query-shape.ts";
import type { SqlValue } from "../audit/sql-api.ts";

export type OutputFormat = "table" | "json" | "csv";

/** A cell as text: integers as they are, other numbers to one decimal, absent or empty as "-". */
export function formatCell(value: SqlValue): string {
  if (value === null || value === "") return "-";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(1);
  return value;
}

/** Columns padded to their widest cell; numbers right-aligned, text left-aligned; a rule under the header. */
export function renderTable(columns: string[], rows: SqlValue[][]): string {
  const cells = rows.map((row) => row.map(formatCell));
  const widths = columns.map((name, i) => Math.max(name.length, ...cells.map((row) => (row[i] ?? "").length)));
  const numeric = columns.map(
    (_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === "number" || row[i] === null),
  );
  const line = (values: string[]) =>
    values
      .map((value, i) => (numeric[i] ? value.padStart(widths[i] as number) : value.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd();
  return [line(columns), line(widths.map((width) => "-".repeat(width))), ...cells.map(line)].join("\n");
}

/** One block of `name  value` lines per row: for single events with many fields. */
export function renderRecords(columns: string[], rows: SqlValue[][]): string {
  const width = Math.max(...columns.map((name) => name.length));
  return rows
    .map((row) => columns.map((name, i) => `${name.padEnd(width)}  ${formatCell(row[i] ?? null)}`).join("\n"))
    .join("\n\n");
}

/**
 * Text a spreadsheet would run as a formula: a cell starting with `=`, `+`, `-`, `@`, tab or carriage return (OWASP,
 * "CSV Injection"). Audit cells are attacker-influenced (repository and branch names), so such a cell gets a leading
 * `'` and quotes: shown as text, never evaluated. Numbers are numbers, never neutralised.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

function csvField(value: SqlValue): string {
  if (typeof value === "string" && FORMULA_START.test(value)) return `"'${value.replace(/"/g, '""')}"`;
  const text = value === null ? "" : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV: header line, then one line per row; null is an empty field; formula-looking text neutralised. */
export function renderCsv(columns: string[], rows: SqlValue[][]): string {
  return [columns, ...rows].map((row) => row.map((value) => csvField(value)).join(",")).join("\r\n");
}

/** Machine-readable: rows as objects keyed by column, plus what a script needs to judge the numbers. */
export function renderJson(table: QueryTable, meta: { query: string; sinceMinutes: number }): string {
  return JSON.stringify(
    {
      query: meta.query,
      since_minutes: meta.sinceMinutes,
      columns: table.columns,
      rows: table.rows.map((row) => Object.fromEntries(table.columns.map((name, i) => [name, row[i] ?? null]))),
      max_sample_interval: table.maxSampleInterval,
    },
    null,
    2,
  );
}

const EIGHTHS = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];

function timeLabel(ms: number, withDate: boolean): string {
  const iso = new Date(ms).toISOString();
  return withDate ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
}

/**
 * A vertical bar chart, one bar per bucket, ANALYTICS_CHART_HEIGHT_ROWS rows of eighth-block resolution. Y axis:
 * 0, half and the maximum, with the series name; X axis: bucket start times (UTC) at the left, middle and right.
 */
export function renderChart(
  points: Array<{ t: number; value: number }>,
  options: { label: string; bucketMinutes: number },
): string {
  if (points.length === 0) return `${options.label}: no data`;
  const height = ANALYTICS_CHART_HEIGHT_ROWS;
  const barWidth = points.length * 2 <= ANALYTICS_CHART_MAX_WIDTH_COLUMNS ? 2 : 1;
  const shown = points.slice(-Math.floor(ANALYTICS_CHART_MAX_WIDTH_COLUMNS / barWidth));
  const max = Math.max(...shown.map((point) => point.value));
  const top = max > 0 ? max : 1;
  const labels = new Map<number, string>([
    [0, formatCell(top)],
    [Math.floor(height / 2), formatCell(top / 2)],
  ]);
  const labelWidth = Math.max(1, ...[...labels.values()].map((label) => label.length));
  const eighths = shown.map((point) => Math.round((Math.max(0, point.value) / top) * height * 8));
  const lines = [`${" ".repeat(labelWidth)}  ${options.label} per ${options.bucketMinutes} min`];
  for (let row = 0; row < height; row++) {
    const floor = (height - 1 - row) * 8;
    const bars = eighths
      .map((level) => (EIGHTHS[Math.min(8, Math.max(0, level - floor))] as string).repeat(barWidth))
      .join("");
    const label = labels.get(row);
    lines.push(`${(label ?? "").padStart(labelWidth)} ${label === undefined ? "│" : "┤"}${bars}`);
  }
  const plotWidth = shown.length * barWidth;
  lines.push(`${"0".padStart(labelWidth)} └${"─".repeat(plotWidth)}`);

  const first = shown[0]?.t ?? 0;
  const last = shown[shown.length - 1]?.t ?? first;
  const withDate = last - first >= 24 * 60 * 60_000 || new Date(first).getUTCDate() !== new Date(last).getUTCDate();
  const firstLabel = timeLabel(first, withDate);
  // A narrow plot still shows its first time whole: the axis line may run past the bars.
  const axisWidth = Math.max(plotWidth, firstLabel.length);
  const axis = Array.from({ length: axisWidth }, () => " ");
  const place = (index: number, text: string, align: "left" | "center" | "right") => {
    const at = Math.max(
      0,
      Math.min(
        axisWidth - text.length,
        align === "left"
          ? index
          : align === "right"
            ? index - text.length + barWidth
            : index - Math.floor(text.length / 2),
      ),
    );
    if (axis.slice(Math.max(0, at - 1), at + text.length + 1).some((char) => char !== " ")) return; // never overlap
    for (let i = 0; i < text.length; i++) axis[at + i] = text[i] as string;
  };
  place(0, firstLabel, "left");
  place((shown.length - 1) * barWidth, timeLabel(last, withDate), "right");
  const middle = Math.floor((shown.length - 1) / 2);
  place(middle * barWidth, timeLabel(shown[middle]?.t ?? first, withDate), "center");
  lines.push(`${" ".repeat(labelWidth + 2)}${axis.join("").trimEnd()}`);
  lines.push(`${" ".repeat(labelWidth + 2)}time (UTC), bucket start`);
  return lines.join("\n");
}

/** The human output of one query: title, chart (time series), table or records, and a sampling note. */
export function renderHuman(table: QueryTable, meta: { sinceLabel: string }): string {
  const parts = [`${table.title} (last ${meta.sinceLabel})`, ""];
  if (table.rows.length === 0) {
    parts.push("(no rows)");
  } else if (table.shape === "record") {
    parts.push(renderRecords(table.columns, table.rows));
  } else {
    if (table.series !== undefined)
      parts.push(
        renderChart(table.series.points, { label: table.series.column, bucketMinutes: table.series.bucketMinutes }),
        "",
      );
    parts.push(renderTable(table.columns, table.rows));
  }
  if (table.maxSampleInterval > 1) {
    parts.push(
      "",
      `Note: sampled data (up to 1 row kept per ${table.maxSampleInterval} events); counts are SUM(_sample_interval) estimates.`,
    );
  }
  return parts.join("\n");
}
