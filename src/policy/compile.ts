// Turns a PolicyDefinition into a CompiledPolicy, or fails naming the rule or role at fault.
// Pure; no I/O. Runs once per isolate (and in `npm test`), never per request.
import {
  DEFAULT_SESSION_DURATION_SECONDS,
  MAX_RULE_BURST,
  MAX_RULE_RATE_PER_MINUTE,
  STS_MAX_DURATION_SECONDS,
  STS_MAX_SESSION_POLICY_CHARS,
  STS_MAX_TAG_KEY_CHARS,
  STS_MAX_TAG_VALUE_CHARS,
  STS_MIN_DURATION_SECONDS,
} from "../constants.ts";
import { compilePattern, type Matcher } from "./glob.ts";
import type { GitHubMatch, PolicyDefinition, RateLimitDefinition, RoleGrant } from "./types.ts";

/** IAM role ARN: partition, empty region, 12-digit account, `role/` with an optional path. (IAM User Guide, "IAM ARNs".) */
const ROLE_ARN_PATTERN = /^arn:aws(-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f)?:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
/** STS session tag characters (AssumeRole API reference, Tag data type). */
const TAG_CHARS_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const ALIAS_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const RULE_ID_PATTERN = /^[A-Za-z0-9][\w.-]{0,127}$/;

/** Claim names a GitHub rule may match on; the type GitHubMatch lists the same keys. */
export const GITHUB_MATCH_KEYS = [
  "repository",
  "repository_owner",
  "ref",
  "ref_type",
  "event_name",
  "environment",
  "workflow_ref",
  "job_workflow_ref",
  "actor",
  "sub",
  "runner_environment",
  "repository_visibility",
] as const satisfies ReadonlyArray<keyof GitHubMatch>;

export interface CompiledCondition {
  claim: string;
  /** Any of these matches (a list in the policy means "any of"). */
  anyOf: Matcher[];
}

export interface CompiledRule {
  id: string;
  effect: "allow" | "deny";
  issuer: string;
  conditions: CompiledCondition[];
  roles: string[];
  /** Per-rule issuance limit override (allow rules only); undefined means the broker's default. */
  rateLimit: RateLimitDefinition | undefined;
}

export interface CompiledPolicy {
  /** Deny rules first (they win), then allow rules, each in declaration order. */
  denyRules: CompiledRule[];
  allowRules: CompiledRule[];
  roles: ReadonlyMap<string, RoleGrant>;
}

/** A policy mistake, pointing at the rule or role at fault. */
export class PolicyCompileError extends Error {
  readonly location: string;
  constructor(location: string, problem: string) {
    super(`${location}: ${problem}`);
    this.name = "PolicyCompileError";
    this.location = location;
  }
}

export interface CompileOptions {
  /** Issuer ids the deployment trusts; a rule naming another issuer is an error. Omit to skip the check. */
  issuerIds?: readonly string[];
}

export const DEFAULT_ISSUER_ID = "github";

function compileRole(alias: string, def: PolicyDefinition["roles"][string]): RoleGrant {
  const where = `roles.${alias}`;
  if (!ALIAS_PATTERN.test(alias)) throw new PolicyCompileError(where, "alias must match [a-z0-9][a-z0-9_-]{0,63}");
  if (typeof def.arn !== "string" || !ROLE_ARN_PATTERN.test(def.arn)) {
    throw new PolicyCompileError(where, "arn is not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)");
  }
  const maxDurationSeconds = def.maxDurationSeconds ?? DEFAULT_SESSION_DURATION_SECONDS;
  if (!Number.isInteger(maxDurationSeconds) || maxDurationSeconds < STS_MIN_DURATION_SECONDS || maxDurationSeconds > STS_MAX_DURATION_SECONDS) {
    throw new PolicyCompileError(where, `maxDurationSeconds must be an integer from ${STS_MIN_DURATION_SECONDS} to ${STS_MAX_DURATION_SECONDS}`);
  }
  let sessionPolicyJson: string | undefined;
  if (def.sessionPolicy !== undefined) {
    sessionPolicyJson = JSON.stringify(def.sessionPolicy);
    if (sessionPolicyJson.length > STS_MAX_SESSION_POLICY_CHARS) {
      throw new PolicyCompileError(where, `sessionPolicy is ${sessionPolicyJson.length} characters; STS allows ${STS_MAX_SESSION_POLICY_CHARS}`);
    }
  }
  const sessionTags: Array<readonly [string, string]> = [];
  for (const [key, value] of Object.entries(def.sessionTags ?? {})) {
    if (key.length === 0 || key.length > STS_MAX_TAG_KEY_CHARS || !TAG_CHARS_PATTERN.test(key) || /^aws:/i.test(key)) {
      throw new PolicyCompileError(`${where}.sessionTags.${key}`, "invalid session tag key");
    }
    if (typeof value !== "string" || value.length > STS_MAX_TAG_VALUE_CHARS || !TAG_CHARS_PATTERN.test(value)) {
      throw new PolicyCompileError(`${where}.sessionTags.${key}`, "invalid session tag value");
    }
    sessionTags.push([key, value]);
  }
  return { alias, arn: def.arn, maxDurationSeconds, sessionPolicyJson, sessionTags };
}

