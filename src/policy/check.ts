// Static checks beyond compilation (what `policy:check` reports): shadowed rules, alias conflicts, names without ids.
// Pure; no I/O. Conservative: a finding is reported only when it is proved (shadowing) or possible (conflicts).
//
// Definitions (docs/policy.md "policy:check"):
// - A rule B is SHADOWED by A when, for every possible token, B matching implies A matching and A already decides
//   everything B would: A is an earlier rule of the same effect and issuer, has no `when`, constrains only claims B
//   constrains, each with patterns proved to cover B's (glob containment is checked syntactically: `acme/*` covers
//   `acme/app` and `acme/app-*`; anything unproved counts as not covered); for allow rules A grants every alias B
//   grants as the same role and every GitHub token grant B grants, opts out of every guard B opts out of, and names an
// environment if B does. An allow
//   rule covered in the same way by any deny rule is shadowed too (deny rules are evaluated first).
// - Two allow rules CONFLICT when they grant one alias as different roles and some token may match both (their
//   patterns on every shared claim may overlap); decide() refuses such a request (`role_conflict`).
// - NAME WITHOUT ID: a rule naming a repository/owner (project/namespace) without pinning the numeric id, which
//   survives renames and transfers. An error for rules granting privileged roles or grants, a warning otherwise.
// - GitHub token grants: unused grants, and pushes that start privileged workflows (check-github-tokens.ts).
import { MATCH_KEYS } from "./claim-keys.ts";
import { compilePolicy, PolicyCompileError, type CompileOptions, type CompiledPolicy } from "./compile.ts";
import type { CompiledCondition, CompiledRule } from "./rule-index.ts";
import type { CheckResult, Finding } from "./check-findings.ts";
import { privilegedGrants } from "./check-findings.ts";
import { lintGithubTokens } from "./check-github-tokens.ts";
import { mayOverlap, patternCovers } from "./glob.ts";
import type { PolicyDefinition } from "./types.ts";

export type { CheckResult, Finding, FindingCode } from "./check-findings.ts";

const where = (rule: CompiledRule) => `rules[${rule.index}] (${rule.id})`;

function conditionOn(rule: CompiledRule, claim: string): CompiledCondition | undefined {
  return rule.conditions.find((condition) => condition.claim === claim);
}

/** Every token matching B's conditions matches A's (A has no predicate). */
export function conditionsCover(a: CompiledRule, b: CompiledRule): boolean {
  if (a.issuer !== b.issuer || a.when !== undefined) return false;
  return a.conditions.every((outer) => {
    const inner = conditionOn(b, outer.claim);
    return inner?.patterns.every((q) => outer.patterns.some((p) => patternCovers(p, q)));
  });
}

/** Some token may match both rules' conditions (predicates ignored). */
export function conditionsMayOverlap(a: CompiledRule, b: CompiledRule): boolean {
  if (a.issuer !== b.issuer) return false;
  return a.conditions.every((ca) => {
    const cb = conditionOn(b, ca.claim);
    return cb === undefined || ca.patterns.some((p) => cb.patterns.some((q) => mayOverlap(p, q)));
  });
}

/** A (earlier allow) decides everything B (later allow) would. */
function allowShadows(a: CompiledRule, b: CompiledRule): boolean {
  if (!conditionsCover(a, b)) return false;
  for (const [alias, role] of b.grants) if (a.grants.get(alias) !== role) return false;
  for (const name of b.githubTokens) if (!a.githubTokens.includes(name)) return false;
  for (const optOut of b.optOuts) if (!a.optOuts.has(optOut)) return false;
  for (const event of b.facts.extraEvents) if (!a.facts.extraEvents.has(event)) return false;
  return !b.facts.namesEnvironment || a.facts.namesEnvironment;
}

