// Turns a PolicyDefinition into a CompiledPolicy (rules indexed by issuer and by exact repository/project), or fails
// naming the rule or role at fault. Pure; no I/O. Runs once per isolate (and in `npm test`), never per request.
import { ALL_BROKER_SESSION_TAG_KEYS, isValidTagKey, isValidTagValue, MAX_BROKER_SESSION_TAGS } from "../aws/session.ts";
import {
  DEFAULT_SESSION_DURATION_SECONDS,
  MAX_RULE_BURST,
  MAX_RULE_RATE_PER_MINUTE,
  STS_MAX_DURATION_SECONDS,
  STS_MAX_EXTERNAL_ID_CHARS,
  STS_MAX_POLICY_ARNS,
  STS_MAX_SESSION_POLICY_CHARS,
  STS_MAX_SESSION_TAGS,
  STS_MIN_DURATION_SECONDS,
  STS_MIN_EXTERNAL_ID_CHARS,
} from "../constants.ts";
import { ISSUER_KINDS, type IssuerKind } from "../oidc/issuers.ts";
import { ID_PATTERN, MATCH_KEYS } from "./claim-keys.ts";
import { compilePattern, firstSegmentIsLiteral, isGlob, type Matcher } from "./glob.ts";
import { OPT_OUTS, TRUSTED_EVENTS, type GuardRuleFacts, type OptOut } from "./guards.ts";
import type { PolicyDefinition, PolicyIssuers, RateLimitDefinition, RoleDefinition, RoleGrant, RuleDefinition } from "./types.ts";

/** IAM role ARN: partition, empty region, 12-digit account, `role/` with an optional path. (IAM User Guide, "IAM ARNs".) */
const ROLE_ARN_PATTERN = /^arn:aws(-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f)?:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
/** IAM managed policy ARN: an account's own (12 digits) or AWS managed (`aws`), optional path. */
const POLICY_ARN_PATTERN = /^arn:aws(-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f)?:iam::(\d{12}|aws):policy\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/;
/** STS ExternalId characters (AssumeRole API reference). */
const EXTERNAL_ID_PATTERN = /^[\w+=,.@:/-]*$/;
const ALIAS_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const RULE_ID_PATTERN = /^[A-Za-z0-9][\w.-]{0,127}$/;
/** Same alphabet as issuer ids in the ISSUERS configuration (src/oidc/issuers.ts). */
const ISSUER_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** The most tags the broker may set for one session (claim tags and Issuer): operator tags must fit beside them. */
const MAX_BROKER_CLAIM_TAGS = MAX_BROKER_SESSION_TAGS;

const RULE_FIELDS = new Set<string>(["id", "description", "effect", "issuer", "match", "when", "roles", "rateLimit", "allowEvents", ...OPT_OUTS]);
/** An event name or pipeline source as GitHub and GitLab spell them: lower-case words joined by `_`, never a glob. */
const EVENT_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
const ROLE_FIELDS = new Set<string>(["arn", "maxDurationSeconds", "privileged", "sessionPolicy", "managedPolicyArns", "sessionTags", "transitiveTagKeys", "externalId"]);

/** The default issuer map of a policy that declares none. */
export const DEFAULT_ISSUERS: PolicyIssuers = { github: "github" };
export const DEFAULT_ISSUER_ID = "github";

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
  /** Per-rule issuance limit override (allow rules only); undefined means the broker's default. */
  rateLimit: RateLimitDefinition | undefined;
  when: ((claims: Readonly<Record<string, unknown>>) => boolean) | undefined;
  optOuts: ReadonlySet<OptOut>;
  facts: GuardRuleFacts;
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

export interface IssuerPolicy {
  id: string;
  kind: IssuerKind;
  deny: RuleSet;
  allow: RuleSet;
}

export interface CompiledPolicy {
  issuers: ReadonlyMap<string, IssuerPolicy>;
  /** Every rule in declaration order. */
  rules: readonly CompiledRule[];
  /** Deny rules, then allow rules, each in declaration order (all issuers). */
  denyRules: readonly CompiledRule[];
  allowRules: readonly CompiledRule[];
  roles: ReadonlyMap<string, RoleGrant>;
}

