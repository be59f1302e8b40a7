// JSON parsing that refuses duplicate object keys, which JSON.parse silently resolves last-wins.
// Pure; no I/O. Two different readers of one body must never see two different tokens (RFC 8259 §4: names SHOULD be
// unique).

interface Frame {
  kind: "object" | "array";
  keys: Set<string>;
  expectKey: boolean;
}

/** True when any object in the (valid) JSON text repeats a key. Keys compare after unescaping. */
export function hasDuplicateKey(text: string): boolean {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      const top = stack[stack.length - 1];
      if (top?.kind === "object" && top.expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(start, i + 1)) as string;
        } catch {
          return false; // malformed: JSON.parse reports it
        }
        if (top.keys.has(key)) return true;
        top.keys.add(key);
        top.expectKey = false;
      }
    } else if (ch === "{") {
      stack.push({ kind: "object", keys: new Set(), expectKey: true });
    } else if (ch === "[") {
      stack.push({ kind: "array", keys: new Set(), expectKey: false });
    } else if (ch === "}" || ch === "]") {
      stack.pop();
    } else if (ch === ",") {
      const top = stack[stack.length - 1];
      if (top?.kind === "object") top.expectKey = true;
    }
  }
  return false;
}

export type StrictJsonResult =
  | { ok: true; value: unknown }
  | { ok: false; reason: "json_malformed" | "json_duplicate_key" };

export function parseStrictJson(text: string): StrictJsonResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "json_malformed" };
  }
  if (hasDuplicateKey(text)) return { ok: false, reason: "json_duplicate_key" };
  return { ok: true, value };
}
