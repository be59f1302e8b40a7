// The fake SQL API's evaluator: a parsed SELECT over a table's rows, as ClickHouse runs it. WHERE per row, then
// groups (GROUP BY, or one group for aggregates without it), ORDER BY, LIMIT, and each column's ClickHouse type.
import { AGGREGATES, COLUMN, type Expr, type Select } from "./parser.ts";
import { SqlError } from "./tokens.ts";
import { binop, type ColumnType, compare, render, scalar, type Val } from "./values.ts";

/** A stored row of a dataset table, by column name (timestamp in ms). */
export type Row = Record<string, string | number>;

/** What evaluation needs besides the row: the SELECT's aliases and the query's clock. */
interface Scope {
  aliases: Map<string, Expr>;
  nowMs: number;
}

/** A select alias used where a column may stand (GROUP BY, ORDER BY) resolves to its expression. */
function resolve(scope: Scope, e: Expr): Expr {
  return e.k === "col" && !COLUMN.test(e.name) && scope.aliases.has(e.name) ? (scope.aliases.get(e.name) as Expr) : e;
}

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

function typeOf(scope: Scope, e: Expr): ColumnType {
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
      return typeOf(scope, resolve(scope, e));
    case "call":
      switch (e.name) {
        case "sum": {
          const inner = typeOf(scope, e.args[0] as Expr);
          return inner === "Float64" ? "Float64" : "UInt64";
        }
        case "count":
          return "UInt64";
        case "avg":
        case "quantileexactweighted":
          return "Float64";
        case "min":
        case "max":
          return typeOf(scope, e.args[0] as Expr);
        case "if": {
          const a = typeOf(scope, e.args[1] as Expr);
          const b = typeOf(scope, e.args[2] as Expr);
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
      if (typeOf(scope, e.l) === "DateTime") return "DateTime";
      return typeOf(scope, e.l) === "Float64" || typeOf(scope, e.r) === "Float64" ? "Float64" : "UInt64";
    case "not":
    case "in":
      return "UInt8";
    case "neg":
      return typeOf(scope, e.e) === "Float64" ? "Float64" : "UInt64";
  }
}

/** Row context (no aggregates), or group context (aggregates over `group`). */
function evaluate(scope: Scope, e: Expr, row: Row | undefined, group: Row[] | undefined): Val {
  switch (e.k) {
    case "num":
      return e.v;
    case "str":
      return e.v;
    case "interval":
      return { iv: e.ms };
    case "col": {
      if (!COLUMN.test(e.name)) {
        if (scope.aliases.has(e.name)) return evaluate(scope, scope.aliases.get(e.name) as Expr, row, group);
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
      return !evaluate(scope, e.e, row, group);
    case "neg": {
      const v = evaluate(scope, e.e, row, group);
      if (typeof v !== "number") throw new SqlError("unary minus needs a number");
      return -v;
    }
    case "in": {
      const v = evaluate(scope, e.e, row, group);
      const found = e.list.some((item) => compare(v, evaluate(scope, item, row, group)) === 0);
      return e.not ? !found : found;
    }
    case "bin":
      return binop(e.op, evaluate(scope, e.l, row, group), evaluate(scope, e.r, row, group));
    case "call": {
      if (!AGGREGATES.has(e.name))
        return scalar(
          e.name,
          e.args.map((arg) => evaluate(scope, arg, row, group)),
          scope.nowMs,
        );
      if (group === undefined) throw new SqlError(`aggregate ${e.name} outside GROUP BY context`);
      return aggregate(scope, e, group);
    }
  }
}

/** An aggregate function over `group`'s rows (quantileExactWeighted as ClickHouse computes it). */
function aggregate(scope: Scope, e: Extract<Expr, { k: "call" }>, group: Row[]): Val {
  const values = (arg: Expr | undefined) => {
    if (arg === undefined) throw new SqlError(`${e.name} needs an argument`);
    return group.map((r) => evaluate(scope, arg, r, undefined));
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
      if (vs.length === 0) return e.args[0] !== undefined && typeOf(scope, e.args[0]) === "DateTime" ? { dt: 0 } : 0;
      return vs.reduce((best, v) => ((e.name === "min" ? compare(v, best) < 0 : compare(v, best) > 0) ? v : best));
    }
    default: {
      // quantileExactWeighted(level)(x, weight), as ClickHouse computes it: sort by value, accumulate weights,
      // answer the first value whose running weight reaches ceil(level * total weight).
      const level = e.params?.[0];
      if (level?.k !== "num" || e.args.length !== 2) throw new SqlError("quantileExactWeighted(level)(expr, weight)");
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

/**
 * Runs a parsed SELECT over `rows`: the columns' names and types, and the rows as ClickHouse's JSON format writes them.
 */
export function runSelect(
  query: Select,
  rows: Row[],
  nowMs: number,
): { meta: Array<{ name: string; type: ColumnType }>; data: Array<Record<string, unknown>> } {
  const scope: Scope = { aliases: new Map(query.items.map((item) => [item.name, item.expr])), nowMs };
  const matching = rows.filter(
    (row) => query.where === undefined || Boolean(evaluate(scope, query.where, row, undefined)),
  );
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
      const key = JSON.stringify(query.groupBy.map((e) => evaluate(scope, resolve(scope, e), row, undefined)));
      groups.set(key, [...(groups.get(key) ?? []), row]);
    }
    contexts = [...groups.values()].map((group) => ({ group }));
  }
  const evaluated = contexts.map((context) => ({
    values: query.items.map((item) => evaluate(scope, item.expr, context.row, context.group)),
    keys: query.orderBy.map((order) => evaluate(scope, resolve(scope, order.expr), context.row, context.group)),
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
  const meta = query.items.map((item) => ({ name: item.name, type: typeOf(scope, item.expr) }));
  const data = limited.map(({ values }) =>
    Object.fromEntries(meta.map((column, i) => [column.name, render(values[i] as Val, column.type)])),
  );
  return { meta, data };
}
