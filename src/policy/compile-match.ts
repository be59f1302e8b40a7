// A rule's matchers, compiled against its issuer's platform (src/platforms/): the `match` conditions, the scope an
// allow rule must name, and `allowEvents`. Pure; no I/O. Fails naming the field at fault.
import type { IssuerKind } from "../platforms/index.ts";
import { ID_PATTERN, MATCH_KEYS } from "./claim-keys.ts";
import { fail, isPlainObject } from "./compile-error.ts";
import { compilePattern, firstSegmentIsLiteral, isGlob, type Matcher } from "./glob.ts";
import { TRUSTED_EVENTS } from "./guards.ts";
import type { CompiledCondition } from "./rule-index.ts";

/** An event name or pipeline source as GitHub and GitLab spell them: lower-case words joined by `_`, never a glob. */
const EVENT_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

export function compileConditions(
  where: string,
  kind: IssuerKind,
  match: unknown,
  effect: "allow" | "deny",
): CompiledCondition[] {
  if (!isPlainObject(match)) fail(`${where}.match`, "must be an object of claim -> pattern(s)");
  const keys = MATCH_KEYS[kind];
  const conditions: CompiledCondition[] = [];
  for (const [claim, value] of Object.entries(match)) {
    const at = `${where}.match.${claim}`;
    if (!keys.all.includes(claim)) fail(at, `not a claim ${kind} rules can match on`);
    if (value === undefined) continue;
    const list: unknown[] = typeof value === "string" ? [value] : Array.isArray(value) ? value : [];
    if (list.length === 0 || !list.every((p): p is string => typeof p === "string" && p.length > 0)) {
      fail(at, "must be a non-empty pattern or a non-empty list of them", "pattern_invalid");
    }
    if (keys.ids.includes(claim) && !list.every((p) => ID_PATTERN.test(p))) {
      fail(at, "ids are exact strings of decimal digits, never globs", "pattern_invalid");
    }
    const foldCase = effect === "deny" && keys.caseInsensitive.includes(claim);
    const patterns = [...new Set(list)];
    const exact = new Set<string>();
    const globs: Matcher[] = [];
    for (const pattern of patterns) {
      if (!isGlob(pattern)) {
        exact.add(foldCase ? pattern.toLowerCase() : pattern);
        continue;
      }
      try {
        globs.push(compilePattern(foldCase ? pattern.toLowerCase() : pattern));
      } catch (error) {
        fail(at, error instanceof Error ? error.message : "invalid pattern", "pattern_invalid");
      }
    }
    conditions.push({ claim, patterns, exact, globs, foldCase });
  }
  if (conditions.length === 0) fail(where, "a rule must match at least one claim");
  return conditions;
}

/** Allow rules must say whose code they trust, with the owner fixed literally (see MatchKeys.scope, src/platforms/platform.ts). */
export function checkScope(where: string, kind: IssuerKind, conditions: readonly CompiledCondition[]): void {
  const keys = MATCH_KEYS[kind];
  if (!conditions.some((condition) => keys.scope.includes(condition.claim))) {
    fail(
      where,
      `an allow rule must match one of ${keys.scope.join(", ")}: without one it trusts every repository of every owner`,
      "rule_unscoped",
    );
  }
  for (const condition of conditions) {
    if (!keys.ownerFixed.includes(condition.claim)) continue;
    const broad = condition.patterns.find((pattern) => !firstSegmentIsLiteral(pattern));
    if (broad !== undefined) {
      fail(
        `${where}.match.${condition.claim}`,
        `pattern "${broad}" does not fix the owner: it matches repositories anyone can create; name the owner literally or use ids`,
        "pattern_too_broad",
      );
    }
  }
}

/**
 * `allowEvents`: the events beyond TRUSTED_EVENTS a rule's privileged grants may be made for, each named exactly (no
 * globs, no "all"): widening is a visible, reviewable line per event, and `policy:check` reports it.
 */
export function compileAllowEvents(
  where: string,
  kind: IssuerKind,
  value: unknown,
  effect: "allow" | "deny",
): ReadonlySet<string> {
  const events = new Set<string>();
  if (value === undefined) return events;
  const at = `${where}.allowEvents`;
  if (effect === "deny") fail(at, "guards do not apply to deny rules");
  if (!Array.isArray(value) || value.length === 0) fail(at, "must be a non-empty list of event names");
  for (const event of value as unknown[]) {
    if (typeof event !== "string" || !EVENT_NAME_PATTERN.test(event)) {
      fail(at, `"${String(event)}" is not an event name (exact lower-case names only, no globs)`);
    }
    if (TRUSTED_EVENTS[kind].has(event))
      fail(at, `"${event}" is trusted already: list only the events that widen the default`);
    events.add(event);
  }
  return events;
}
