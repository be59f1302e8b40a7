// The policy decision: verified claims + request -> allow with a grant, or deny with a reason.
// Pure; no I/O; no clock. Default deny; an explicit deny rule wins over every allow; guards hold every allow.
import { DEFAULT_SESSION_DURATION_SECONDS } from "../constants.ts";
import type { IssuerKind } from "../oidc/issuers.ts";
import type { RoleGrant } from "../aws/session.ts";
import type { CompiledPolicy } from "./compile.ts";
import { GUARDS, type GuardReason } from "./guards.ts";
import { candidateRules, type CompiledCondition, type CompiledRule } from "./rule-index.ts";
import type { CompiledRequirements } from "./requirements.ts";
import type { RateLimitDefinition } from "./types.ts";

/** Internal denial reasons (logged and audited, never sent to the caller). */
export type DenyReason =
  | "explicit_deny"
  | "no_matching_rule"
  | "role_not_granted"
  | "role_ambiguous"
  | "role_conflict"
  | "duration_exceeds_role"
  | GuardReason;

export type Decision =
  | {
      allowed: true;
      ruleId: string;
      alias: string;
      grant: RoleGrant;
      durationSeconds: number;
      rateLimit: RateLimitDefinition | undefined;
      /** GitHub facts still to check before credentials are issued (the exchange's context stage). */
      requirements?: CompiledRequirements | undefined;
    }
  | { allowed: false; reason: DenyReason; ruleId: string | undefined };

export interface DecisionInput {
  /** Id of the issuer that signed the token (from ISSUERS). */
  issuerId: string;
  /** Verified, schema-checked claims. */
  claims: Readonly<Record<string, unknown>>;
  /** Role alias the caller asked for, if any. */
  role: string | undefined;
  /** Session length the caller asked for, if any (already range-checked by the request parser). */
  durationSeconds: number | undefined;
}

/** One condition: the claim is an own string property equal to an exact value or matched by a glob. */
export function conditionHolds(condition: CompiledCondition, claims: Readonly<Record<string, unknown>>): boolean {
  if (!Object.hasOwn(claims, condition.claim)) return false;
  const value = claims[condition.claim];
  if (typeof value !== "string") return false;
  const compared = condition.foldCase ? value.toLowerCase() : value;
  if (condition.exact.has(compared)) return true;
  for (const glob of condition.globs) if (glob.test(compared)) return true;
  return false;
}

/** The rule's predicate. A throwing predicate fails closed: an allow does not match, a deny does. */
export function whenHolds(rule: CompiledRule, claims: Readonly<Record<string, unknown>>): boolean {
  if (rule.when === undefined) return true;
  try {
    return rule.when(claims) === true;
  } catch {
    return rule.effect === "deny";
  }
}

/** True when the rule is for this issuer and every condition (and its `when`) holds. Guards are separate. */
export function ruleMatches(rule: CompiledRule, issuerId: string, claims: Readonly<Record<string, unknown>>): boolean {
  if (rule.issuer !== issuerId) return false;
  for (const condition of rule.conditions) if (!conditionHolds(condition, claims)) return false;
  return whenHolds(rule, claims);
}

/** The first failing guard for this rule and role (privileged guards only for privileged roles), or undefined. */
export function guardFailure(rule: CompiledRule, kind: IssuerKind, privileged: boolean, claims: Readonly<Record<string, unknown>>): GuardReason | undefined {
  for (const guard of GUARDS) {
    if (guard.scope === "privileged-role" && !privileged) continue;
    if (guard.optOut !== undefined && rule.optOuts.has(guard.optOut)) continue;
    if (!guard.passes(kind, claims, rule.facts)) return guard.reason;
  }
  return undefined;
}

interface Grant {
  rule: CompiledRule;
  role: string;
}

export function decide(policy: CompiledPolicy, input: DecisionInput): Decision {
  const issuer = policy.issuers.get(input.issuerId);
  if (issuer === undefined) return { allowed: false, reason: "no_matching_rule", ruleId: undefined };
  const { claims } = input;

  for (const rule of candidateRules(issuer.deny, claims)) {
    if (ruleMatches(rule, input.issuerId, claims)) return { allowed: false, reason: "explicit_deny", ruleId: rule.id };
  }

  // First rule granting each alias wins, so the audit names a stable rule. A later rule granting the same alias
  // as a different role is a conflict: refused rather than resolved by rule order (policy:check flags it too).
  const granted = new Map<string, Grant>();
  const blocked = new Map<string, { reason: GuardReason; rule: CompiledRule }>();
  let firstBlock: { reason: GuardReason; rule: CompiledRule } | undefined;
  let conflicts: Set<string> | undefined;
  for (const rule of candidateRules(issuer.allow, claims)) {
    if (!ruleMatches(rule, input.issuerId, claims)) continue;
    for (const [alias, role] of rule.grants) {
      const privileged = policy.roles.get(role)?.privileged === true;
      const reason = guardFailure(rule, issuer.kind, privileged, claims);
      if (reason !== undefined) {
        firstBlock ??= { reason, rule };
        if (!blocked.has(alias)) blocked.set(alias, { reason, rule });
        continue;
      }
      const prior = granted.get(alias);
      if (prior === undefined) granted.set(alias, { rule, role });
      else if (prior.role !== role) (conflicts ??= new Set()).add(alias);
    }
  }

  let alias: string;
  if (input.role !== undefined) {
    if (granted.has(input.role)) alias = input.role;
    else {
      const block = blocked.get(input.role);
      if (block !== undefined) return { allowed: false, reason: block.reason, ruleId: block.rule.id };
      if (granted.size > 0) return { allowed: false, reason: "role_not_granted", ruleId: undefined };
      return firstBlock !== undefined
        ? { allowed: false, reason: firstBlock.reason, ruleId: firstBlock.rule.id }
        : { allowed: false, reason: "no_matching_rule", ruleId: undefined };
    }
  } else if (granted.size === 1) {
    alias = granted.keys().next().value as string;
  } else if (granted.size > 1) {
    return { allowed: false, reason: "role_ambiguous", ruleId: undefined };
  } else {
    return firstBlock !== undefined
      ? { allowed: false, reason: firstBlock.reason, ruleId: firstBlock.rule.id }
      : { allowed: false, reason: "no_matching_rule", ruleId: undefined };
  }

  const { rule, role } = granted.get(alias) as Grant;
  if (conflicts?.has(alias) === true) return { allowed: false, reason: "role_conflict", ruleId: rule.id };
  const grant = policy.roles.get(role) as RoleGrant;
  const durationSeconds = input.durationSeconds ?? DEFAULT_SESSION_DURATION_SECONDS;
  if (durationSeconds > grant.maxDurationSeconds) return { allowed: false, reason: "duration_exceeds_role", ruleId: rule.id };
  return { allowed: true, ruleId: rule.id, alias, grant, durationSeconds, rateLimit: rule.rateLimit, requirements: rule.requirements };
}
