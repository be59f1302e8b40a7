// In-process fakes for the Analytics Engine side: a recording dataset (the AUDIT binding), the SQL API
// (a small interpreter of the documented SQL subset, over rows with timestamps and _sample_interval), and a webhook.
// Platform-neutral (Workers runtime and Node): route the handlers through test/support/fake-network.ts.
//
// The interpreter accepts only what developers.cloudflare.com/analytics/analytics-engine/sql-reference/ documents and
// the broker uses: SELECT .. FROM .. [WHERE] [GROUP BY] [ORDER BY] [LIMIT] [FORMAT JSON]; sum, count, avg, min, max,
// quantileExactWeighted(q)(x, w), if, toStartOfInterval, toDateTime, now; INTERVAL 'n' UNIT; IN; AND/OR/NOT; + - * /.
// Anything else is a 400, so a query the real API might not take fails here too. Answers follow ClickHouse's JSON
// format: {meta, data, rows}, 64-bit integers quoted as strings, DateTime as "YYYY-MM-DD hh:mm:ss", nan as null.

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

export type Row = Record<string, string | number>;

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

// --- SQL: tokens, parser, evaluator ----------------------------------------------------------------

class SqlError extends Error {}

type Token =
  | { kind: "num"; value: number; int: boolean }
  | { kind: "str"; value: string }
  | { kind: "id"; value: string }
  | { kind: "op"; value: string };

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      while (i < sql.length && sql[i] !== "\n") i++;
    } else if (/\d/.test(c)) {
      const match = /^\d+(\.\d+)?/.exec(sql.slice(i)) as RegExpExecArray;
      tokens.push({ kind: "num", value: Number(match[0]), int: match[1] === undefined });
      i += match[0].length;
    } else if (c === "'") {
      let value = "";
      i++;
      for (;;) {
        if (i >= sql.length) throw new SqlError("unterminated string literal");
        const d = sql[i] as string;
        if (d === "\\") {
          value += sql[i + 1] ?? "";
          i += 2;
        } else if (d === "'" && sql[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (d === "'") {
          i++;
          break;
        } else {
          value += d;
          i++;
        }
      }
      tokens.push({ kind: "str", value });
    } else if (/[A-Za-z_]/.test(c)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i)) as RegExpExecArray;
      tokens.push({ kind: "id", value: match[0] });
      i += match[0].length;
    } else {
      const two = sql.slice(i, i + 2);
      if (["<=", ">=", "!=", "<>"].includes(two)) {
        tokens.push({ kind: "op", value: two });
        i += 2;
      } else if ("(),*+-/%=<>".includes(c)) {
        tokens.push({ kind: "op", value: c });
        i++;
      } else {
        throw new SqlError(`unexpected character ${JSON.stringify(c)}`);
      }
    }
  }
  return tokens;
}

type Expr =
  | { k: "num"; v: number; int: boolean }
  | { k: "str"; v: string }
  | { k: "interval"; ms: number }
  | { k: "col"; name: string }
  | { k: "call"; name: string; params: Expr[] | undefined; args: Expr[] }
  | { k: "bin"; op: string; l: Expr; r: Expr }
  | { k: "not"; e: Expr }
  | { k: "neg"; e: Expr }
  | { k: "in"; e: Expr; list: Expr[]; not: boolean };

interface Select {
  items: Array<{ expr: Expr; name: string }>;
  from: string;
  where: Expr | undefined;
  groupBy: Expr[];
  orderBy: Array<{ expr: Expr; desc: boolean }>;
  limit: number | undefined;
}

const KEYWORDS = new Set([
  "select",
  "from",
  "where",
  "group",
  "by",
  "order",
  "asc",
  "desc",
  "limit",
  "format",
  "as",
  "and",
  "or",
  "not",
  "in",
  "interval",
]);
const AGGREGATES = new Set(["sum", "count", "avg", "min", "max", "quantileexactweighted"]);
const SCALARS = new Set(["if", "tostartofinterval", "todatetime", "now"]);
const UNIT_MS: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const COLUMN = /^(timestamp|_sample_interval|index1|dataset|blob([1-9]|1\d|20)|double([1-9]|1\d|20))$/;

