// Anchored glob patterns for claim matching. Pure; no I/O.
// `*` matches within one path segment (never `/`), `**` matches across segments; everything else is literal.
// No case folding, no Unicode normalisation: `ACME/app` and `acme/app` are different values.

export interface Matcher {
  /** The pattern as written, for explanations and errors. */
  readonly source: string;
  test(value: string): boolean;
}

// Characters with meaning outside a character class. Not `-`: escaping it is a SyntaxError under the `u` flag.
const REGEX_SPECIALS = /[.*+?^${}()|[\]\\/]/g;

/** True when the pattern has glob syntax; otherwise it is compared as an exact string. */
export function isGlob(pattern: string): boolean {
  return pattern.includes("*");
}

/** Compile a pattern. Throws on `***` (ambiguous) so policy authors see the mistake at compile time. */
export function compilePattern(pattern: string): Matcher {
  if (!isGlob(pattern)) return { source: pattern, test: (value) => value === pattern };
  if (pattern.includes("***"))
    throw new Error(`pattern ${JSON.stringify(pattern)}: "***" is ambiguous; use "*" or "**"`);
  const body = pattern
    .split("**")
    .map((part) =>
      part
        .split("*")
        .map((literal) => literal.replace(REGEX_SPECIALS, "\\$&"))
        .join("[^/]*"),
    )
    .join("[\\s\\S]*");
  // `u` flag: match code points, not UTF-16 halves; anchors make every pattern whole-value.
  const regex = new RegExp(`^${body}$`, "u");
  return { source: pattern, test: (value) => regex.test(value) };
}

// --- Static analysis of patterns (policy:check, compile-time breadth checks) -----------------------------------
// Conservative by design: `patternCovers` answers true only when it can prove coverage, `mayOverlap` answers false
// only when it can prove the two patterns share no value. Unsure means "not covered" and "may overlap".

/** The literal text before the first `*` (the whole pattern when it has none). */
export function literalPrefix(pattern: string): string {
  const star = pattern.indexOf("*");
  return star === -1 ? pattern : pattern.slice(0, star);
}

/** The literal text after the last `*` (the whole pattern when it has none). */
export function literalSuffix(pattern: string): string {
  const star = pattern.lastIndexOf("*");
  return star === -1 ? pattern : pattern.slice(star + 1);
}

/** True when every value `inner` matches is also matched by `outer` (proved, not guessed). */
export function patternCovers(outer: string, inner: string): boolean {
  if (outer === inner) return true;
  if (!isGlob(outer)) return false; // an exact outer covers only itself
  if (!isGlob(inner)) return compilePattern(outer).test(inner);
  // `L**` (one trailing `**`, literal L) covers any pattern whose literal prefix starts with L.
  const prefix = literalPrefix(outer);
  if (outer === `${prefix}**` && literalPrefix(inner).startsWith(prefix)) return true;
  // `L*` (one trailing `*`) covers `L<x>` when the rest of inner cannot produce a `/`: single `*`s, no literal `/`.
  if (outer === `${prefix}*` && !prefix.includes("*") && inner.startsWith(prefix)) {
    const rest = inner.slice(prefix.length);
    return !rest.includes("/") && !rest.includes("**");
  }
  return false;
}

/** False only when no string can match both patterns. */
export function mayOverlap(a: string, b: string): boolean {
  if (!isGlob(a) && !isGlob(b)) return a === b;
  if (!isGlob(a)) return compilePattern(b).test(a);
  if (!isGlob(b)) return compilePattern(a).test(b);
  const pa = literalPrefix(a);
  const pb = literalPrefix(b);
  if (!pa.startsWith(pb) && !pb.startsWith(pa)) return false;
  const sa = literalSuffix(a);
  const sb = literalSuffix(b);
  if (!sa.endsWith(sb) && !sb.endsWith(sa)) return false;
  return true;
}

/**
 * True when the first path segment (text before the first `/`) is literal. `acme/*` fixes the owner; `*`/`**`,
 * `*\/app` and `acme-*\/app` do not: anyone can create an owner those match.
 */
export function firstSegmentIsLiteral(pattern: string): boolean {
  const slash = pattern.indexOf("/");
  const first = slash === -1 ? pattern : pattern.slice(0, slash);
  if (first.includes("*")) return false;
  // `**` right after the literal owner could still cross into... nothing above the owner: fine. But a pattern of
  // only `**` after nothing (`/**`) has an empty owner segment, which no real owner has: treat as not literal.
  return first.length > 0;
}
