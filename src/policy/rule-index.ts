// The compiled rule and its index: rules of one effect for one issuer, filed by exact claim value or literal first
// path segment, and the lookup of the candidates for a token. Pure; no I/O; no clock. Built by compile.ts, read by
// decide.ts.
import type { CompiledRequirements } from "./requirements.ts";
import type { IssuerKind } from "../platforms/index.ts";
import { MATCH_KEYS } from "./claim-keys.ts";
import { firstSegmentIsLiteral, type Matcher } from "./glob.ts";
import type { GuardRuleFacts, OptOut } from "./guards.ts";
import type { RateLimitDefinition } from "./types.ts";

export interface CompiledCondition {
  claim: string;
  /** The patterns as written, for explanations and the checker. */
  patterns: readonly string[];
  /** Exact patterns: one Set lookup (`__proto__` is just a string to a Set). */
  exact: ReadonlySet<string>;
  /** Glob patterns: anchored regexes, tried only when no exact value matched. */
  globs: readonly Matcher[];
  /**
   * Compare lower-cased (exact values and globs are stored lower-cased). Only for deny rules on names that GitHub and
   * GitLab treat case-insensitively: a deny must not miss `Acme/Legacy` because the rule says `acme/legacy`, and
   * folding can only widen a denial. Allow rules never fold.
   */
  foldCase: boolean;
}

export interface CompiledRule {
  id: string;
  /** Position in the policy's `rules`: order decides which rule an audit names. */
  index: number;
  description: string | undefined;
  effect: "allow" | "deny";
  issuer: string;
  kind: IssuerKind;
  conditions: CompiledCondition[];
  /** Client-visible aliases this rule grants, in declaration order. */
  roles: string[];
  /** Alias -> role name in the policy's `roles`. */
  grants: ReadonlyMap<string, string>;
  /** Names of the policy's `githubTokens` this rule grants, in declaration order. */
  githubTokens: readonly string[];
  /** Per-rule issuance limit override (allow rules only); undefined means the broker's default. */
  rateLimit: RateLimitDefinition | undefined;
  when: ((claims: Readonly<Record<string, unknown>>) => boolean) | undefined;
  optOuts: ReadonlySet<OptOut>;
  facts: GuardRuleFacts;
  /** GitHub facts the rule requires (docs/github-facts.md); checked by the exchange's context stage after decide. */
  requirements: CompiledRequirements | undefined;
}

/** Rules of one effect for one issuer, indexed so a decision tests only the rules that can match. */
export interface RuleSet {
  /** Per index claim: exact value -> rules (in declaration order) whose condition on that claim lists the value. */
  byClaim: ReadonlyArray<{ claim: string; values: ReadonlyMap<string, readonly CompiledRule[]> }>;
  /**
   * Per index claim: first path segment (the owner, the top-level group) -> rules whose patterns on that claim all
   * fix it literally (`acme/*`, `acme/app-*`): a glob rule is tested only for its own owner's tokens.
   */
  bySegment: ReadonlyArray<{ claim: string; values: ReadonlyMap<string, readonly CompiledRule[]> }>;
  /** Rules with neither: always candidates. */
  scan: readonly CompiledRule[];
  size: number;
}

/** The first path segment of a claim value or pattern: `acme` of `acme/app`, the whole value without a `/`. */
export function firstSegment(value: string): string {
  const slash = value.indexOf("/");
  return slash === -1 ? value : value.slice(0, slash);
}

function addTo(
  index: Map<string, Map<string, CompiledRule[]>>,
  claim: string,
  keys: Iterable<string>,
  rule: CompiledRule,
): void {
  let values = index.get(claim);
  if (values === undefined) {
    values = new Map();
    index.set(claim, values);
  }
  for (const key of keys) {
    const list = values.get(key);
    if (list === undefined) values.set(key, [rule]);
    else if (list.at(-1) !== rule) list.push(rule);
  }
}

/**
 * Index each rule once: under the first index claim it matches exactly, else under the first whose patterns all
 * fix the first path segment (every value they match starts with `<segment>/`), else scanned. Lists keep
 * declaration order; a rule sits in one list per key, so lists never share a rule for one token.
 */
export function indexRules(kind: IssuerKind, rules: readonly CompiledRule[]): RuleSet {
  const byClaim = new Map<string, Map<string, CompiledRule[]>>();
  const bySegment = new Map<string, Map<string, CompiledRule[]>>();
  const scan: CompiledRule[] = [];
  for (const rule of rules) {
    // Case-folded conditions cannot be looked up by the token's raw value: such rules are found by another claim or
    // scanned.
    const conditions = MATCH_KEYS[kind].index.flatMap((claim) =>
      rule.conditions.filter((condition) => condition.claim === claim && !condition.foldCase),
    );
    const exact = conditions.find((condition) => condition.globs.length === 0);
    if (exact !== undefined) {
      addTo(byClaim, exact.claim, exact.exact, rule);
      continue;
    }
    const segmented = conditions.find((condition) =>
      condition.globs.every((glob) => glob.source.includes("/") && firstSegmentIsLiteral(glob.source)),
    );
    if (segmented !== undefined) {
      addTo(bySegment, segmented.claim, segmented.patterns.map(firstSegment), rule);
      continue;
    }
    scan.push(rule);
  }
  const list = (index: Map<string, Map<string, CompiledRule[]>>) =>
    [...index].map(([claim, values]) => ({ claim, values }));
  return { byClaim: list(byClaim), bySegment: list(bySegment), scan, size: rules.length };
}

const NO_RULES: readonly CompiledRule[] = [];

/**
 * The rules of `set` that can match these claims, in declaration order: those indexed under the claim values the
 * token carries, plus the unindexed ones. A 1,000-rule policy costs a few Map lookups, not 1,000 regex tests.
 */
export function candidateRules(set: RuleSet, claims: Readonly<Record<string, unknown>>): readonly CompiledRule[] {
  if (set.size === 0) return NO_RULES;
  let single: readonly CompiledRule[] | undefined;
  let merged: CompiledRule[] | undefined;
  const add = (list: readonly CompiledRule[]) => {
    if (merged !== undefined) merged.push(...list);
    else if (single === undefined) single = list;
    else merged = [...single, ...list];
  };
  for (const { claim, values } of set.byClaim) {
    if (!Object.hasOwn(claims, claim)) continue;
    const value = claims[claim];
    if (typeof value !== "string") continue;
    const list = values.get(value);
    if (list !== undefined) add(list);
  }
  for (const { claim, values } of set.bySegment) {
    if (!Object.hasOwn(claims, claim)) continue;
    const value = claims[claim];
    if (typeof value !== "string") continue;
    const list = values.get(firstSegment(value));
    if (list !== undefined) add(list);
  }
  if (set.scan.length > 0) add(set.scan);
  // A rule sits under one index claim, and a token has one value (one segment) per claim: lists never share a rule.
  if (merged !== undefined) return merged.sort((a, b) => a.index - b.index);
  return single ?? NO_RULES;
}