function parse(sql: string): Select {
  const tokens = tokenize(sql);
  let at = 0;
  const peek = () => tokens[at];
  const isKw = (word: string) => {
    const t = peek();
    return t?.kind === "id" && t.value.toLowerCase() === word;
  };
  const isOp = (op: string) => {
    const t = peek();
    return t?.kind === "op" && t.value === op;
  };
  const expectKw = (word: string) => {
    if (!isKw(word)) throw new SqlError(`expected ${word.toUpperCase()}`);
    at++;
  };
  const expectOp = (op: string) => {
    if (!isOp(op)) throw new SqlError(`expected ${op}`);
    at++;
  };

  const list = (): Expr[] => {
    const items: Expr[] = [];
    if (isOp(")")) return items;
    do items.push(expr());
    while (isOp(",") && ++at);
    return items;
  };

  const primary = (): Expr => {
    const t = peek();
    if (t === undefined) throw new SqlError("unexpected end of query");
    if (t.kind === "num") {
      at++;
      return { k: "num", v: t.value, int: t.int };
    }
    if (t.kind === "str") {
      at++;
      return { k: "str", v: t.value };
    }
    if (t.kind === "op" && t.value === "(") {
      at++;
      const inner = expr();
      expectOp(")");
      return inner;
    }
    if (t.kind === "id") {
      const word = t.value.toLowerCase();
      if (word === "interval") {
        at++;
        const amount = peek();
        if (amount?.kind !== "str" || !/^\d+$/.test(amount.value))
          throw new SqlError("INTERVAL needs a quoted integer");
        at++;
        const unit = peek();
        const unitMs = unit?.kind === "id" ? UNIT_MS[unit.value.toLowerCase()] : undefined;
        if (unitMs === undefined) throw new SqlError("unsupported INTERVAL unit");
        at++;
        return { k: "interval", ms: Number(amount.value) * unitMs };
      }
      if (KEYWORDS.has(word)) throw new SqlError(`unexpected keyword ${t.value}`);
      at++;
      if (isOp("(")) {
        at++;
        let args = list();
        expectOp(")");
        let params: Expr[] | undefined;
        if (isOp("(")) {
          at++;
          params = args;
          args = list();
          expectOp(")");
        }
        if (!AGGREGATES.has(word) && !SCALARS.has(word)) throw new SqlError(`unknown function ${t.value}`);
        return { k: "call", name: word, params, args };
      }
      return { k: "col", name: t.value };
    }
    throw new SqlError(`unexpected ${t.value}`);
  };
  const unary = (): Expr => {
    if (isOp("-")) {
      at++;
      return { k: "neg", e: unary() };
    }
    return primary();
  };
  const binary = (next: () => Expr, ops: string[]) => (): Expr => {
    let left = next();
    for (;;) {
      const t = peek();
      if (t?.kind !== "op" || !ops.includes(t.value)) return left;
      at++;
      left = { k: "bin", op: t.value, l: left, r: next() };
    }
  };
  const mul = binary(unary, ["*", "/", "%"]);
  const add = binary(mul, ["+", "-"]);
  const comparison = (): Expr => {
    const left = add();
    const t = peek();
    if (t?.kind === "op" && ["=", "!=", "<>", "<", "<=", ">", ">="].includes(t.value)) {
      at++;
      return { k: "bin", op: t.value === "<>" ? "!=" : t.value, l: left, r: add() };
    }
    const after = tokens[at + 1];
    const negated = isKw("not") && after?.kind === "id" && after.value.toLowerCase() === "in";
    if (negated) at++;
    if (isKw("in")) {
      at++;
      expectOp("(");
      const items = list();
      expectOp(")");
      return { k: "in", e: left, list: items, not: negated };
    }
    return left;
  };
  const not = (): Expr => {
    if (isKw("not")) {
      at++;
      return { k: "not", e: not() };
    }
    return comparison();
  };
  const and = (): Expr => {
    let left = not();
    while (isKw("and")) {
      at++;
      left = { k: "bin", op: "and", l: left, r: not() };
    }
    return left;
  };
  const expr = (): Expr => {
    let left = and();
    while (isKw("or")) {
      at++;
      left = { k: "bin", op: "or", l: left, r: and() };
    }
    return left;
  };

  expectKw("select");
  const items: Select["items"] = [];
  do {
    const e = expr();
    let name = e.k === "col" ? e.name : `expr${items.length + 1}`;
    if (isKw("as")) {
      at++;
      const alias = peek();
      if (alias?.kind !== "id") throw new SqlError("expected alias");
      name = alias.value;
      at++;
    }
    items.push({ expr: e, name });
  } while (isOp(",") && ++at);
  expectKw("from");
  const table = peek();
  if (table?.kind !== "id") throw new SqlError("expected table name");
  at++;
  let where: Expr | undefined;
  if (isKw("where")) {
    at++;
    where = expr();
  }
  const groupBy: Expr[] = [];
  if (isKw("group")) {
    at++;
    expectKw("by");
    do groupBy.push(expr());
    while (isOp(",") && ++at);
  }
  const orderBy: Select["orderBy"] = [];
  if (isKw("order")) {
    at++;
    expectKw("by");
    do {
      const e = expr();
      let desc = false;
      if (isKw("asc")) at++;
      else if (isKw("desc")) {
        at++;
        desc = true;
      }
      orderBy.push({ expr: e, desc });
    } while (isOp(",") && ++at);
  }
  let limit: number | undefined;
  if (isKw("limit")) {
    at++;
    const n = peek();
    if (n?.kind !== "num" || !n.int) throw new SqlError("LIMIT needs an integer");
    limit = n.value;
    at++;
  }
  if (isKw("format")) {
    at++;
    const format = peek();
    if (format?.kind !== "id" || format.value !== "JSON") throw new SqlError("the fake answers FORMAT JSON only");
    at++;
  }
  if (at !== tokens.length) throw new SqlError(`unexpected ${(peek() as Token).value} after the query`);
  return { items, from: table.value, where, groupBy, orderBy, limit };
}