/** Stable codes of compile errors: `policy:check` and its tests key on them. */
export type PolicyErrorCode =
  | "policy_invalid"
  | "role_invalid"
  | "role_undefined"
  | "arn_invalid"
  | "session_policy_too_large"
  | "session_tag_invalid"
  | "issuer_undeclared"
  | "issuer_kind_mismatch"
  | "rule_invalid"
  | "pattern_invalid"
  | "rule_unscoped"
  | "pattern_too_broad"
  | "workflow_ref_glob"
  | "workflow_caller_unpinned";

/** A policy mistake, pointing at the rule or role at fault. */
export class PolicyCompileError extends Error {
  readonly location: string;
  readonly code: PolicyErrorCode;
  constructor(location: string, problem: string, code: PolicyErrorCode = "policy_invalid") {
    super(`${location}: ${problem}`);
    this.name = "PolicyCompileError";
    this.location = location;
    this.code = code;
  }
}

export interface CompileOptions {
  /**
   * The deployment's issuers (id and kind, from ISSUERS). A policy issuer configured with another kind is an error;
   * one not configured is allowed (its rules can never match). Omit to skip the cross-check (policy:check).
   */
  issuers?: ReadonlyArray<{ id: string; kind: IssuerKind }>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function compileRole(name: string, def: RoleDefinition): RoleGrant {
  const where = `roles.${name}`;
  if (!ALIAS_PATTERN.test(name)) throw new PolicyCompileError(where, "role name must match [a-z0-9][a-z0-9_-]{0,63}", "role_invalid");
  if (!isPlainObject(def)) throw new PolicyCompileError(where, "must be an object", "role_invalid");
  for (const field of Object.keys(def)) if (!ROLE_FIELDS.has(field)) throw new PolicyCompileError(`${where}.${field}`, "unknown role field", "role_invalid");
  if (typeof def.arn !== "string" || !ROLE_ARN_PATTERN.test(def.arn)) {
    throw new PolicyCompileError(where, "arn is not an IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>)", "arn_invalid");
  }
  const maxDurationSeconds = def.maxDurationSeconds ?? DEFAULT_SESSION_DURATION_SECONDS;
  if (!Number.isInteger(maxDurationSeconds) || maxDurationSeconds < STS_MIN_DURATION_SECONDS || maxDurationSeconds > STS_MAX_DURATION_SECONDS) {
    throw new PolicyCompileError(where, `maxDurationSeconds must be an integer from ${STS_MIN_DURATION_SECONDS} to ${STS_MAX_DURATION_SECONDS}`, "role_invalid");
  }
  if (def.privileged !== undefined && typeof def.privileged !== "boolean") throw new PolicyCompileError(`${where}.privileged`, "must be a boolean", "role_invalid");

  let sessionPolicyJson: string | undefined;
  if (def.sessionPolicy !== undefined) {
    if (!isPlainObject(def.sessionPolicy)) throw new PolicyCompileError(`${where}.sessionPolicy`, "must be an IAM policy document (an object)", "role_invalid");
    sessionPolicyJson = JSON.stringify(def.sessionPolicy);
    if (sessionPolicyJson.length > STS_MAX_SESSION_POLICY_CHARS) {
      throw new PolicyCompileError(
        `${where}.sessionPolicy`,
        `sessionPolicy is ${sessionPolicyJson.length} characters; STS allows ${STS_MAX_SESSION_POLICY_CHARS}`,
        "session_policy_too_large",
      );
    }
  }

  const policyArns = def.managedPolicyArns ?? [];
  if (!Array.isArray(policyArns) || policyArns.length > STS_MAX_POLICY_ARNS) {
    throw new PolicyCompileError(`${where}.managedPolicyArns`, `must be a list of at most ${STS_MAX_POLICY_ARNS} policy ARNs`, "arn_invalid");
  }
  for (const [index, arn] of policyArns.entries()) {
    if (typeof arn !== "string" || !POLICY_ARN_PATTERN.test(arn)) {
      throw new PolicyCompileError(`${where}.managedPolicyArns[${index}]`, "is not an IAM policy ARN (arn:<partition>:iam::<12 digits|aws>:policy/<name>)", "arn_invalid");
    }
    if (policyArns.indexOf(arn) !== index) throw new PolicyCompileError(`${where}.managedPolicyArns[${index}]`, "duplicate policy ARN", "arn_invalid");
  }

  const sessionTags: Array<readonly [string, string]> = [];
  const brokerKeys = new Set(ALL_BROKER_SESSION_TAG_KEYS.map((key) => key.toLowerCase()));
  const seenKeys = new Map<string, string>();
  for (const [key, value] of Object.entries(def.sessionTags ?? {})) {
    const at = `${where}.sessionTags.${key}`;
    if (!isValidTagKey(key)) {
      throw new PolicyCompileError(at, "invalid session tag key", "session_tag_invalid");
    }
    // STS tag keys are case-insensitive: `Team` and `team` are one key, and the broker's keys are taken.
    if (brokerKeys.has(key.toLowerCase())) throw new PolicyCompileError(at, "the broker sets this tag from the token's claims", "session_tag_invalid");
    if (seenKeys.has(key.toLowerCase())) throw new PolicyCompileError(at, "duplicate session tag key (STS keys are case-insensitive)", "session_tag_invalid");
    if (typeof value !== "string" || !isValidTagValue(value)) {
      throw new PolicyCompileError(at, "invalid session tag value", "session_tag_invalid");
    }
    seenKeys.set(key.toLowerCase(), key);
    sessionTags.push([key, value]);
  }
  if (sessionTags.length + MAX_BROKER_CLAIM_TAGS > STS_MAX_SESSION_TAGS) {
    throw new PolicyCompileError(`${where}.sessionTags`, `at most ${STS_MAX_SESSION_TAGS - MAX_BROKER_CLAIM_TAGS} operator tags fit beside the broker's`, "session_tag_invalid");
  }

  const transitiveTagKeys: string[] = [];
  for (const key of def.transitiveTagKeys ?? []) {
    const declared = typeof key === "string" ? seenKeys.get(key.toLowerCase()) : undefined;
    if (declared === undefined) {
      throw new PolicyCompileError(`${where}.transitiveTagKeys`, `"${String(key)}" is not one of this role's sessionTags (the broker's own tags are always transitive)`, "session_tag_invalid");
    }
    if (!transitiveTagKeys.includes(declared)) transitiveTagKeys.push(declared);
  }

  if (def.externalId !== undefined) {
    const id = def.externalId;
    if (typeof id !== "string" || id.length < STS_MIN_EXTERNAL_ID_CHARS || id.length > STS_MAX_EXTERNAL_ID_CHARS || !EXTERNAL_ID_PATTERN.test(id)) {
      throw new PolicyCompileError(`${where}.externalId`, `must be ${STS_MIN_EXTERNAL_ID_CHARS}..${STS_MAX_EXTERNAL_ID_CHARS} characters of [\\w+=,.@:/-]`, "role_invalid");
    }
  }

  return {
    alias: name,
    arn: def.arn,
    maxDurationSeconds,
    sessionPolicyJson,
    sessionTags,
    privileged: def.privileged === true,
    policyArns: [...policyArns],
    transitiveTagKeys,
    externalId: def.externalId,
  };
}

function compileIssuers(declared: PolicyIssuers | undefined, options: CompileOptions): Map<string, IssuerKind> {
  const issuers = new Map<string, IssuerKind>();
  const source = declared ?? DEFAULT_ISSUERS;
  if (!isPlainObject(source)) throw new PolicyCompileError("issuers", "must map issuer ids to kinds", "policy_invalid");
  for (const [id, kind] of Object.entries(source)) {
    if (!ISSUER_ID_PATTERN.test(id)) throw new PolicyCompileError(`issuers.${id}`, "issuer id must match [a-z0-9][a-z0-9_-]{0,31}", "policy_invalid");
    if (!(ISSUER_KINDS as readonly string[]).includes(kind)) throw new PolicyCompileError(`issuers.${id}`, `kind must be one of ${ISSUER_KINDS.join(", ")}`, "policy_invalid");
    const configured = options.issuers?.find((issuer) => issuer.id === id);
    if (configured !== undefined && configured.kind !== kind) {
      throw new PolicyCompileError(`issuers.${id}`, `the policy says kind "${kind}", ISSUERS configures "${configured.kind}"`, "issuer_kind_mismatch");
    }
    issuers.set(id, kind);
  }
  return issuers;
}

function compileConditions(where: string, kind: IssuerKind, match: unknown, effect: "allow" | "deny"): CompiledCondition[] {
  if (!isPlainObject(match)) throw new PolicyCompileError(`${where}.match`, "must be an object of claim -> pattern(s)", "rule_invalid");
  const keys = MATCH_KEYS[kind];
  const conditions: CompiledCondition[] = [];
  for (const [claim, value] of Object.entries(match)) {
    const at = `${where}.match.${claim}`;
    if (!keys.all.includes(claim)) throw new PolicyCompileError(at, `not a claim ${kind} rules can match on`, "rule_invalid");
    if (value === undefined) continue;
    const list: unknown[] = typeof value === "string" ? [value] : Array.isArray(value) ? value : [];
    if (list.length === 0 || !list.every((p): p is string => typeof p === "string" && p.length > 0)) {
      throw new PolicyCompileError(at, "must be a non-empty pattern or a non-empty list of them", "pattern_invalid");
    }
    if (keys.ids.includes(claim) && !list.every((p) => ID_PATTERN.test(p))) {
      throw new PolicyCompileError(at, "ids are exact strings of decimal digits, never globs", "pattern_invalid");
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
        throw new PolicyCompileError(at, error instanceof Error ? error.message : "invalid pattern", "pattern_invalid");
      }
    }
    conditions.push({ claim, patterns, exact, globs, foldCase });
  }
  if (conditions.length === 0) throw new PolicyCompileError(where, "a rule must match at least one claim", "rule_invalid");
  return conditions;
}

