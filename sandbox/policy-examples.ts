// What the sandbox offers a newcomer, derived from the policy it runs (policies/index.ts, or the test policy under
// SANDBOX_WORKER_ENTRY): the claims its tokens carry by default, so the first printed command gets credentials under
// that policy; a second grant and a denial to try; and the GitHub facts to seed when a rule `require`s them. Every
// example is checked with the policy's own decision (and the requirements on the facts to seed) before it is offered.
// Pure; no I/O; no clock. docs/sandbox.md.
import { isBrokerError } from "../src/errors.ts";
import { parseClaims } from "../src/oidc/claims.ts";
import type { CompiledPolicy } from "../src/policy/compile.ts";
import { decide, type Decision } from "../src/policy/decide.ts";
import { isGlob } from "../src/policy/glob.ts";
import type { CompiledRule } from "../src/policy/rule-index.ts";
import { factsFor, factsMeet, type SandboxFacts } from "./sandbox-facts.ts";

export type { SandboxFacts } from "./sandbox-facts.ts";

export type Claims = Record<string, string>;

/**
 * A grant an example gets: the deciding rule, the role alias, and the alias to ask for when the rule grants several.
 */
export interface ExampleGrant {
  ruleId: string;
  alias: string;
  /** Set when the request must name the role (the rule grants several, so none is implied). */
  role: string | undefined;
}

export interface SandboxExamples {
  /** Claims laid over the issuer's GitHub-shaped defaults in every token the sandbox mints; empty when none derived. */
  defaultClaims: Claims;
  /** What the default token is (repository, ref, event) and gets. */
  granted: (ExampleGrant & { repository: string; ref: string; eventName: string }) | undefined;
  /** Another rule's grant: claim overrides on the default token (`npm run token -- --claim k=v`). */
  other: (ExampleGrant & { overrides: Claims }) | undefined;
  /** A denial of the default token with one claim changed, and its reason. */
  denied: { reason: string; ruleId: string | undefined; overrides: Claims } | undefined;
  /**
   * The facts the sandbox's GitHub API reports for the default token's commit (what `npm run sandbox -- github`
   * changes).
   */
  facts: SandboxFacts | undefined;
  /**
   * The policy's GitHub token grants (`githubTokens`), by name: the banner's `github-token` hint shows only when there
   * are some.
   */
  githubTokens?: readonly string[];
  /** Why nothing could be offered: the banner says so instead of printing a command that fails. */
  unavailable: string | undefined;
}

/** What stands for a glob's `*` / `**` in an example value: `refs/tags/v*` becomes `refs/tags/v1`. */
const GLOB_STAND_IN = "1";
/** The pull request a pull_request example's ref names. */
const EXAMPLE_PULL_REF = "refs/pull/1/merge";

/** A value the condition accepts: its first exact pattern, else its first glob with each wildcard stood in for. */
function exampleValue(patterns: readonly string[]): string {
  const exact = patterns.find((pattern) => !isGlob(pattern));
  return exact ?? (patterns[0] as string).replace(/\*\*?/g, GLOB_STAND_IN);
}

/** The claims a rule's matchers name, one accepted value each. */
export function ruleExampleClaims(rule: CompiledRule): Claims {
  return Object.fromEntries(rule.conditions.map((condition) => [condition.claim, exampleValue(condition.patterns)]));
}

const isPullRequestEvent = (event: string | undefined) => event === "pull_request" || event === "pull_request_target";

/**
 * A whole, consistent token for a rule: `base` (the issuer's defaults), the rule's own values, and what follows from
 * them where the rule says nothing (the owner of a repository, the ref of a pull request event, `sub`, the workflow
 * refs), so the example reads like a token GitHub would issue.
 */
export function completeClaims(base: Readonly<Record<string, unknown>>, matched: Claims): Claims {
  const claims: Claims = { ...stringClaims(base), ...matched };
  const given = (name: string) => Object.hasOwn(matched, name);
  if (given("repository") && !given("repository_owner"))
    claims.repository_owner = (claims.repository as string).split("/")[0] as string;
  if (given("repository_owner") && !given("repository"))
    claims.repository = `${claims.repository_owner}/${(claims.repository ?? "app").split("/").pop()}`;
  if (!given("event_name") && (claims.ref ?? "").startsWith("refs/pull/")) claims.event_name = "pull_request";
  if (!given("ref") && isPullRequestEvent(claims.event_name)) claims.ref = EXAMPLE_PULL_REF;
  const ref = claims.ref ?? "";
  if (!given("ref_type")) claims.ref_type = ref.startsWith("refs/tags/") ? "tag" : "branch";
  if (!given("ref_protected") && ref.startsWith("refs/pull/")) claims.ref_protected = "false";
  if (isPullRequestEvent(claims.event_name)) {
    if (!given("head_ref")) claims.head_ref = "feature";
    if (!given("base_ref")) claims.base_ref = "main";
  }
  if (!given("sub")) {
    const environment = claims.environment ?? "";
    claims.sub = `repo:${claims.repository}:${environment !== "" ? `environment:${environment}` : isPullRequestEvent(claims.event_name) ? "pull_request" : `ref:${ref}`}`;
  }
  const ownWorkflow = `${claims.repository}/.github/workflows/ci.yml@${ref}`;
  if (!given("workflow_ref")) claims.workflow_ref = ownWorkflow;
  if (!given("job_workflow_ref"))
    claims.job_workflow_ref = given("workflow_ref") ? (claims.workflow_ref as string) : ownWorkflow;
  return claims;
}

