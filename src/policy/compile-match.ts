// Compiles a rule's `match` block into conditions (exact values and globs, case-folded for deny rules on names) and
// checks that allow rules are scoped to code the operator trusts. Pure; no I/O. Called from compile-rule.ts.
import type { IssuerKind } from "../oidc/issuers.ts";
import { ID_PATTERN, MATCH_KEYS } from "./claim-keys.ts";
import { fail, isPlainObject } from "./compile-error.ts";
import { compilePattern, firstSegmentIsLiteral, isGlob, type Matcher } from "./glob.ts";
import type { OptOut } from "./guards.ts";
import type { CompiledCondition } from "./rule-index.ts";

/** Name claims whose providers compare case-insensitively: deny rules match them without case. */
const CASE_INSENSITIVE_NAMES: ReadonlySet<string> = new Set([
  "repository",
  "repository_owner",
  "actor",
  "environment",
  "project_path",
  "namespace_path",
  "user_login",
  "job_project_path",
  "job_namespace_path",
]);

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
    const foldCase = effect === "deny" && CASE_INSENSITIVE_NAMES.has(claim);
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

/** Allow rules must say whose code they trust, with the owner fixed literally (see KindKeys.scope). */
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
 * A public reusable workflow can be called by any repository: pin it exactly and pin who may call it. Only
 * job_workflow_ref: workflow_ref names the caller's own workflow file, which a rule may glob.
 */
export function checkWorkflowPin(
  where: string,
  conditions: readonly CompiledCondition[],
  optOuts: ReadonlySet<OptOut>,
): void {
  const workflow = conditions.find((condition) => condition.claim === "job_workflow_ref");
  if (workflow === undefined) return;
  if (workflow.globs.length > 0) {
    fail(
      `${where}.match.job_workflow_ref`,
      "job_workflow_ref must be exact (owner/repo/.github/workflows/x.yml@ref, no globs): a glob also trusts workflow files and refs nobody reviewed; workflow_ref (the caller's own workflow) may be globbed",
      "workflow_ref_glob",
    );
  }
  if (
    !optOuts.has("allowAnyWorkflowCaller") &&
    !conditions.some((condition) => condition.claim === "repository_owner_id")
  ) {
    fail(
      where,
      "a rule pinning job_workflow_ref must also pin the caller's repository_owner_id (or opt out: allowAnyWorkflowCaller)",
      "workflow_caller_unpinned",
    );
  }
}
