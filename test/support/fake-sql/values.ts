// Values of the fake SQL API's evaluator: numbers, strings, booleans, DateTime and intervals (tagged, in ms), their
// comparison, the scalar functions and operators, and how ClickHouse's JSON format writes each in an answer.
import { SqlError } from "./tokens.ts";

export type DateVal = { dt: number };
export type Val = number | string | boolean | DateVal | { iv: number } | null;
export const isDate = (v: Val): v is DateVal => typeof v === "object" && v !== null && "dt" in v;
export const isInterval = (v: Val): v is { iv: number } => typeof v === "object" && v !== null && "iv" in v;

export function compare(a: Val, b: Val): number {
  const key = (v: Val) => (isDate(v) ? v.dt : v);
  const x = key(a);
  const y = key(b);
  if (typeof x === "number" && typeof y === "number") return x - y;
  if (typeof x === "string" && typeof y === "string") return x < y ? -1 : x > y ? 1 : 0;
  if (typeof x === "boolean" && typeof y === "boolean") return Number(x) - Number(y);
  throw new SqlError(`cannot compare ${typeof x} with ${typeof y}`);
}

export type ColumnType = "UInt8" | "UInt32" | "UInt64" | "Float64" | "String" | "DateTime";

/** A scalar function's value (if, now, toDateTime, toStartOfInterval). */
export function scalar(name: string, args: Val[], nowMs: number): Val {
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
}

/** A binary operator's value: logic, comparison, DateTime ± interval, arithmetic. */
export function binop(op: string, a: Val, b: Val): Val {
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
}

/** A value as ClickHouse's JSON format writes it: DateTime as "YYYY-MM-DD hh:mm:ss", UInt64 quoted, nan as null. */
export function render(value: Val, type: ColumnType): unknown {
  if (isDate(value)) return new Date(value.dt).toISOString().replace("T", " ").slice(0, 19);
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return null;
    return type === "UInt64" ? String(value) : value;
  }
  return value;
}
