// The policy decision: verified claims + request -> allow with a grant, or deny with a reason.
// Pure; no I/O; no clock. Default deny; an explicit deny rule wins over every allow.
import { DEFAULT_SESSION_DURATION_SECONDS } from "../constants.ts";
import type { CompiledPolicy, CompiledRule } from "./compile.ts";
import type { RateLimitDefinition, RoleGrant } from "./types.ts";

/** Internal denial reasons (logged and audited, never sent to the caller). */
export type DenyReason = "explicit_deny" | "no_matching_rule" | "role_not_granted" | "role_ambiguous" | "duration_exceeds_role";

export type Decision =
  | { allowed: true; ruleId: string; grant: RoleGrant; durationSeconds: number; rateLimit: RateLimitDefinition | undefined }
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

/** True when every condition of the rule holds. Claims are read as own properties only; non-strings never match. */
export function ruleMatches(rule: CompiledRule, issuerId: string, claims: Readonly<Record<string, unknown>>): boolean {
  if (rule.issuer !== issuerId) return false;
  return rule.conditions.every((condition) => {
    if (!Object.hasOwn(claims, condition.claim)) return false;
    const value = claims[condition.claim];
    return typeof value === "string" && condition.anyOf.some((matcher) => matcher.test(value));
  });
}

export function decide(policy: CompiledPolicy, input: DecisionInput): Decision {
  for (const rule of policy.denyRules) {
    if (ruleMatches(rule, input.issuerId, input.claims)) return { allowed: false, reason: "explicit_deny", ruleId: rule.id };
  }
  // First rule granting each alias wins, so the audit names a stable rule.
  const granted = new Map<string, CompiledRule>();
  for (const rule of policy.allowRules) {
    if (!ruleMatches(rule, input.issuerId, input.claims)) continue;
    for (const alias of rule.roles) if (!granted.has(alias)) granted.set(alias, rule);
  }
  if (granted.size === 0) return { allowed: false, reason: "no_matching_rule", ruleId: undefined };

  let alias: string;
  if (input.role !== undefined) {
    if (!granted.has(input.role)) return { allowed: false, reason: "role_not_granted", ruleId: undefined };
    alias = input.role;
  } else {
    if (granted.size !== 1) return { allowed: false, reason: "role_ambiguous", ruleId: undefined };
    alias = [...granted.keys()][0] as string;
  }
  const rule = granted.get(alias) as CompiledRule;
  const grant = policy.roles.get(alias) as RoleGrant;
  const durationSeconds = input.durationSeconds ?? DEFAULT_SESSION_DURATION_SECONDS;
  if (durationSeconds > grant.maxDurationSeconds) return { allowed: false, reason: "duration_exceeds_role", ruleId: rule.id };
  return { allowed: true, ruleId: rule.id, grant, durationSeconds, rateLimit: rule.rateLimit };
}