/** Allow rules must say whose code they trust, with the owner fixed literally (see KindKeys.scope). */
function checkScope(where: string, kind: IssuerKind, conditions: readonly CompiledCondition[]): void {
  const keys = MATCH_KEYS[kind];
  if (!conditions.some((condition) => keys.scope.includes(condition.claim))) {
    throw new PolicyCompileError(where, `an allow rule must match one of ${keys.scope.join(", ")}: without one it trusts every repository of every owner`, "rule_unscoped");
  }
  for (const condition of conditions) {
    if (!keys.ownerFixed.includes(condition.claim)) continue;
    const broad = condition.patterns.find((pattern) => !firstSegmentIsLiteral(pattern));
    if (broad !== undefined) {
      throw new PolicyCompileError(
        `${where}.match.${condition.claim}`,
        `pattern "${broad}" does not fix the owner: it matches repositories anyone can create; name the owner literally or use ids`,
        "pattern_too_broad",
      );
    }
  }
}

function compileGrants(where: string, roles: RuleDefinition["roles"], defined: ReadonlyMap<string, RoleGrant>): Map<string, string> {
  const grants = new Map<string, string>();
  const entries: Array<[string, unknown]> = Array.isArray(roles)
    ? (roles as unknown[]).map((name) => [String(name), name])
    : isPlainObject(roles)
      ? Object.entries(roles)
      : [];
  if (entries.length === 0) throw new PolicyCompileError(where, "an allow rule must grant at least one role", "rule_invalid");
  for (const [alias, role] of entries) {
    if (typeof role !== "string" || !defined.has(role)) throw new PolicyCompileError(where, `role "${String(role)}" is not defined in roles`, "role_undefined");
    if (!ALIAS_PATTERN.test(alias)) throw new PolicyCompileError(where, `alias "${alias}" must match [a-z0-9][a-z0-9_-]{0,63}`, "rule_invalid");
    if (grants.has(alias)) throw new PolicyCompileError(where, `alias "${alias}" granted twice`, "rule_invalid");
    grants.set(alias, role);
  }
  return grants;
}

