// The policy decision: verified claims + request (a role, or a GitHub token grant by name) -> allow with what is
// granted, or deny with a reason.
// Pure; no I/O; no clock. Default deny; an explicit deny rule wins over every allow; guards hold every allow.
import { DEFAULT_SESSION_DURATION_SECONDS } from "../aws/constants.ts";
import type { IssuerKind } from "../platforms/index.ts";
import type { RoleGrant } from "../aws/session.ts";
import type { CompiledPolicy } from "./compile.ts";
import type { GithubTokenGrant } from "./github-tokens.ts";
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
  /** GitHub token grants: the named grant is not among those the matching rules grant (an unknown name included). */
  | "grant_not_granted"
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
export function guardFailure(
  rule: CompiledRule,
  kind: IssuerKind,
  privileged: boolean,
  claims: Readonly<Record<string, unknown>>,
): GuardReason | undefined {
  for (const guard of GUARDS) {
    if (guard.scope === "privileged-role" && !privileged) continue;
    if (guard.optOut !== undefined && rule.optOuts.has(guard.optOut)) continue;
    if (!guard.passes(kind, claims, rule.facts)) return guard.reason;
  }
  return undefined;
}

/** What the matching allow rules grant of one kind (roles or GitHub tokens), with what the guards blocked. */
interface Collected {
  /** Name (role alias, grant name) -> the first rule granting it, and what it names (role, grant). */
  granted: Map<string, { rule: CompiledRule; target: string }>;
  /** Name -> the first guard that blocked it, and where. */
  blocked: Map<string, { reason: GuardReason; rule: CompiledRule }>;
  firstBlock: { reason: GuardReason; rule: CompiledRule } | undefined;
  /** Names later rules grant as a different target (roles only: grants have no aliases). */
  conflicts: Set<string> | undefined;
}

/**
 * The deny rule that matched, or what the allow rules grant of one kind. First rule granting each name wins, so the
 * audit names a stable rule; a later rule granting the same name as another target is a conflict, refused rather
 * than resolved by rule order (policy:check flags it too).
 */
function collect(
  policy: CompiledPolicy,
  issuerId: string,
  claims: Readonly<Record<string, unknown>>,
  grantsOf: (rule: CompiledRule) => Iterable<readonly [string, string]>,
  privileged: (target: string) => boolean,
): Collected | { deniedBy: CompiledRule } | undefined {
  const issuer = policy.issuers.get(issuerId);
  if (issuer === undefined) return undefined;
  for (const rule of candidateRules(issuer.deny, claims)) {
    if (ruleMatches(rule, issuerId, claims)) return { deniedBy: rule };
  }
  const collected: Collected = { granted: new Map(), blocked: new Map(), firstBlock: undefined, conflicts: undefined };
  for (const rule of candidateRules(issuer.allow, claims)) {
    if (!ruleMatches(rule, issuerId, claims)) continue;
    for (const [name, target] of grantsOf(rule)) {
      const reason = guardFailure(rule, issuer.kind, privileged(target), claims);
      if (reason !== undefined) {
        collected.firstBlock ??= { reason, rule };
        if (!collected.blocked.has(name)) collected.blocked.set(name, { reason, rule });
        continue;
      }
      const prior = collected.granted.get(name);
      if (prior === undefined) collected.granted.set(name, { rule, target });
      else if (prior.target !== target) {
        collected.conflicts ??= new Set();
        collected.conflicts.add(name);
      }
    }
  }
  return collected;
}

type Refusal = { allowed: false; reason: DenyReason; ruleId: string | undefined };

/** Why nothing was granted: the first guard that blocked a matching rule, or no rule at all. */
function nothingGranted(collected: Collected): Refusal {
  const block = collected.firstBlock;
  return block !== undefined
    ? { allowed: false, reason: block.reason, ruleId: block.rule.id }
    : { allowed: false, reason: "no_matching_rule", ruleId: undefined };
}

/**
 * A name the caller asked for was not granted: its own guard block, else `notGranted` when other names were, else why
 * nothing was.
 */
