// The fake SQL API's tokenizer: numbers, 'strings' (with '' and \ escapes), identifiers, operators, -- comments.
// Anything else is a SqlError, which the fake answers as a 400.

/** A query the fake refuses: answered as the SQL API's 400 with the message as plain text. */
export class SqlError extends Error {}

export type Token =
  | { kind: "num"; value: number; int: boolean }
  | { kind: "str"; value: string }
  | { kind: "id"; value: string }
  | { kind: "op"; value: string };

export function tokenize(sql: string): Token[] {
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