/**
 * `allowEvents`: the events beyond TRUSTED_EVENTS a rule's privileged grants may be made for, each named exactly (no
 * globs, no "all"): widening is a visible, reviewable line per event, and `policy:check` reports it.
 */
function compileAllowEvents(where: string, kind: IssuerKind, value: unknown, effect: "allow" | "deny"): ReadonlySet<string> {
  const events = new Set<string>();
  if (value === undefined) return events;
  const at = `${where}.allowEvents`;
  if (effect === "deny") throw new PolicyCompileError(at, "guards do not apply to deny rules", "rule_invalid");
  if (!Array.isArray(value) || value.length === 0) throw new PolicyCompileError(at, "must be a non-empty list of event names", "rule_invalid");
  for (const event of value as unknown[]) {
    if (typeof event !== "string" || !EVENT_NAME_PATTERN.test(event)) {
      throw new PolicyCompileError(at, `"${String(event)}" is not an event name (exact lower-case names only, no globs)`, "rule_invalid");
    }
    if (TRUSTED_EVENTS[kind].has(event)) throw new PolicyCompileError(at, `"${event}" is trusted already: list only the events that widen the default`, "rule_invalid");
    events.add(event);
  }
  return events;
}

function compileRule(index: number, rule: RuleDefinition, issuers: ReadonlyMap<string, IssuerKind>, roles: ReadonlyMap<string, RoleGrant>, seenIds: Set<string>): CompiledRule {
  const label = isPlainObject(rule) && typeof rule.id === "string" ? ` (${rule.id})` : "";
  const where = `rules[${index}]${label}`;
  if (!isPlainObject(rule)) throw new PolicyCompileError(where, "must be an object", "rule_invalid");
  for (const field of Object.keys(rule)) if (!RULE_FIELDS.has(field)) throw new PolicyCompileError(`${where}.${field}`, "unknown rule field", "rule_invalid");
  if (typeof rule.id !== "string" || !RULE_ID_PATTERN.test(rule.id)) throw new PolicyCompileError(where, "id must match [A-Za-z0-9][\\w.-]{0,127}", "rule_invalid");
  if (seenIds.has(rule.id)) throw new PolicyCompileError(where, "duplicate rule id", "rule_invalid");
  seenIds.add(rule.id);
  if (rule.description !== undefined && typeof rule.description !== "string") throw new PolicyCompileError(`${where}.description`, "must be a string", "rule_invalid");
  const effect = rule.effect ?? "allow";
  if (effect !== "allow" && effect !== "deny") throw new PolicyCompileError(where, 'effect must be "allow" or "deny"', "rule_invalid");
  const issuer = rule.issuer ?? DEFAULT_ISSUER_ID;
  const kind = typeof issuer === "string" ? issuers.get(issuer) : undefined;
  if (kind === undefined) throw new PolicyCompileError(where, `issuer "${String(issuer)}" is not declared in the policy's issuers`, "issuer_undeclared");
  if (rule.when !== undefined && typeof rule.when !== "function") throw new PolicyCompileError(`${where}.when`, "must be a function (claims) => boolean", "rule_invalid");

  const optOuts = new Set<OptOut>();
  for (const optOut of OPT_OUTS) {
    const value = (rule as unknown as Record<string, unknown>)[optOut];
    if (value === undefined) continue;
    if (value !== true) throw new PolicyCompileError(`${where}.${optOut}`, "an opt-out is `true` or absent", "rule_invalid");
    if (effect === "deny") throw new PolicyCompileError(`${where}.${optOut}`, "guards do not apply to deny rules", "rule_invalid");
    optOuts.add(optOut);
  }

  const extraEvents = compileAllowEvents(where, kind, rule.allowEvents, effect);
  const conditions = compileConditions(where, kind, rule.match, effect === "deny" ? "deny" : "allow");
  let grants = new Map<string, string>();
  let rateLimit: RateLimitDefinition | undefined;
  if (effect === "allow") {
    grants = compileGrants(where, rule.roles, roles);
    checkScope(where, kind, conditions);
    const workflow = conditions.find((condition) => condition.claim === "job_workflow_ref");
    if (workflow !== undefined) {
      // A public reusable workflow can be called by any repository: pin it exactly and pin who may call it.
      if (workflow.globs.length > 0) throw new PolicyCompileError(`${where}.match.job_workflow_ref`, "pin reusable workflows exactly (owner/repo/.github/workflows/x.yml@ref), no globs", "workflow_ref_glob");
      if (!optOuts.has("allowAnyWorkflowCaller") && !conditions.some((condition) => condition.claim === "repository_owner_id")) {
        throw new PolicyCompileError(where, "a rule pinning job_workflow_ref must also pin the caller's repository_owner_id (or opt out: allowAnyWorkflowCaller)", "workflow_caller_unpinned");
      }
    }
    if (rule.rateLimit !== undefined) {
      const { perMinute, burst } = rule.rateLimit;
      if (!Number.isInteger(perMinute) || perMinute < 1 || perMinute > MAX_RULE_RATE_PER_MINUTE || !Number.isInteger(burst) || burst < 1 || burst > MAX_RULE_BURST) {
        throw new PolicyCompileError(`${where}.rateLimit`, `perMinute must be 1..${MAX_RULE_RATE_PER_MINUTE} and burst 1..${MAX_RULE_BURST}, integers`, "rule_invalid");
      }
      rateLimit = { perMinute, burst };
    }
  } else {
    if (rule.roles !== undefined) throw new PolicyCompileError(where, "a deny rule grants no roles", "rule_invalid");
    if (rule.rateLimit !== undefined) throw new PolicyCompileError(where, "a deny rule has no rate limit", "rule_invalid");
  }

  const when = rule.when as ((claims: Readonly<Record<string, unknown>>) => boolean) | undefined;
  return {
    id: rule.id,
    index,
    description: rule.description,
    effect,
    issuer,
    kind,
    conditions,
    roles: [...grants.keys()],
    grants,
    rateLimit,
    when,
    optOuts,
    // Only exact names count as "the operator named this environment": GitHub creates any environment a workflow
    // mentions, unprotected, so `prod*` or `*` would let an unprotected branch through the privileged-ref guard.
    facts: { namesEnvironment: conditions.some((condition) => condition.claim === "environment" && condition.globs.length === 0), extraEvents },
  };
}