function notGranted(collected: Collected, name: string, notGrantedReason: DenyReason): Refusal {
  const block = collected.blocked.get(name);
  if (block !== undefined) return { allowed: false, reason: block.reason, ruleId: block.rule.id };
  if (collected.granted.size > 0) return { allowed: false, reason: notGrantedReason, ruleId: undefined };
  return nothingGranted(collected);
}

const roleGrants = (rule: CompiledRule) => rule.grants;

export function decide(policy: CompiledPolicy, input: DecisionInput): Decision {
  const collected = collect(
    policy,
    input.issuerId,
    input.claims,
    roleGrants,
    (role) => policy.roles.get(role)?.privileged === true,
  );
  if (collected === undefined) return { allowed: false, reason: "no_matching_rule", ruleId: undefined };
  if ("deniedBy" in collected) return { allowed: false, reason: "explicit_deny", ruleId: collected.deniedBy.id };

  let alias: string;
  if (input.role !== undefined) {
    if (!collected.granted.has(input.role)) return notGranted(collected, input.role, "role_not_granted");
    alias = input.role;
  } else if (collected.granted.size === 1) {
    alias = collected.granted.keys().next().value as string;
  } else if (collected.granted.size > 1) {
    return { allowed: false, reason: "role_ambiguous", ruleId: undefined };
  } else {
    return nothingGranted(collected);
  }

  const { rule, target: role } = collected.granted.get(alias) as { rule: CompiledRule; target: string };
  if (collected.conflicts?.has(alias) === true) return { allowed: false, reason: "role_conflict", ruleId: rule.id };
  const grant = policy.roles.get(role) as RoleGrant;
  const durationSeconds = input.durationSeconds ?? DEFAULT_SESSION_DURATION_SECONDS;
  if (durationSeconds > grant.maxDurationSeconds)
    return { allowed: false, reason: "duration_exceeds_role", ruleId: rule.id };
  return {
    allowed: true,
    ruleId: rule.id,
    alias,
    grant,
    durationSeconds,
    rateLimit: rule.rateLimit,
    requirements: rule.requirements,
  };
}

/** A request for a GitHub token grant (`POST /v1/github-token`): the grant is named, never inferred. */
export interface GithubTokenDecisionInput {
  /** Id of the issuer that signed the token (from ISSUERS). */
  issuerId: string;
  /** Verified, schema-checked claims. */
  claims: Readonly<Record<string, unknown>>;
  /** Name of the grant the caller asked for (any string: an unknown one is simply not granted). */
  githubToken: string;
}

export type GithubTokenDecision =
  | {
      allowed: true;
      ruleId: string;
      /** The grant: owner, repositories and permissions to request the token with, exactly. */
      grant: GithubTokenGrant;
      rateLimit: RateLimitDefinition | undefined;
      /** GitHub facts still to check before the token is minted (the exchange's context stage). */
      requirements?: CompiledRequirements | undefined;
    }
  | Refusal;

const tokenGrants = (rule: CompiledRule) => rule.githubTokens.map((name) => [name, name] as const);

/**
 * The decision for a GitHub token grant, as `decide` is for roles: default deny, deny rules first, guards on every
 * matching rule (the privileged ones when the grant has any write). Pure; no I/O; no clock.
 */
export function decideGithubToken(policy: CompiledPolicy, input: GithubTokenDecisionInput): GithubTokenDecision {
  const collected = collect(
    policy,
    input.issuerId,
    input.claims,
    tokenGrants,
    (name) => policy.githubTokens.get(name)?.privileged === true,
  );
  if (collected === undefined) return { allowed: false, reason: "no_matching_rule", ruleId: undefined };
  if ("deniedBy" in collected) return { allowed: false, reason: "explicit_deny", ruleId: collected.deniedBy.id };
  const hit = collected.granted.get(input.githubToken);
  if (hit === undefined) return notGranted(collected, input.githubToken, "grant_not_granted");
  const grant = policy.githubTokens.get(hit.target) as GithubTokenGrant;
  return {
    allowed: true,
    ruleId: hit.rule.id,
    grant,
    rateLimit: hit.rule.rateLimit,
    requirements: hit.rule.requirements,
  };
}
