// Shadow mode: a candidate policy decides beside the live one; a difference becomes one structured log line and
// never changes the answer. Pure; no I/O; no clock. The line holds rule ids, role names and reasons: never ARNs.
import type { Decision, GithubTokenDecision } from "./decide.ts";
import type { GithubTokenGrant } from "./github-tokens.ts";
import type { RoleGrant } from "../aws/session.ts";

/** One side of a shadow comparison, as logged. */
export interface ShadowSide {
  allowed: boolean;
  reason: string | undefined;
  rule_id: string | undefined;
  role: string | undefined;
  duration_seconds: number | undefined;
}

export interface ShadowDiff {
  live: ShadowSide;
  candidate: ShadowSide;
  /** Same role name on both sides, but the candidate's role definition (ARN, policies, tags...) differs. */
  grant_differs: boolean;
}

function side(decision: Decision): ShadowSide {
  return decision.allowed
    ? {
        allowed: true,
        reason: undefined,
        rule_id: decision.ruleId,
        role: decision.grant.alias,
        duration_seconds: decision.durationSeconds,
      }
    : {
        allowed: false,
        reason: decision.reason,
        rule_id: decision.ruleId,
        role: undefined,
        duration_seconds: undefined,
      };
}

function sameGrant(a: RoleGrant, b: RoleGrant): boolean {
  return (
    a.arn === b.arn &&
    a.maxDurationSeconds === b.maxDurationSeconds &&
    a.sessionPolicyJson === b.sessionPolicyJson &&
    (a.privileged ?? false) === (b.privileged ?? false) &&
    a.externalId === b.externalId &&
    JSON.stringify(a.sessionTags) === JSON.stringify(b.sessionTags) &&
    JSON.stringify(a.policyArns ?? []) === JSON.stringify(b.policyArns ?? []) &&
    JSON.stringify(a.transitiveTagKeys ?? []) === JSON.stringify(b.transitiveTagKeys ?? [])
  );
}

/** The difference between two decisions on one request, or undefined when they agree in every logged respect. */
export function shadowDiff(live: Decision, candidate: Decision): ShadowDiff | undefined {
  const a = side(live);
  const b = side(candidate);
  const grantDiffers =
    live.allowed && candidate.allowed && a.role === b.role && !sameGrant(live.grant, candidate.grant);
  const same =
    a.allowed === b.allowed &&
    a.reason === b.reason &&
    a.rule_id === b.rule_id &&
    a.role === b.role &&
    a.duration_seconds === b.duration_seconds &&
    !grantDiffers;
  return same ? undefined : { live: a, candidate: b, grant_differs: grantDiffers };
}

/** One side of a GitHub token shadow comparison, as logged: the grant's name, never its repositories or permissions. */
export interface GithubTokenShadowSide {
  allowed: boolean;
  reason: string | undefined;
  rule_id: string | undefined;
  github_token: string | undefined;
}

function tokenSide(decision: GithubTokenDecision): GithubTokenShadowSide {
  return decision.allowed
    ? { allowed: true, reason: undefined, rule_id: decision.ruleId, github_token: decision.grant.name }
    : { allowed: false, reason: decision.reason, rule_id: decision.ruleId, github_token: undefined };
}

const grantShape = (grant: GithubTokenGrant) => JSON.stringify([grant.owner, grant.repositories, grant.permissions]);

/** As shadowDiff, for a GitHub token request: `grant_differs` when both grant the same name with another definition. */
export function githubTokenShadowDiff(
  live: GithubTokenDecision,
  candidate: GithubTokenDecision,
): { live: GithubTokenShadowSide; candidate: GithubTokenShadowSide; grant_differs: boolean } | undefined {
  const a = tokenSide(live);
  const b = tokenSide(candidate);
  const grantDiffers =
    live.allowed &&
    candidate.allowed &&
    a.github_token === b.github_token &&
    grantShape(live.grant) !== grantShape(candidate.grant);
  const same =
    a.allowed === b.allowed &&
    a.reason === b.reason &&
    a.rule_id === b.rule_id &&
    a.github_token === b.github_token &&
    !grantDiffers;
  return same ? undefined : { live: a, candidate: b, grant_differs: grantDiffers };
}
