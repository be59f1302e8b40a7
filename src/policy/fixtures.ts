// Policy test fixtures (policies/tests/*.fixtures.ts), as `opa test` runs Rego tests: claims + requested role (or
// GitHub token grant) -> expected decision and reason. Pure; no I/O. Claims go through the issuer kind's schema first,
// as in production.
import { isBrokerError } from "../errors.ts";
import { parseClaims } from "../oidc/claims.ts";
import type { IssuerKind } from "../platforms/index.ts";
import { compilePolicy, DEFAULT_ISSUER_ID, type CompiledPolicy } from "./compile.ts";
import { decide, decideGithubToken, type Decision, type DenyReason, type GithubTokenDecision } from "./decide.ts";
import { evaluateOffline, type OfflineFacts } from "./offline-facts.ts";
import type { ContextReason } from "./requirements.ts";
import type { PolicyDefinition } from "./types.ts";

/**
 * What a case expects: an allow naming the alias (or, for a `githubToken` case, the grant) granted and optionally the
 * rule, or a deny with its reason.
 */
export type FixtureExpectation =
  | { allow: string; rule?: string }
  | { deny: DenyReason | ContextReason | "claims_invalid"; rule?: string };

export interface PolicyFixture {
  name: string;
  /** Issuer id (default "github"). */
  issuer?: string;
  /** Claims laid over the suite's defaults for the issuer's kind; a key set to `undefined` removes a default. */
  claims?: Record<string, unknown>;
  /** Role alias requested (`POST /v1/credentials`). */
  role?: string;
  durationSeconds?: number;
  /**
   * A GitHub token grant requested by name (`POST /v1/github-token`) instead of a role; `expect.allow` names the grant.
   */
  githubToken?: string;
  /**
   * What GitHub reports for the token's commit (docs/github-facts.md). Required when the allowing rule has
   * `require`: without facts such a case fails ("requires GitHub facts").
   */
  github?: OfflineFacts;
  expect: FixtureExpectation;
}

/** A decision after the requirements were judged on the fixture's facts (or could not be: no facts given). */
type Outcome =
  | Decision
  | GithubTokenDecision
  | { allowed: false; reason: ContextReason; ruleId: string }
  | "claims_invalid"
  | { unevaluated: string }
  | { invalid: string };

/** What an allow granted: the role alias, or the GitHub token grant's name. */
const grantedName = (decision: Extract<Decision | GithubTokenDecision, { allowed: true }>) =>
  "alias" in decision ? decision.alias : decision.grant.name;

export interface FixtureSuite {
  /** The policy under test (what `definePolicy` returned). */
  policy: PolicyDefinition;
  /** Baseline claims per issuer kind: a realistic token each case varies. */
  defaults?: Partial<Record<IssuerKind, Record<string, unknown>>>;
  /** GitHub facts for every case that gives none of its own (docs/github-facts.md). */
  github?: OfflineFacts;
  cases: readonly PolicyFixture[];
}

export interface FixtureResult {
  name: string;
  pass: boolean;
  expected: string;
  actual: string;
}

/** Declare a fixture suite; returns it unchanged (for typing). */
export function defineFixtures(suite: FixtureSuite): FixtureSuite {
  return suite;
}

function describeExpectation(expect: FixtureExpectation): string {
  const rule = expect.rule === undefined ? "" : ` (rule ${expect.rule})`;
  return "allow" in expect ? `allow ${expect.allow}${rule}` : `deny ${expect.deny}${rule}`;
}

function describeActual(decision: Outcome): string {
  if (decision === "claims_invalid") return "deny claims_invalid";
  if ("unevaluated" in decision)
    return `rule ${decision.unevaluated} requires GitHub facts: add \`github\` to the case`;
  if ("invalid" in decision) return `invalid case: ${decision.invalid}`;
  if (decision.allowed) return `allow ${grantedName(decision)} (rule ${decision.ruleId})`;
  return `deny ${decision.reason}${decision.ruleId === undefined ? "" : ` (rule ${decision.ruleId})`}`;
}

function meets(expect: FixtureExpectation, decision: Outcome): boolean {
  if (decision === "claims_invalid")
    return "deny" in expect && expect.deny === "claims_invalid" && expect.rule === undefined;
  if ("unevaluated" in decision || "invalid" in decision) return false;
  if ("allow" in expect)
    return (
      decision.allowed &&
      grantedName(decision) === expect.allow &&
      (expect.rule === undefined || decision.ruleId === expect.rule)
    );
  return (
    !decision.allowed &&
    decision.reason === expect.deny &&
    (expect.rule === undefined || decision.ruleId === expect.rule)
  );
}

/** The claims of one case: defaults for the kind, overridden; `undefined` deletes. */
export function fixtureClaims(suite: FixtureSuite, kind: IssuerKind, fixture: PolicyFixture): Record<string, unknown> {
  const claims: Record<string, unknown> = { ...suite.defaults?.[kind], ...fixture.claims };
  for (const [key, value] of Object.entries(claims)) if (value === undefined) delete claims[key];
  return claims;
}

/** The decide stage for the case's request: a GitHub token grant when it names one, else a role. */
function decideCase(
  compiled: CompiledPolicy,
  issuerId: string,
  claims: Readonly<Record<string, unknown>>,
  fixture: PolicyFixture,
): Decision | GithubTokenDecision | { invalid: string } {
  if (fixture.githubToken === undefined)
    return decide(compiled, { issuerId, claims, role: fixture.role, durationSeconds: fixture.durationSeconds });
  if (fixture.role !== undefined || fixture.durationSeconds !== undefined)
    return { invalid: "a githubToken case asks for no role and no duration" };
  return decideGithubToken(compiled, { issuerId, claims, githubToken: fixture.githubToken });
}

/** Runs every case against the (compiled) policy. A case naming an issuer the policy lacks fails. */
export function runFixtures(
  suite: FixtureSuite,
  compiled: CompiledPolicy = compilePolicy(suite.policy),
): FixtureResult[] {
  return suite.cases.map((fixture) => {
    const expected = describeExpectation(fixture.expect);
    const issuerId = fixture.issuer ?? DEFAULT_ISSUER_ID;
    const issuer = compiled.issuers.get(issuerId);
    if (issuer === undefined)
      return { name: fixture.name, pass: false, expected, actual: `issuer "${issuerId}" is not in the policy` };
    let decision: Outcome;
    try {
      const claims = parseClaims(issuer.kind, fixtureClaims(suite, issuer.kind, fixture)) as unknown as Readonly<
        Record<string, unknown>
      >;
      decision = decideCase(compiled, issuerId, claims, fixture);
      if (!("invalid" in decision) && decision.allowed && decision.requirements !== undefined) {
        // The broker's context stage, offline: the same evaluation on the facts the case supplies.
        const facts = fixture.github ?? suite.github;
        if (facts === undefined) decision = { unevaluated: decision.ruleId };
        else {
          const verdict = evaluateOffline(decision.requirements, claims, facts);
          if (!verdict.met) decision = { allowed: false, reason: verdict.reason, ruleId: decision.ruleId };
        }
      }
    } catch (error) {
      if (!isBrokerError(error) || error.reason !== "claims_invalid") throw error;
      decision = "claims_invalid";
    }
    return { name: fixture.name, pass: meets(fixture.expect, decision), expected, actual: describeActual(decision) };
  });
}
