// The SQL that Workers Analytics Engine documents, as an allowlist: a query that only ClickHouse accepts (chdb runs
// all of ClickHouse) is a bug, because the real SQL API would refuse it. Pure; no I/O.
// Source: Cloudflare's SQL reference for Analytics Engine,
// developers.cloudflare.com/analytics/analytics-engine/sql-reference/
// (statements, operators, literals, aggregate, bit, conditional, date and time, encoding, mathematical, rounding,
// string and type conversion functions), plus its changelog: HAVING and LIKE (2026-01-07), countIf/sumIf/avgIf and the
// toStartOf* / toYear ... functions (2025-11-12), argMin/argMax/topK/first_value/bit functions (2025-09-26).

/**
 * Every documented function, lower-cased (names compare case-insensitively: the docs write SUM and sum, NOW and now).
 */
const FUNCTIONS = [
  // aggregate
  "count",
  "sum",
  "avg",
  "min",
  "max",
  "quantileExactWeighted",
  "quantileWeighted",
  "argMax",
  "argMin",
  "first_value",
  "last_value",
  "topK",
  "topKWeighted",
  "countIf",
  "sumIf",
  "avgIf",
  // bit
  "bitAnd",
  "bitCount",
  "bitHammingDistance",
  "bitNot",
  "bitOr",
  "bitRotateLeft",
  "bitRotateRight",
  "bitShiftLeft",
  "bitShiftRight",
  "bitTest",
  "bitXor",
  // conditional
  "if",
  // date and time
  "formatDateTime",
  "now",
  "today",
  "toDateTime",
  "toYear",
  "toMonth",
  "toDayOfWeek",
  "toDayOfMonth",
  "toHour",
  "toMinute",
  "toSecond",
  "toUnixTimestamp",
  "toStartOfInterval",
  "toStartOfYear",
  "toStartOfMonth",
  "toStartOfWeek",
  "toStartOfDay",
  "toStartOfHour",
  "toStartOfFifteenMinutes",
  "toStartOfTenMinutes",
  "toStartOfFiveMinutes",
  "toStartOfMinute",
  "toYYYYMM",
  // encoding
  "bin",
  "hex",
  // mathematical and rounding
  "intDiv",
  "log",
  "ln",
  "pow",
  "round",
  "floor",
  "ceil",
  // string
  "length",
  "empty",
  "lower",
  "lowerUTF8",
  "toLower",
  "upper",
  "upperUTF8",
  "toUpper",
  "startsWith",
  "endsWith",
  "position",
  "substring",
  "format",
  "extract",
  // type conversion
  "toUInt8",
  "toUInt32",
].map((name) => name.toLowerCase());
export const AE_FUNCTIONS: ReadonlySet<string> = new Set(FUNCTIONS);

/** Aggregates written with a parameter list first: quantileExactWeighted(0.5)(x, w), topK(10)(x). */
const PARAMETRIC = new Set(["quantileexactweighted", "topk", "topkweighted"]);

/** Keywords of the documented clauses, operators and literals. */
const KEYWORDS = new Set([
  "select",
  "from",
  "where",
  "group",
  "by",
  "having",
  "order",
  "asc",
  "desc",
  "limit",
  "all",
  "offset",
  "format",
  "as",
  "and",
  "or",
  "not",
  "in",
  "between",
  "like",
  "distinct",
  "interval",
  "true",
  "false",
  "year",
  "month",
  "day",
  "hour",
  "minute",
  "second",
]);
const FORMATS = new Set(["json", "jsoneachrow", "tabseparated"]);
const INTERVAL_UNITS = new Set(["year", "month", "day", "hour", "minute", "second"]);

/**
 * The columns of every dataset table (developers.cloudflare.com/analytics/analytics-engine/sql-api/#table-structure).
 */
export const AE_COLUMNS: readonly string[] = [
  "dataset",
  "timestamp",
  "_sample_interval",
  "index1",
  ...Array.from({ length: 20 }, (_, i) => `blob${i + 1}`),
  ...Array.from({ length: 20 }, (_, i) => `double${i + 1}`),
];
const COLUMNS = new Set(AE_COLUMNS);

type Token = { kind: "id" | "num" | "str" | "op"; text: string };

/** Tokens of one SQL text; throws on a character the documented grammar has no use for. */
function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const rest = sql.slice(i);
    const c = sql[i] as string;
    if (/\s/.test(c)) i += 1;
    else if (rest.startsWith("--")) i += (/^--[^\n]*/.exec(rest) as RegExpExecArray)[0].length;
    else if (c === "'") {
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) throw new Error("unterminated string literal");
        if (sql[j] === "\\") j += 2;
        else if (sql[j] === "'" && sql[j + 1] === "'") j += 2;
        else if (sql[j] === "'") break;
        else j += 1;
      }
      tokens.push({ kind: "str", text: sql.slice(i, j + 1) });
      i = j + 1;
    } else if (/[0-9]/.test(c)) {
      const number = (/^\d+(\.\d+)?(e[+-]?\d+)?/i.exec(rest) as RegExpExecArray)[0];
      tokens.push({ kind: "num", text: number });
      i += number.length;
    } else if (/[A-Za-z_]/.test(c)) {
      const word = (/^[A-Za-z_][A-Za-z0-9_]*/.exec(rest) as RegExpExecArray)[0];
      tokens.push({ kind: "id", text: word });
      i += word.length;
    } else {
      const op =
        ["<=", ">=", "<>", "!="].find((two) => rest.startsWith(two)) ?? ("+-*/%=<>(),".includes(c) ? c : undefined);
      if (op === undefined) throw new Error(`character ${JSON.stringify(c)} is not part of Analytics Engine SQL`);
      tokens.push({ kind: "op", text: op });
      i += op.length;
    }
  }
  return tokens;
}

