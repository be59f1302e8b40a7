// Turns a PolicyDefinition into a CompiledPolicy (rules indexed by issuer and by exact repository/project), or fails
// naming the rule or role at fault. Pure; no I/O. Runs once per isolate (and in `npm test`), never per request.
import type { RoleGrant } from "../aws/session.ts";
import { MAX_RULE_BURST, MAX_RULE_RATE_PER_MINUTE } from "./constants.ts";
import { ISSUER_KINDS, type IssuerKind } from "../oidc/issuers.ts";
import { ID_PATTERN, MATCH_KEYS } from "./claim-keys.ts";
import { fail, isPlainObject } from "./compile-error.ts";
import { compilePattern, firstSegmentIsLiteral, isGlob, type Matcher } from "./glob.ts";
import { compileGithubToken, compileGithubTokenNames, type GithubTokenGrant } from "./github-tokens.ts";
import { OPT_OUTS, TRUSTED_EVENTS, type OptOut } from "./guards.ts";
import { compileRequirements } from "./requirements-compile.ts";
import { ALIAS_PATTERN, compileRole } from "./roles.ts";
import { indexRules, type CompiledCondition, type CompiledRule, type RuleSet } from "./rule-index.ts";
import type { PolicyDefinition, PolicyIssuers, RateLimitDefinition, RuleDefinition } from "./types.ts";

export { PolicyCompileError, type PolicyErrorCode } from "./compile-error.ts";

const RULE_ID_PATTERN = /^[A-Za-z0-9][\w.-]{0,127}$/;
/** Same alphabet as issuer ids in the ISSUERS configuration (src/oidc/issuers.ts). */
const ISSUER_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;

const RULE_FIELDS = new Set<string>([
  "id",
  "description",
  "effect",
  "issuer",
  "match",
  "when",
  "roles",
  "githubTokens",
  "rateLimit",
  "require",
  "allowEvents",
  ...OPT_OUTS,
]);
/** An event name or pipeline source as GitHub and GitLab spell them: lower-case words joined by `_`, never a glob. */
const EVENT_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

/** The default issuer map of a policy that declares none. */
export const DEFAULT_ISSUERS: PolicyIssuers = { github: "github" };
export const DEFAULT_ISSUER_ID = "github";

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
  /** GitHub token grants by name (docs/github-tokens.md). */
  githubTokens: ReadonlyMap<string, GithubTokenGrant>;
}

export interface CompileOptions {
  /**
   * The deployment's issuers (id and kind, from ISSUERS). A policy issuer configured with another kind is an error;
   * one not configured is allowed (its rules can never match). Omit to skip the cross-check (policy:check).
   */
  issuers?: ReadonlyArray<{ id: string; kind: IssuerKind }>;
  /**
   * The deployment's STS_AUTH. With "web-identity" a role with `externalId` is an error: AssumeRoleWithWebIdentity
   * has no ExternalId parameter, so the operator's condition could not be honoured. Omit to skip (sigv4).
   */
  stsAuth?: "sigv4" | "web-identity";
}

function compileIssuers(declared: PolicyIssuers | undefined, options: CompileOptions): Map<string, IssuerKind> {
  const issuers = new Map<string, IssuerKind>();
  const source = declared ?? DEFAULT_ISSUERS;
  if (!isPlainObject(source)) fail("issuers", "must map issuer ids to kinds", "policy_invalid");
  for (const [id, kind] of Object.entries(source)) {
    if (!ISSUER_ID_PATTERN.test(id))
      fail(`issuers.${id}`, "issuer id must match [a-z0-9][a-z0-9_-]{0,31}", "policy_invalid");
    if (!(ISSUER_KINDS as readonly string[]).includes(kind))
      fail(`issuers.${id}`, `kind must be one of ${ISSUER_KINDS.join(", ")}`, "policy_invalid");
    const configured = options.issuers?.find((issuer) => issuer.id === id);
    if (configured !== undefined && configured.kind !== kind) {
      fail(
        `issuers.${id}`,
        `the policy says kind "${kind}", ISSUERS configures "${configured.kind}"`,
        "issuer_kind_mismatch",
      );
    }
    issuers.set(id, kind);
  }
  return issuers;
}

