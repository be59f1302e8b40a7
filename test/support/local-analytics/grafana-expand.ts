// A panel query as Grafana and the Altinity plugin send it: Grafana's template variables first, then the plugin's
// macros, as the plugin defines them (Altinity/clickhouse-grafana, src/datasource/sql-query/sql_query.ts and
// sql-query-macros.ts; the Go backend's pkg/eval/eval_query.go is the same) for Column:DateTime = timestamp and
// DateTime type DATETIME:
//   $timeSeries -> (intDiv(toUInt32(timestamp), $interval) * $interval) * 1000
//   $timeFilter -> timestamp >= toDateTime($from) AND timestamp <= toDateTime($to)
//   $table -> the query's table; $from, $to -> the range in seconds; $interval -> the step in seconds.
// Variables: `${name:raw}` is the value as it is (Grafana's raw format). `$name` goes through the plugin's
// interpolation: a multi-value or include-all variable becomes its values, each quoted with backslash and quote
// escaped, joined by commas (clickhouseEscape); "All" with a custom all value is that value, unformatted (Grafana).
// Pure.

export interface GrafanaVariable {
  /** Selected values; ["$__all"] for All. */
  value: string | readonly string[];
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}

export interface PanelContext {
  fromMs: number;
  toMs: number;
  intervalSeconds: number;
  variables: Record<string, GrafanaVariable>;
  table?: string;
}

/** The plugin's clickhouseEscape for a string value: quoted, backslash and quote escaped. */
export function clickhouseEscape(value: string): string {
  return `'${value.replace(/[\\']/g, "\\$&")}'`;
}

function interpolate(variable: GrafanaVariable, format: string | undefined): string {
  const values = typeof variable.value === "string" ? [variable.value] : [...variable.value];
  if (values.length === 1 && values[0] === "$__all" && variable.allValue !== undefined) return variable.allValue;
  if (format === "raw") return values.join(",");
  if (!variable.multi && !variable.includeAll) return values.join(",");
  return values.map(clickhouseEscape).join(",");
}

/** The query text the plugin sends for `query` in this context (without the FORMAT JSON the plugin appends). */
export function expandPanelQuery(query: string, context: PanelContext): string {
  const templated = query.replace(
    /\$\{(\w+)(?::(\w+))?\}|\$(\w+)/g,
    (match, braced: string | undefined, format: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? "";
      const variable = context.variables[name];
      return variable === undefined ? match : interpolate(variable, format);
    },
  );
  const from = Math.floor(context.fromMs / 1000);
  const to = Math.floor(context.toMs / 1000);
  return templated
    .replace(/\$timeSeries\b/g, "(intDiv(toUInt32($dateTimeCol), $interval) * $interval) * 1000")
    .replace(/\$timeFilter\b/g, "$dateTimeCol >= toDateTime($from) AND $dateTimeCol <= toDateTime($to)")
    .replace(/\$table\b/g, context.table ?? "$table")
    .replace(/\$from\b/g, String(from))
    .replace(/\$to\b/g, String(to))
    .replace(/\$dateTimeCol\b/g, "timestamp")
    .replace(/\$interval\b/g, String(context.intervalSeconds));
}