// Values: numbers, strings, booleans, DateTime (tagged, ms) and intervals (tagged, ms).
type DateVal = { dt: number };
type Val = number | string | boolean | DateVal | { iv: number } | null;
const isDate = (v: Val): v is DateVal => typeof v === "object" && v !== null && "dt" in v;
const isInterval = (v: Val): v is { iv: number } => typeof v === "object" && v !== null && "iv" in v;

function compare(a: Val, b: Val): number {
  const key = (v: Val) => (isDate(v) ? v.dt : v);
  const x = key(a);
  const y = key(b);
  if (typeof x === "number" && typeof y === "number") return x - y;
  if (typeof x === "string" && typeof y === "string") return x < y ? -1 : x > y ? 1 : 0;
  if (typeof x === "boolean" && typeof y === "boolean") return Number(x) - Number(y);
  throw new SqlError(`cannot compare ${typeof x} with ${typeof y}`);
}

type ColumnType = "UInt8" | "UInt32" | "UInt64" | "Float64" | "String" | "DateTime";

function containsAggregate(e: Expr): boolean {
  switch (e.k) {
    case "call":
      return AGGREGATES.has(e.name) || e.args.some(containsAggregate);
    case "bin":
      return containsAggregate(e.l) || containsAggregate(e.r);
    case "not":
    case "neg":
      return containsAggregate(e.e);
    case "in":
      return containsAggregate(e.e);
    default:
      return false;
  }
}

