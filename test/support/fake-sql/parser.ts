// The fake SQL API's parser: SELECT .. FROM .. [WHERE] [GROUP BY] [ORDER BY] [LIMIT] [FORMAT JSON] over the
// expressions Analytics Engine documents (functions of AGGREGATES and SCALARS, INTERVAL 'n' UNIT, IN, AND/OR/NOT,
// + - * / %). A recursive descent over ./tokens.ts; anything else is a SqlError.
import { SqlError, type Token, tokenize } from "./tokens.ts";

export type Expr =
  | { k: "num"; v: number; int: boolean }
  | { k: "str"; v: string }
  | { k: "interval"; ms: number }
  | { k: "col"; name: string }
  | { k: "call"; name: string; params: Expr[] | undefined; args: Expr[] }
  | { k: "bin"; op: string; l: Expr; r: Expr }
  | { k: "not"; e: Expr }
  | { k: "neg"; e: Expr }
  | { k: "in"; e: Expr; list: Expr[]; not: boolean };

export interface Select {
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
export const AGGREGATES = new Set(["sum", "count", "avg", "min", "max", "quantileexactweighted"]);
const SCALARS = new Set(["if", "tostartofinterval", "todatetime", "now"]);
const UNIT_MS: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };
export const COLUMN = /^(timestamp|_sample_interval|index1|dataset|blob([1-9]|1\d|20)|double([1-9]|1\d|20))$/;

/** The parser's position in the query's tokens. */
class Cursor {
  at = 0;
  readonly tokens: Token[];
  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }
  peek(): Token | undefined {
    return this.tokens[this.at];
  }
  isKw(word: string): boolean {
    const t = this.peek();
    return t?.kind === "id" && t.value.toLowerCase() === word;
  }
  isOp(op: string): boolean {
    const t = this.peek();
    return t?.kind === "op" && t.value === op;
  }
  expectKw(word: string): void {
    if (!this.isKw(word)) throw new SqlError(`expected ${word.toUpperCase()}`);
    this.at++;
  }
  expectOp(op: string): void {
    if (!this.isOp(op)) throw new SqlError(`expected ${op}`);
    this.at++;
  }
}

function list(c: Cursor): Expr[] {
  const items: Expr[] = [];
  if (c.isOp(")")) return items;
  do items.push(expr(c));
  while (c.isOp(",") && ++c.at);
  return items;
}

function primary(c: Cursor): Expr {
  const t = c.peek();
  if (t === undefined) throw new SqlError("unexpected end of query");
  if (t.kind === "num") {
    c.at++;
    return { k: "num", v: t.value, int: t.int };
  }
  if (t.kind === "str") {
    c.at++;
    return { k: "str", v: t.value };
  }
  if (t.kind === "op" && t.value === "(") {
    c.at++;
    const inner = expr(c);
    c.expectOp(")");
    return inner;
  }
  if (t.kind === "id") {
    const word = t.value.toLowerCase();
    if (word === "interval") {
      c.at++;
      const amount = c.peek();
      if (amount?.kind !== "str" || !/^\d+$/.test(amount.value)) throw new SqlError("INTERVAL needs a quoted integer");
      c.at++;
      const unit = c.peek();
      const unitMs = unit?.kind === "id" ? UNIT_MS[unit.value.toLowerCase()] : undefined;
      if (unitMs === undefined) throw new SqlError("unsupported INTERVAL unit");
      c.at++;
      return { k: "interval", ms: Number(amount.value) * unitMs };
    }
    if (KEYWORDS.has(word)) throw new SqlError(`unexpected keyword ${t.value}`);
    c.at++;
    if (c.isOp("(")) {
      c.at++;
      let args = list(c);
      c.expectOp(")");
      let params: Expr[] | undefined;
      if (c.isOp("(")) {
        c.at++;
        params = args;
        args = list(c);
        c.expectOp(")");
      }
      if (!AGGREGATES.has(word) && !SCALARS.has(word)) throw new SqlError(`unknown function ${t.value}`);
      return { k: "call", name: word, params, args };
    }
    return { k: "col", name: t.value };
  }
  throw new SqlError(`unexpected ${t.value}`);
}

