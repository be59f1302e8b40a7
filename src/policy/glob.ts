// Anchored glob patterns for claim matching. Pure; no I/O.
// `*` matches within one path segment (never `/`), `**` matches across segments; everything else is literal.
// No case folding, no Unicode normalisation: `ACME/app` and `acme/app` are different values.

export interface Matcher {
  /** The pattern as written, for explanations and errors. */
  readonly source: string;
  test(value: string): boolean;
}

const REGEX_SPECIALS = /[.*+?^${}()|[\]\\/-]/g;

/** True when the pattern has glob syntax; otherwise it is compared as an exact string. */
export function isGlob(pattern: string): boolean {
  return pattern.includes("*");
}

/** Compile a pattern. Throws on `***` (ambiguous) so policy authors see the mistake at compile time. */
export function compilePattern(pattern: string): Matcher {
  if (!isGlob(pattern)) return { source: pattern, test: (value) => value === pattern };
  if (pattern.includes("***")) throw new Error(`pattern ${JSON.stringify(pattern)}: "***" is ambiguous; use "*" or "**"`);
  const body = pattern
    .split("**")
    .map((part) => part.split("*").map((literal) => literal.replace(REGEX_SPECIALS, "\\$&")).join("[^/]*"))
    .join("[\\s\\S]*");
  // `u` flag: match code points, not UTF-16 halves; anchors make every pattern whole-value.
  const regex = new RegExp(`^${body}$`, "u");
  return { source: pattern, test: (value) => regex.test(value) };
}