/**
 * What in `sql` Analytics Engine does not document: functions, keywords, operators, clauses, statements. An empty
 * list means every part of it is documented. `tables` are the dataset names the query may read (any identifier after
 * FROM when omitted).
 */
export function analyticsEngineViolations(sql: string, options: { tables?: readonly string[] } = {}): string[] {
  let tokens: Token[];
  try {
    tokens = tokenize(sql);
  } catch (error) {
    return [(error as Error).message];
  }
  const problems: string[] = [];
  const lower = (token: Token | undefined) => (token?.kind === "id" ? token.text.toLowerCase() : token?.text);
  if (tokens.length === 0) return ["empty query"];
  if (lower(tokens[0]) === "show") {
    const what = tokens.slice(1).map(lower);
    const formatAt = what.indexOf("format");
    const subject = formatAt === -1 ? what : what.slice(0, formatAt);
    if (!(subject.length === 1 && ["tables", "timezones", "timezone"].includes(subject[0] as string)))
      problems.push("only SHOW TABLES, SHOW TIMEZONES and SHOW TIMEZONE are statements besides SELECT");
    if (formatAt !== -1 && !(what.length === formatAt + 2 && FORMATS.has(what[formatAt + 1] as string)))
      problems.push("FORMAT takes JSON, JSONEachRow or TabSeparated");
    return problems;
  }
  if (lower(tokens[0]) !== "select") return ["a query is one SELECT (or SHOW) statement"];
  const aliases = new Set<string>();
  tokens.forEach((token, i) => {
    if (lower(token) === "as" && tokens[i + 1]?.kind === "id") aliases.add((tokens[i + 1] as Token).text);
  });
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    const next = tokens[i + 1];
    const word = lower(token) as string;
    if (token.kind !== "id") continue;
    const previous = lower(tokens[i - 1]);
    if (next?.text === "(" && previous !== "as" && !KEYWORDS.has(word)) {
      if (!AE_FUNCTIONS.has(word)) problems.push(`function ${token.text}() is not documented for Analytics Engine`);
      // A parametric aggregate's second argument list belongs to the same call.
      if (PARAMETRIC.has(word)) {
        let depth = 0;
        let j = i + 1;
        for (; j < tokens.length; j++) {
          if (tokens[j]?.text === "(") depth += 1;
          else if (tokens[j]?.text === ")" && --depth === 0) break;
        }
        if (tokens[j + 1]?.text === "(") i = j; // continue scanning inside the second list
      }
      continue;
    }
    if (previous === "as") continue; // an alias
    if (previous === "from") {
      if (options.tables !== undefined && !options.tables.includes(token.text))
        problems.push(`table ${token.text} is not a dataset here`);
      if (
        next !== undefined &&
        ![")", "where", "group", "having", "order", "limit", "offset", "format"].includes(lower(next) as string)
      )
        problems.push(
          `FROM names one table (no JOIN, alias or table function): found ${next.text} after ${token.text}`,
        );
      continue;
    }
    if (previous === "format") {
      if (!FORMATS.has(word)) problems.push(`FORMAT ${token.text}: only JSON, JSONEachRow and TabSeparated`);
      continue;
    }
    if (previous === "interval" || (tokens[i - 2] !== undefined && lower(tokens[i - 2]) === "interval")) {
      if (INTERVAL_UNITS.has(word)) continue;
    }
    if (KEYWORDS.has(word)) {
      if (word === "interval" && !(next?.kind === "str" && INTERVAL_UNITS.has(lower(tokens[i + 2]) as string)))
        problems.push("INTERVAL is written INTERVAL '<n>' <YEAR|MONTH|DAY|HOUR|MINUTE|SECOND>");
      if (word === "distinct" && !["count", "sum", "avg"].includes(lower(tokens[i - 2]) as string))
        problems.push("DISTINCT only inside count, sum and avg");
      if (word === "group" && lower(next) !== "by") problems.push("GROUP must be GROUP BY");
      if (word === "order" && lower(next) !== "by") problems.push("ORDER must be ORDER BY");
      continue;
    }
    if (COLUMNS.has(token.text) || aliases.has(token.text)) continue;
    problems.push(`${token.text} is neither a documented keyword nor a dataset column or alias`);
  }
  return problems;
}