function unary(c: Cursor): Expr {
  if (c.isOp("-")) {
    c.at++;
    return { k: "neg", e: unary(c) };
  }
  return primary(c);
}

/** A left-associative chain of `next` joined by `ops`. */
function binary(c: Cursor, next: (c: Cursor) => Expr, ops: string[]): Expr {
  let left = next(c);
  for (;;) {
    const t = c.peek();
    if (t?.kind !== "op" || !ops.includes(t.value)) return left;
    c.at++;
    left = { k: "bin", op: t.value, l: left, r: next(c) };
  }
}

function mul(c: Cursor): Expr {
  return binary(c, unary, ["*", "/", "%"]);
}

function add(c: Cursor): Expr {
  return binary(c, mul, ["+", "-"]);
}

function comparison(c: Cursor): Expr {
  const left = add(c);
  const t = c.peek();
  if (t?.kind === "op" && ["=", "!=", "<>", "<", "<=", ">", ">="].includes(t.value)) {
    c.at++;
    return { k: "bin", op: t.value === "<>" ? "!=" : t.value, l: left, r: add(c) };
  }
  const after = c.tokens[c.at + 1];
  const negated = c.isKw("not") && after?.kind === "id" && after.value.toLowerCase() === "in";
  if (negated) c.at++;
  if (c.isKw("in")) {
    c.at++;
    c.expectOp("(");
    const items = list(c);
    c.expectOp(")");
    return { k: "in", e: left, list: items, not: negated };
  }
  return left;
}

function not(c: Cursor): Expr {
  if (c.isKw("not")) {
    c.at++;
    return { k: "not", e: not(c) };
  }
  return comparison(c);
}

function and(c: Cursor): Expr {
  let left = not(c);
  while (c.isKw("and")) {
    c.at++;
    left = { k: "bin", op: "and", l: left, r: not(c) };
  }
  return left;
}

function expr(c: Cursor): Expr {
  let left = and(c);
  while (c.isKw("or")) {
    c.at++;
    left = { k: "bin", op: "or", l: left, r: and(c) };
  }
  return left;
}

/** Parses one SELECT; throws SqlError on anything the fake does not take. */
export function parse(sql: string): Select {
  const c = new Cursor(tokenize(sql));
  c.expectKw("select");
  const items: Select["items"] = [];
  do {
    const e = expr(c);
    let name = e.k === "col" ? e.name : `expr${items.length + 1}`;
    if (c.isKw("as")) {
      c.at++;
      const alias = c.peek();
      if (alias?.kind !== "id") throw new SqlError("expected alias");
      name = alias.value;
      c.at++;
    }
    items.push({ expr: e, name });
  } while (c.isOp(",") && ++c.at);
  c.expectKw("from");
  const table = c.peek();
  if (table?.kind !== "id") throw new SqlError("expected table name");
  c.at++;
  let where: Expr | undefined;
  if (c.isKw("where")) {
    c.at++;
    where = expr(c);
  }
  const groupBy: Expr[] = [];
  if (c.isKw("group")) {
    c.at++;
    c.expectKw("by");
    do groupBy.push(expr(c));
    while (c.isOp(",") && ++c.at);
  }
  const orderBy: Select["orderBy"] = [];
  if (c.isKw("order")) {
    c.at++;
    c.expectKw("by");
    do {
      const e = expr(c);
      let desc = false;
      if (c.isKw("asc")) c.at++;
      else if (c.isKw("desc")) {
        c.at++;
        desc = true;
      }
      orderBy.push({ expr: e, desc });
    } while (c.isOp(",") && ++c.at);
  }
  let limit: number | undefined;
  if (c.isKw("limit")) {
    c.at++;
    const n = c.peek();
    if (n?.kind !== "num" || !n.int) throw new SqlError("LIMIT needs an integer");
    limit = n.value;
    c.at++;
  }
  if (c.isKw("format")) {
    c.at++;
    const format = c.peek();
    if (format?.kind !== "id" || format.value !== "JSON") throw new SqlError("the fake answers FORMAT JSON only");
    c.at++;
  }
  if (c.at !== c.tokens.length) throw new SqlError(`unexpected ${(c.peek() as Token).value} after the query`);
  return { items, from: table.value, where, groupBy, orderBy, limit };
}