function runSelect(
  query: Select,
  rows: Row[],
  nowMs: number,
): { meta: Array<{ name: string; type: ColumnType }>; data: Array<Record<string, unknown>> } {
  const aliases = new Map(query.items.map((item) => [item.name, item.expr]));
  /** Resolve a select alias used in WHERE-less places (GROUP BY, ORDER BY). */
  const resolve = (e: Expr): Expr =>
    e.k === "col" && !COLUMN.test(e.name) && aliases.has(e.name) ? (aliases.get(e.name) as Expr) : e;

  const typeOf = (e: Expr): ColumnType => {
    switch (e.k) {
      case "num":
        return e.int ? "UInt8" : "Float64";
      case "str":
        return "String";
      case "interval":
        throw new SqlError("an interval is not a column");
      case "col":
        if (e.name === "timestamp") return "DateTime";
        if (e.name === "_sample_interval") return "UInt32";
        if (e.name.startsWith("double")) return "Float64";
        if (COLUMN.test(e.name)) return "String";
        return typeOf(resolve(e));
      case "call":
        switch (e.name) {
          case "sum": {
            const inner = typeOf(e.args[0] as Expr);
            return inner === "Float64" ? "Float64" : "UInt64";
          }
          case "count":
            return "UInt64";
          case "avg":
          case "quantileexactweighted":
            return "Float64";
          case "min":
          case "max":
            return typeOf(e.args[0] as Expr);
          case "if": {
            const a = typeOf(e.args[1] as Expr);
            const b = typeOf(e.args[2] as Expr);
            if (a === b) return a;
            if (a === "String" || b === "String") throw new SqlError("if() branches of different types");
            return a === "Float64" || b === "Float64" ? "Float64" : "UInt32";
          }
          default:
            return "DateTime";
        }
      case "bin":
        if (["and", "or", "=", "!=", "<", "<=", ">", ">="].includes(e.op)) return "UInt8";
        if (e.op === "/") return "Float64";
        if (typeOf(e.l) === "DateTime") return "DateTime";
        return typeOf(e.l) === "Float64" || typeOf(e.r) === "Float64" ? "Float64" : "UInt64";
      case "not":
      case "in":
        return "UInt8";
      case "neg":
        return typeOf(e.e) === "Float64" ? "Float64" : "UInt64";
    }
  };

  const scalar = (name: string, args: Val[]): Val => {
    switch (name) {
      case "if":
        return args[0] ? (args[1] as Val) : (args[2] as Val);
      case "now":
        return { dt: Math.floor(nowMs / 1000) * 1000 };
      case "todatetime": {
        const v = args[0] as Val;
        if (typeof v === "number") return { dt: v * 1000 };
        if (typeof v === "string" && /^\d+$/.test(v)) return { dt: Number(v) * 1000 };
        if (typeof v === "string") return { dt: Date.parse(`${v.replace(" ", "T")}Z`) };
        throw new SqlError("toDateTime needs a number or a string");
      }
      case "tostartofinterval": {
        const [t, interval] = args;
        if (!isDate(t as Val) || !isInterval(interval as Val))
          throw new SqlError("toStartOfInterval(datetime, INTERVAL)");
        const ms = (interval as { iv: number }).iv;
        return { dt: Math.floor((t as DateVal).dt / ms) * ms };
      }
      default:
        throw new SqlError(`${name} is an aggregate function here`);
    }
  };

  const binop = (op: string, a: Val, b: Val): Val => {
    switch (op) {
      case "and":
        return Boolean(a) && Boolean(b);
      case "or":
        return Boolean(a) || Boolean(b);
      case "=":
        return compare(a, b) === 0;
      case "!=":
        return compare(a, b) !== 0;
      case "<":
        return compare(a, b) < 0;
      case "<=":
        return compare(a, b) <= 0;
      case ">":
        return compare(a, b) > 0;
      case ">=":
        return compare(a, b) >= 0;
    }
    if (isDate(a) && isInterval(b) && (op === "-" || op === "+")) return { dt: op === "-" ? a.dt - b.iv : a.dt + b.iv };
    if (typeof a !== "number" || typeof b !== "number") throw new SqlError(`operator ${op} needs numbers`);
    if (op === "+") return a + b;
    if (op === "-") return a - b;
    if (op === "*") return a * b;
    if (op === "/") return a / b;
    return a % b;
  };

  // Row context (no aggregates), or group context (aggregates over `group`).
  const evaluate = (e: Expr, row: Row | undefined, group: Row[] | undefined): Val => {
    switch (e.k) {
      case "num":
        return e.v;
      case "str":
        return e.v;
      case "interval":
        return { iv: e.ms };
      case "col": {
        if (!COLUMN.test(e.name)) {
          if (aliases.has(e.name)) return evaluate(aliases.get(e.name) as Expr, row, group);
          throw new SqlError(`unknown column ${e.name}`);
        }
        const source = row ?? group?.[0];
        if (source === undefined)
          return e.name.startsWith("double") || e.name === "_sample_interval"
            ? 0
            : e.name === "timestamp"
              ? { dt: 0 }
              : "";
        const value = source[e.name] as string | number;
        return e.name === "timestamp" ? { dt: value as number } : value;
      }
      case "not":
        return !evaluate(e.e, row, group);
      case "neg": {
        const v = evaluate(e.e, row, group);
        if (typeof v !== "number") throw new SqlError("unary minus needs a number");
        return -v;
      }
      case "in": {
        const v = evaluate(e.e, row, group);
        const found = e.list.some((item) => compare(v, evaluate(item, row, group)) === 0);
        return e.not ? !found : found;
      }
      case "bin":
        return binop(e.op, evaluate(e.l, row, group), evaluate(e.r, row, group));
      case "call": {
        if (!AGGREGATES.has(e.name))
          return scalar(
            e.name,
            e.args.map((arg) => evaluate(arg, row, group)),
          );
        if (group === undefined) throw new SqlError(`aggregate ${e.name} outside GROUP BY context`);
        const values = (arg: Expr | undefined) => {
          if (arg === undefined) throw new SqlError(`${e.name} needs an argument`);
          return group.map((r) => evaluate(arg, r, undefined));
        };
        switch (e.name) {
          case "count":
            return group.length;
          case "sum":
            return (values(e.args[0]) as number[]).reduce((sum, v) => sum + Number(v), 0);
          case "avg": {
            const vs = values(e.args[0]) as number[];
            return vs.length === 0 ? Number.NaN : vs.reduce((sum, v) => sum + v, 0) / vs.length;
          }
          case "min":
          case "max": {
            const vs = values(e.args[0]);
            if (vs.length === 0) return e.args[0] !== undefined && typeOf(e.args[0]) === "DateTime" ? { dt: 0 } : 0;
            return vs.reduce((best, v) =>
              (e.name === "min" ? compare(v, best) < 0 : compare(v, best) > 0) ? v : best,
            );
          }
          default: {
            // quantileExactWeighted(level)(x, weight), as ClickHouse computes it: sort by value, accumulate weights,
            // answer the first value whose running weight reaches ceil(level * total weight).
            const level = e.params?.[0];
            if (level?.k !== "num" || e.args.length !== 2)
              throw new SqlError("quantileExactWeighted(level)(expr, weight)");
            const xs = values(e.args[0]) as number[];
            const ws = values(e.args[1]) as number[];
            const pairs = xs
              .map((x, i) => [x, ws[i] as number] as const)
              .filter(([, w]) => w > 0)
              .sort((a, b) => a[0] - b[0]);
            const total = pairs.reduce((sum, [, w]) => sum + w, 0);
            if (total === 0) return Number.NaN;
            const threshold = Math.ceil(level.v * total);
            let running = 0;
            for (const [x, w] of pairs) {
              running += w;
              if (running >= threshold) return x;
            }
            return (pairs[pairs.length - 1] as readonly [number, number])[0];
          }
        }
      }
    }
  };

  const matching = rows.filter((row) => query.where === undefined || Boolean(evaluate(query.where, row, undefined)));
  const aggregated = query.groupBy.length > 0 || query.items.some((item) => containsAggregate(item.expr));
  type Context = { row?: Row; group?: Row[] };
  let contexts: Context[];
  if (!aggregated) {
    contexts = matching.map((row) => ({ row }));
  } else if (query.groupBy.length === 0) {
    contexts = [{ group: matching }]; // an aggregate over no rows is still one row
  } else {
    const groups = new Map<string, Row[]>();
    for (const row of matching) {
      const key = JSON.stringify(query.groupBy.map((e) => evaluate(resolve(e), row, undefined)));
      groups.set(key, [...(groups.get(key) ?? []), row]);
    }
    contexts = [...groups.values()].map((group) => ({ group }));
  }
  const evaluated = contexts.map((context) => ({
    values: query.items.map((item) => evaluate(item.expr, context.row, context.group)),
    keys: query.orderBy.map((order) => evaluate(resolve(order.expr), context.row, context.group)),
  }));
  if (query.orderBy.length > 0) {
    evaluated.sort((a, b) => {
      for (let i = 0; i < query.orderBy.length; i++) {
        const diff = compare(a.keys[i] as Val, b.keys[i] as Val);
        if (diff !== 0) return (query.orderBy[i] as { desc: boolean }).desc ? -diff : diff;
      }
      return 0;
    });
  }
  const limited = query.limit === undefined ? evaluated : evaluated.slice(0, query.limit);
  const meta = query.items.map((item) => ({ name: item.name, type: typeOf(item.expr) }));
  const render = (value: Val, type: ColumnType): unknown => {
    if (isDate(value)) return new Date(value.dt).toISOString().replace("T", " ").slice(0, 19);
    if (typeof value === "boolean") return value ? 1 : 0;
    if (typeof value === "number") {
      if (!Number.isFinite(value)) return null;
      return type === "UInt64" ? String(value) : value;
    }
    return value;
  };
  const data = limited.map(({ values }) =>
    Object.fromEntries(meta.map((column, i) => [column.name, render(values[i] as Val, column.type)])),
  );
  return { meta, data };
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