/** Validate and compile. Throws PolicyCompileError on the first mistake. */
export function compilePolicy(def: PolicyDefinition, options: CompileOptions = {}): CompiledPolicy {
  const roles = new Map<string, RoleGrant>();
  for (const [alias, role] of Object.entries(def.roles)) roles.set(alias, compileRole(alias, role));

  const denyRules: CompiledRule[] = [];
  const allowRules: CompiledRule[] = [];
  const seenIds = new Set<string>();
  const allowedKeys = new Set<string>(GITHUB_MATCH_KEYS);
  for (const [index, rule] of def.rules.entries()) {
    const where = `rules[${index}]${typeof rule.id === "string" ? ` (${rule.id})` : ""}`;
    if (typeof rule.id !== "string" || !RULE_ID_PATTERN.test(rule.id)) throw new PolicyCompileError(where, "id must match [A-Za-z0-9][\\w.-]{0,127}");
    if (seenIds.has(rule.id)) throw new PolicyCompileError(where, "duplicate rule id");
    seenIds.add(rule.id);
    const effect = rule.effect ?? "allow";
    if (effect !== "allow" && effect !== "deny") throw new PolicyCompileError(where, 'effect must be "allow" or "deny"');
    const issuer = rule.issuer ?? DEFAULT_ISSUER_ID;
    if (options.issuerIds !== undefined && !options.issuerIds.includes(issuer)) throw new PolicyCompileError(where, `issuer "${issuer}" is not configured`);

    const conditions: CompiledCondition[] = [];
    for (const [claim, patterns] of Object.entries(rule.match)) {
      if (!allowedKeys.has(claim)) throw new PolicyCompileError(`${where}.match.${claim}`, "not a claim rules can match on");
      if (patterns === undefined) continue;
      const list = typeof patterns === "string" ? [patterns] : patterns;
      if (!Array.isArray(list) || list.length === 0 || !list.every((p): p is string => typeof p === "string" && p.length > 0)) {
        throw new PolicyCompileError(`${where}.match.${claim}`, "must be a non-empty pattern or a non-empty list of them");
      }
      try {
        conditions.push({ claim, anyOf: list.map(compilePattern) });
      } catch (error) {
        throw new PolicyCompileError(`${where}.match.${claim}`, error instanceof Error ? error.message : "invalid pattern");
      }
    }
    if (conditions.length === 0) throw new PolicyCompileError(where, "a rule must match at least one claim");

    const ruleRoles = rule.roles ?? [];
    if (effect === "allow") {
      if (ruleRoles.length === 0) throw new PolicyCompileError(where, "an allow rule must grant at least one role");
      for (const alias of ruleRoles) if (!roles.has(alias)) throw new PolicyCompileError(where, `role alias "${alias}" is not defined`);
    } else if (ruleRoles.length > 0) {
      throw new PolicyCompileError(where, "a deny rule grants no roles");
    }
    let rateLimit: RateLimitDefinition | undefined;
    if (rule.rateLimit !== undefined) {
      if (effect === "deny") throw new PolicyCompileError(where, "a deny rule has no rate limit");
      const { perMinute, burst } = rule.rateLimit;
      if (!Number.isInteger(perMinute) || perMinute < 1 || perMinute > MAX_RULE_RATE_PER_MINUTE || !Number.isInteger(burst) || burst < 1 || burst > MAX_RULE_BURST) {
        throw new PolicyCompileError(`${where}.rateLimit`, `perMinute must be 1..${MAX_RULE_RATE_PER_MINUTE} and burst 1..${MAX_RULE_BURST}, integers`);
      }
      rateLimit = { perMinute, burst };
    }
    const compiled: CompiledRule = { id: rule.id, effect, issuer, conditions, roles: [...ruleRoles], rateLimit };
    (effect === "deny" ? denyRules : allowRules).push(compiled);
  }
  return { denyRules, allowRules, roles };
}