/** The string-valued claims of `claims` (every claim a rule can match on is a string). */
function stringClaims(claims: Readonly<Record<string, unknown>>): Claims {
  return Object.fromEntries(
    Object.entries(claims).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

/** The claims that differ from `from`. */
function changed(claims: Claims, from: Claims): Claims {
  return Object.fromEntries(Object.entries(claims).filter(([key, value]) => from[key] !== value));
}

/** The decision on these claims as the broker reaches it: through the schema first; undefined when it refuses them. */
function decideOn(
  policy: CompiledPolicy,
  issuerId: string,
  claims: Claims,
  role: string | undefined,
): Decision | undefined {
  try {
    const parsed = parseClaims("github", claims) as unknown as Readonly<Record<string, unknown>>;
    return decide(policy, { issuerId, claims: parsed, role, durationSeconds: undefined });
  } catch (error) {
    if (isBrokerError(error)) return undefined;
    throw error;
  }
}

/** The grant these claims get (asking for each of the rule's aliases when none is implied), facts included. */
function grantFor(
  policy: CompiledPolicy,
  issuerId: string,
  claims: Claims,
  rule: CompiledRule,
  facts: SandboxFacts,
): ExampleGrant | undefined {
  for (const role of [undefined, ...rule.grants.keys()]) {
    const decision = decideOn(policy, issuerId, claims, role);
    if (decision?.allowed !== true) continue;
    if (decision.requirements !== undefined && !factsMeet(decision.requirements, claims, facts)) continue;
    return { ruleId: decision.ruleId, alias: decision.alias, role };
  }
  return undefined;
}

/** Claim changes that should be refused, tried in turn on the default token: the first refused one is the example. */
const DENIAL_PROBES: readonly Claims[] = [
  { runner_environment: "self-hosted" },
  { event_name: "pull_request_target" },
  { repository_id: "1" },
];

/** The first allow rule whose example token the policy grants (facts included): the sandbox's default token. */
function firstGrant(
  policy: CompiledPolicy,
  issuerId: string,
  rules: readonly CompiledRule[],
  base: Readonly<Record<string, unknown>>,
) {
  for (const rule of rules) {
    const claims = completeClaims(base, ruleExampleClaims(rule));
    const facts = factsFor(rules, claims, rule);
    const grant = grantFor(policy, issuerId, claims, rule, facts);
    if (grant !== undefined) return { claims, grant, facts };
  }
  return undefined;
}

/**
 * Another rule's grant, as claim overrides on the default token: the rule's own values first, then a whole token for
 * it.
 */
function otherGrant(
  policy: CompiledPolicy,
  issuerId: string,
  rules: readonly CompiledRule[],
  base: Readonly<Record<string, unknown>>,
  first: { claims: Claims; grant: ExampleGrant; facts: SandboxFacts },
): SandboxExamples["other"] {
  for (const rule of rules) {
    if (rule.id === first.grant.ruleId) continue;
    const wanted = changed(ruleExampleClaims(rule), first.claims);
    const shortest =
      isPullRequestEvent(wanted.event_name) && wanted.ref === undefined ? { ...wanted, ref: EXAMPLE_PULL_REF } : wanted;
    for (const overrides of [shortest, changed(completeClaims(base, ruleExampleClaims(rule)), first.claims)]) {
      if (Object.keys(overrides).length === 0) continue;
      const grant = grantFor(policy, issuerId, { ...first.claims, ...overrides }, rule, first.facts);
      if (grant !== undefined && grant.ruleId !== first.grant.ruleId) return { ...grant, overrides };
    }
  }
  return undefined;
}

/** The first of DENIAL_PROBES the policy refuses for the default token, with its reason. */
function denial(
  policy: CompiledPolicy,
  issuerId: string,
  defaults: Claims,
  role: string | undefined,
): SandboxExamples["denied"] {
  for (const overrides of DENIAL_PROBES) {
    const decision = decideOn(policy, issuerId, { ...defaults, ...overrides }, role);
    if (decision !== undefined && !decision.allowed)
      return { reason: decision.reason, ruleId: decision.ruleId, overrides };
  }
  return undefined;
}

/**
 * The sandbox's examples for `policy` and the sandbox issuer `issuerId` (a GitHub-shaped issuer). `base` is what the
 * issuer puts in a token when told nothing (sandbox/fakes/fake-issuer.ts githubClaims()).
 */
export function deriveSandboxExamples(
  policy: CompiledPolicy,
  issuerId: string,
  base: Readonly<Record<string, unknown>>,
): SandboxExamples {
  const none = (unavailable: string): SandboxExamples => ({
    defaultClaims: {},
    granted: undefined,
    other: undefined,
    denied: undefined,
    facts: undefined,
    unavailable,
  });
  const issuer = policy.issuers.get(issuerId);
  if (issuer?.kind !== "github") {
    const others = [...policy.issuers.keys()].join(", ");
    return none(
      `the policy has no rules for the sandbox's GitHub-shaped issuer "${issuerId}" (its issuers: ${others === "" ? "none" : others})`,
    );
  }
  const rules = policy.allowRules.filter((rule) => rule.issuer === issuerId);
  const first = firstGrant(policy, issuerId, rules, base);
  if (first === undefined) {
    return none(
      rules.length === 0
        ? `the policy has no allow rule for the sandbox's issuer "${issuerId}"`
        : `no allow rule for issuer "${issuerId}" grants credentials to a token the sandbox can derive from it`,
    );
  }
  const defaults = first.claims;
  return {
    defaultClaims: changed(defaults, stringClaims(base)),
    granted: {
      ...first.grant,
      repository: defaults.repository ?? "",
      ref: defaults.ref ?? "",
      eventName: defaults.event_name ?? "",
    },
    other: otherGrant(policy, issuerId, rules, base, first),
    denied: denial(policy, issuerId, defaults, first.grant.role),
    facts: first.facts,
    githubTokens: [...policy.githubTokens.keys()],
    unavailable: undefined,
  };
}