function compileConditions(
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
function checkScope(where: string, kind: IssuerKind, conditions: readonly CompiledCondition[]): void {
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

function compileGrants(
  where: string,
  roles: RuleDefinition["roles"],
  defined: ReadonlyMap<string, RoleGrant>,
): Map<string, string> {
  const grants = new Map<string, string>();
  if (roles === undefined) return grants;
  const entries: Array<[string, unknown]> = Array.isArray(roles)
    ? (roles as unknown[]).map((name) => [String(name), name])
    : isPlainObject(roles)
      ? Object.entries(roles)
      : [];
  if (entries.length === 0)
    fail(where, "roles must name at least one role (leave it out for a rule granting GitHub tokens only)");
  for (const [alias, role] of entries) {
    if (typeof role !== "string" || !defined.has(role))
      fail(where, `role "${String(role)}" is not defined in roles`, "role_undefined");
    if (!ALIAS_PATTERN.test(alias)) fail(where, `alias "${alias}" must match [a-z0-9][a-z0-9_-]{0,63}`);
    if (grants.has(alias)) fail(where, `alias "${alias}" granted twice`);
    grants.set(alias, role);
  }
  return grants;
}

/**
 * `allowEvents`: the events beyond TRUSTED_EVENTS a rule's privileged grants may be made for, each named exactly (no
 * globs, no "all"): widening is a visible, reviewable line per event, and `policy:check` reports it.
 */
function compileAllowEvents(
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

interface Defined {
  roles: ReadonlyMap<string, RoleGrant>;
  githubTokens: ReadonlyMap<string, GithubTokenGrant>;
}

function compileRule(
  index: number,
  rule: RuleDefinition,
  issuers: ReadonlyMap<string, IssuerKind>,
  defined: Defined,
  seenIds: Set<string>,
): CompiledRule {
  const label = isPlainObject(rule) && typeof rule.id === "string" ? ` (${rule.id})` : "";
  const where = `rules[${index}]${label}`;
  if (!isPlainObject(rule)) fail(where, "must be an object");
  for (const field of Object.keys(rule)) if (!RULE_FIELDS.has(field)) fail(`${where}.${field}`, "unknown rule field");
  if (typeof rule.id !== "string" || !RULE_ID_PATTERN.test(rule.id))
    fail(where, "id must match [A-Za-z0-9][\\w.-]{0,127}");
  if (seenIds.has(rule.id)) fail(where, "duplicate rule id");
  seenIds.add(rule.id);
  if (rule.description !== undefined && typeof rule.description !== "string")
    fail(`${where}.description`, "must be a string");
  const effect = rule.effect ?? "allow";
  if (effect !== "allow" && effect !== "deny") fail(where, 'effect must be "allow" or "deny"');
  const issuer = rule.issuer ?? DEFAULT_ISSUER_ID;
  const kind = typeof issuer === "string" ? issuers.get(issuer) : undefined;
  if (kind === undefined)
    fail(where, `issuer "${String(issuer)}" is not declared in the policy's issuers`, "issuer_undeclared");
  if (rule.when !== undefined && typeof rule.when !== "function")
    fail(`${where}.when`, "must be a function (claims) => boolean");

  const optOuts = new Set<OptOut>();
  for (const optOut of OPT_OUTS) {
    const value = (rule as unknown as Record<string, unknown>)[optOut];
    if (value === undefined) continue;
    if (value !== true) fail(`${where}.${optOut}`, "an opt-out is `true` or absent");
    if (effect === "deny") fail(`${where}.${optOut}`, "guards do not apply to deny rules");
    optOuts.add(optOut);
  }

  const extraEvents = compileAllowEvents(where, kind, rule.allowEvents, effect);
  const conditions = compileConditions(where, kind, rule.match, effect === "deny" ? "deny" : "allow");
  let grants = new Map<string, string>();
  let githubTokens: string[] = [];
  let rateLimit: RateLimitDefinition | undefined;
  if (effect === "allow") {
    grants = compileGrants(where, rule.roles, defined.roles);
    githubTokens = compileGithubTokenNames(where, rule.githubTokens, defined.githubTokens);
    if (grants.size === 0 && githubTokens.length === 0)
      fail(where, "an allow rule must grant at least one role or GitHub token");
    checkScope(where, kind, conditions);
    const workflow = conditions.find((condition) => condition.claim === "job_workflow_ref");
    if (workflow !== undefined) {
      // A public reusable workflow can be called by any repository: pin it exactly and pin who may call it. Only
      // job_workflow_ref: workflow_ref names the caller's own workflow file, which a rule may glob.
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
    if (rule.rateLimit !== undefined) {
      const { perMinute, burst } = rule.rateLimit;
      if (
        !Number.isInteger(perMinute) ||
        perMinute < 1 ||
        perMinute > MAX_RULE_RATE_PER_MINUTE ||
        !Number.isInteger(burst) ||
        burst < 1 ||
        burst > MAX_RULE_BURST
      ) {
        fail(
          `${where}.rateLimit`,
          `perMinute must be 1..${MAX_RULE_RATE_PER_MINUTE} and burst 1..${MAX_RULE_BURST}, integers`,
        );
      }
      rateLimit = { perMinute, burst };
    }
  } else {
    if (rule.roles !== undefined) fail(where, "a deny rule grants no roles");
    if (rule.githubTokens !== undefined) fail(where, "a deny rule grants no GitHub tokens");
    if (rule.rateLimit !== undefined) fail(where, "a deny rule has no rate limit");
  }

  const when = rule.when as ((claims: Readonly<Record<string, unknown>>) => boolean) | undefined;
  const requirements = compileRequirements(where, rule, kind, effect);
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
    githubTokens,
    rateLimit,
    when,
    optOuts,
    // Only exact names count as "the operator named this environment": GitHub creates any environment a workflow
    // mentions, unprotected, so `prod*` or `*` would let an unprotected branch through the privileged-ref guard.
    facts: {
      namesEnvironment: conditions.some(
        (condition) => condition.claim === "environment" && condition.globs.length === 0,
      ),
      extraEvents,
    },
    requirements,
  };
}

/** Validate and compile. Throws PolicyCompileError on the first mistake. */
export function compilePolicy(def: PolicyDefinition, options: CompileOptions = {}): CompiledPolicy {
  if (!isPlainObject(def)) fail("policy", "must be an object with roles and rules", "policy_invalid");
  const issuers = compileIssuers(def.issuers, options);
  const roles = new Map<string, RoleGrant>();
  if (!isPlainObject(def.roles)) fail("roles", "must map role names to role definitions", "policy_invalid");
  for (const [name, role] of Object.entries(def.roles)) roles.set(name, compileRole(name, role));
  if (options.stsAuth === "web-identity") {
    for (const [name, grant] of roles) {
      if (grant.externalId !== undefined) {
        fail(
          `roles.${name}.externalId`,
          "STS_AUTH = web-identity cannot pass an ExternalId (AssumeRoleWithWebIdentity has no such parameter): drop it from the role and its trust policy, or use sigv4",
          "external_id_unsupported",
        );
      }
    }
  }
  const githubTokens = new Map<string, GithubTokenGrant>();
  if (def.githubTokens !== undefined && !isPlainObject(def.githubTokens))
    fail("githubTokens", "must map grant names to GitHub token grants", "policy_invalid");
  for (const [name, grant] of Object.entries(def.githubTokens ?? {}))
    githubTokens.set(name, compileGithubToken(name, grant));
  if (!Array.isArray(def.rules)) fail("rules", "must be a list", "policy_invalid");

  const seenIds = new Set<string>();
  const rules = def.rules.map((rule, index) =>
    compileRule(index, rule as RuleDefinition, issuers, { roles, githubTokens }, seenIds),
  );
  const perIssuer = new Map<string, IssuerPolicy>();
  for (const [id, kind] of issuers) {
    const mine = rules.filter((rule) => rule.issuer === id);
    perIssuer.set(id, {
      id,
      kind,
      deny: indexRules(
        kind,
        mine.filter((rule) => rule.effect === "deny"),
      ),
      allow: indexRules(
        kind,
        mine.filter((rule) => rule.effect === "allow"),
      ),
    });
  }
  return {
    issuers: perIssuer,
    rules,
    denyRules: rules.filter((rule) => rule.effect === "deny"),
    allowRules: rules.filter((rule) => rule.effect === "allow"),
    roles,
    githubTokens,
  };
}