function addTo(index: Map<string, Map<string, CompiledRule[]>>, claim: string, keys: Iterable<string>, rule: CompiledRule): void {
  let values = index.get(claim);
  if (values === undefined) index.set(claim, (values = new Map()));
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
function indexRules(kind: IssuerKind, rules: readonly CompiledRule[]): RuleSet {
  const byClaim = new Map<string, Map<string, CompiledRule[]>>();
  const bySegment = new Map<string, Map<string, CompiledRule[]>>();
  const scan: CompiledRule[] = [];
  for (const rule of rules) {
    // Case-folded conditions cannot be looked up by the token's raw value: such rules are found by another claim or scanned.
    const conditions = MATCH_KEYS[kind].index.flatMap((claim) => rule.conditions.filter((condition) => condition.claim === claim && !condition.foldCase));
    const exact = conditions.find((condition) => condition.globs.length === 0);
    if (exact !== undefined) {
      addTo(byClaim, exact.claim, exact.exact, rule);
      continue;
    }
    const segmented = conditions.find((condition) => condition.globs.every((glob) => glob.source.includes("/") && firstSegmentIsLiteral(glob.source)));
    if (segmented !== undefined) {
      addTo(bySegment, segmented.claim, segmented.patterns.map(firstSegment), rule);
      continue;
    }
    scan.push(rule);
  }
  const list = (index: Map<string, Map<string, CompiledRule[]>>) => [...index].map(([claim, values]) => ({ claim, values }));
  return { byClaim: list(byClaim), bySegment: list(bySegment), scan, size: rules.length };
}

/** Validate and compile. Throws PolicyCompileError on the first mistake. */
export function compilePolicy(def: PolicyDefinition, options: CompileOptions = {}): CompiledPolicy {
  if (!isPlainObject(def)) throw new PolicyCompileError("policy", "must be an object with roles and rules", "policy_invalid");
  const issuers = compileIssuers(def.issuers, options);
  const roles = new Map<string, RoleGrant>();
  if (!isPlainObject(def.roles)) throw new PolicyCompileError("roles", "must map role names to role definitions", "policy_invalid");
  for (const [name, role] of Object.entries(def.roles)) roles.set(name, compileRole(name, role));
  if (!Array.isArray(def.rules)) throw new PolicyCompileError("rules", "must be a list", "policy_invalid");

  const seenIds = new Set<string>();
  const rules = def.rules.map((rule, index) => compileRule(index, rule as RuleDefinition, issuers, roles, seenIds));
  const perIssuer = new Map<string, IssuerPolicy>();
  for (const [id, kind] of issuers) {
    const mine = rules.filter((rule) => rule.issuer === id);
    perIssuer.set(id, {
      id,
      kind,
      deny: indexRules(kind, mine.filter((rule) => rule.effect === "deny")),
      allow: indexRules(kind, mine.filter((rule) => rule.effect === "allow")),
    });
  }
  return {
    issuers: perIssuer,
    rules,
    denyRules: rules.filter((rule) => rule.effect === "deny"),
    allowRules: rules.filter((rule) => rule.effect === "allow"),
    roles,
  };
}