function lintShadowing(policy: CompiledPolicy, findings: Finding[]): void {
  const { rules } = policy;
  for (const [j, b] of rules.entries()) {
    let by: { rule: CompiledRule; why: string } | undefined;
    for (const a of b.effect === "allow" ? policy.denyRules : []) {
      if (conditionsCover(a, b)) {
        by = { rule: a, why: "a deny rule, evaluated first, matches every token it matches" };
        break;
      }
    }
    for (let i = 0; by === undefined && i < j; i++) {
      const a = rules[i] as CompiledRule;
      if (a.effect !== b.effect) continue;
      if (b.effect === "deny" ? conditionsCover(a, b) : allowShadows(a, b)) {
        by = {
          rule: a,
          why:
            b.effect === "deny"
              ? "it denies every token this one matches"
              : "it matches every token this one matches and grants the same roles first",
        };
      }
    }
    if (by !== undefined) {
      findings.push({
        severity: "error",
        code: "rule_shadowed",
        location: where(b),
        message: `shadowed by ${where(by.rule)}: ${by.why}; remove it or narrow the earlier rule`,
      });
    }
  }
}

function lintConflicts(policy: CompiledPolicy, findings: Finding[]): void {
  const rules = policy.allowRules;
  for (const [j, b] of rules.entries()) {
    for (let i = 0; i < j; i++) {
      const a = rules[i] as CompiledRule;
      for (const [alias, role] of b.grants) {
        const other = a.grants.get(alias);
        if (other === undefined || other === role || !conditionsMayOverlap(a, b)) continue;
        const predicate = a.when !== undefined || b.when !== undefined;
        findings.push({
          severity: predicate ? "warning" : "error",
          code: "alias_conflict",
          location: where(b),
          message: `grants alias "${alias}" as role "${role}", but ${where(a)} grants it as "${other}" and a token may match both${predicate ? " (unless their `when` predicates exclude each other)" : ""}; requests for "${alias}" matching both are refused (role_conflict)`,
        });
      }
    }
  }
}

function lintIds(policy: CompiledPolicy, findings: Finding[]): void {
  for (const rule of policy.allowRules) {
    const what = privilegedGrants(policy, rule);
    const privileged = what !== undefined;
    const pairs = MATCH_KEYS[rule.kind].nameIds;
    // Pairs run most specific first: a repository id also pins the owner, so it satisfies the owner pair too.
    for (const [index, [name, id]] of pairs.entries()) {
      if (conditionOn(rule, name) === undefined) continue;
      if (pairs.slice(0, index + 1).some(([, pin]) => conditionOn(rule, pin) !== undefined)) continue;
      findings.push({
        severity: privileged ? "error" : "warning",
        code: "name_without_id",
        location: where(rule),
        message: `matches ${name} by name without ${id}: a renamed or transferred name would keep ${privileged ? "this privileged grant" : "this grant"}; add ${id}`,
      });
    }
    if (privileged && rule.optOuts.size > 0) {
      findings.push({
        severity: "warning",
        code: "guard_opted_out",
        location: where(rule),
        message: `grants ${what} with guards opted out: ${[...rule.optOuts].join(", ")}`,
      });
    }
    if (privileged && rule.facts.extraEvents.size > 0) {
      findings.push({
        severity: "warning",
        code: "event_allowlist_widened",
        location: where(rule),
        message: `grants ${what} for events beyond the trusted default: ${[...rule.facts.extraEvents].join(", ")} (docs/security.md lists who can trigger them)`,
      });
    }
  }
}

function lintRoles(policy: CompiledPolicy, findings: Finding[]): void {
  const used = new Set(policy.allowRules.flatMap((rule) => [...rule.grants.values()]));
  for (const name of policy.roles.keys()) {
    if (!used.has(name))
      findings.push({
        severity: "warning",
        code: "role_unused",
        location: `roles.${name}`,
        message: "no rule grants this role",
      });
  }
}

/** Compile, then lint. Never throws for a policy mistake: the compile error becomes the one finding. */
export function checkPolicy(def: PolicyDefinition, options: CompileOptions = {}): CheckResult {
  let compiled: CompiledPolicy;
  try {
    compiled = compilePolicy(def, options);
  } catch (error) {
    if (!(error instanceof PolicyCompileError)) throw error;
    return {
      compiled: undefined,
      findings: [
        {
          severity: "error",
          code: error.code,
          location: error.location,
          message: error.message.slice(error.location.length + 2),
        },
      ],
    };
  }
  const findings: Finding[] = [];
  lintShadowing(compiled, findings);
  lintConflicts(compiled, findings);
  lintIds(compiled, findings);
  lintRoles(compiled, findings);
  lintGithubTokens(compiled, findings);
  return { compiled, findings };
}
