// Validates and compiles one policy rule: its fields, effect, issuer, guard opt-outs, granted roles and GitHub tokens,
// allowed events and rate limit. Pure; no I/O. Called once per rule from compile.ts; fails naming the rule at fault.
import type { RoleGrant } from "../aws/session.ts";
import { MAX_RULE_BURST, MAX_RULE_RATE_PER_MINUTE } from "./constants.ts";
import type { IssuerKind } from "../oidc/issuers.ts";
import { fail, isPlainObject } from "./compile-error.ts";
import { checkScope, checkWorkflowPin, compileConditions } from "./compile-match.ts";
import { compileGithubTokenNames, type GithubTokenGrant } from "./github-tokens.ts";
import { OPT_OUTS, TRUSTED_EVENTS, type OptOut } from "./guards.ts";
import { compileRequirements } from "./requirements-compile.ts";
import { ALIAS_PATTERN } from "./roles.ts";
import type { CompiledCondition, CompiledRule } from "./rule-index.ts";
import type { RateLimitDefinition, RuleDefinition } from "./types.ts";

/** The issuer a rule that names none belongs to (the one of the default issuer map). */
export const DEFAULT_ISSUER_ID = "github";

const RULE_ID_PATTERN = /^[A-Za-z0-9][\w.-]{0,127}$/;

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

export interface Defined {
  roles: ReadonlyMap<string, RoleGrant>;
  githubTokens: ReadonlyMap<string, GithubTokenGrant>;
}

/** The rule's id, description, effect, issuer and `when`, checked; returns the effect and the issuer's kind. */
function checkHeader(
  where: string,
  rule: RuleDefinition,
  issuers: ReadonlyMap<string, IssuerKind>,
  seenIds: Set<string>,
): { id: string; effect: "allow" | "deny"; issuer: string; kind: IssuerKind } {
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
  return { id: rule.id, effect, issuer, kind };
}

function compileOptOuts(where: string, rule: RuleDefinition, effect: "allow" | "deny"): Set<OptOut> {
  const optOuts = new Set<OptOut>();
  for (const optOut of OPT_OUTS) {
    const value = (rule as unknown as Record<string, unknown>)[optOut];
    if (value === undefined) continue;
    if (value !== true) fail(`${where}.${optOut}`, "an opt-out is `true` or absent");
    if (effect === "deny") fail(`${where}.${optOut}`, "guards do not apply to deny rules");
    optOuts.add(optOut);
  }
  return optOuts;
}

function compileRateLimit(where: string, rateLimit: RateLimitDefinition | undefined): RateLimitDefinition | undefined {
  if (rateLimit === undefined) return undefined;
  const { perMinute, burst } = rateLimit;
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
  return { perMinute, burst };
}

interface Grants {
  grants: Map<string, string>;
  githubTokens: string[];
  rateLimit: RateLimitDefinition | undefined;
}

/** What an allow rule grants (at least one role or token), scoped and pinned; a deny rule grants nothing. */
function compileRuleGrants(
  where: string,
  rule: RuleDefinition,
  kind: IssuerKind,
  effect: "allow" | "deny",
  scope: { conditions: readonly CompiledCondition[]; optOuts: ReadonlySet<OptOut>; defined: Defined },
): Grants {
  if (effect === "deny") {
    if (rule.roles !== undefined) fail(where, "a deny rule grants no roles");
    if (rule.githubTokens !== undefined) fail(where, "a deny rule grants no GitHub tokens");
    if (rule.rateLimit !== undefined) fail(where, "a deny rule has no rate limit");
    return { grants: new Map(), githubTokens: [], rateLimit: undefined };
  }
  const grants = compileGrants(where, rule.roles, scope.defined.roles);
  const githubTokens = compileGithubTokenNames(where, rule.githubTokens, scope.defined.githubTokens);
  if (grants.size === 0 && githubTokens.length === 0)
    fail(where, "an allow rule must grant at least one role or GitHub token");
  checkScope(where, kind, scope.conditions);
  checkWorkflowPin(where, scope.conditions, scope.optOuts);
  return { grants, githubTokens, rateLimit: compileRateLimit(where, rule.rateLimit) };
}

export function compileRule(
  index: number,
  rule: RuleDefinition,
  issuers: ReadonlyMap<string, IssuerKind>,
  defined: Defined,
  seenIds: Set<string>,
): CompiledRule {
  const label = isPlainObject(rule) && typeof rule.id === "string" ? ` (${rule.id})` : "";
  const where = `rules[${index}]${label}`;
  if (!isPlainObject(rule)) fail(where, "must be an object");
  const { id, effect, issuer, kind } = checkHeader(where, rule, issuers, seenIds);
  const optOuts = compileOptOuts(where, rule, effect);
  const extraEvents = compileAllowEvents(where, kind, rule.allowEvents, effect);
  const conditions = compileConditions(where, kind, rule.match, effect);
  const { grants, githubTokens, rateLimit } = compileRuleGrants(where, rule, kind, effect, {
    conditions,
    optOuts,
    defined,
  });
  const when = rule.when as ((claims: Readonly<Record<string, unknown>>) => boolean) | undefined;
  const requirements = compileRequirements(where, rule, kind, effect);
  return {
    id,
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
