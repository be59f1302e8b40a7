// From verified claims and the granted role, the AssumeRole input: session name, source identity, session tags.
// No I/O; no clock (a WebCrypto digest for naming). Every output satisfies STS's parameter rules whatever the claims
// contain. What differs per CI platform (tags, name parts, login forms) comes from the token's platform module.
import { BrokerError } from "../errors.ts";
import { STS_MAX_DURATION_SECONDS, STS_MIN_DURATION_SECONDS } from "../http/constants.ts";
import { STS_MAX_POLICY_ARNS, STS_MAX_SESSION_POLICY_CHARS, STS_MAX_SESSION_TAGS } from "./constants.ts";
import type { IssuerConfig } from "../oidc/issuers.ts";
import type { GitHubSessionClaims } from "../platforms/github.ts";
import type { GitLabSessionClaims } from "../platforms/gitlab.ts";
import { platformOf, type Claims } from "../platforms/index.ts";
import { claimText, identityPrefix, sessionName, sourceIdentity } from "./session-names.ts";
import { brokerTags, ISSUER_SESSION_TAG_KEY, operatorTags } from "./session-tags.ts";

export interface AssumeRoleInput {
  roleArn: string;
  roleSessionName: string;
  durationSeconds: number;
  sourceIdentity: string;
  tags: Array<{ key: string; value: string }>;
  transitiveTagKeys: string[];
  sessionPolicy: string | undefined;
  policyArns: string[];
  externalId: string | undefined;
}

/** A role after policy compilation (src/policy/roles.ts): what this stage receives when a rule grants it. */
export interface RoleGrant {
  /** The role's name in the policy's `roles` (what the audit records). */
  alias: string;
  arn: string;
  maxDurationSeconds: number;
  /** The inline session policy, serialised once at compile time. */
  sessionPolicyJson: string | undefined;
  /** Operator-defined extra session tags, in declaration order. */
  sessionTags: ReadonlyArray<readonly [key: string, value: string]>;
  privileged?: boolean;
  /** Managed session policy ARNs (`PolicyArns`). */
  policyArns?: readonly string[];
  /** Operator tag keys made transitive, in addition to the broker's claim tags. */
  transitiveTagKeys?: readonly string[];
  externalId?: string | undefined;
}

/** The issuer fields session naming and the Issuer tag read. */
export type SessionIssuer = Pick<IssuerConfig, "id" | "kind" | "issuer">;

/** The verified claims session naming and tagging read, for any platform (each module's `*SessionClaims`). */
export type SessionClaims = GitHubSessionClaims | GitLabSessionClaims;

/**
 * What buildAssumeRoleInput needs: the claims of a token of `issuer` (its kind picks the platform). `tokenSha256` is
 * the token's SHA-256 prefix (the audit event's `token_sha256`): it makes each exchange's session name distinct.
 */
export interface AssumeRoleArgs {
  issuer: SessionIssuer;
  claims: SessionClaims;
  grant: RoleGrant;
  durationSeconds: number;
  tokenSha256: string;
}

/** The arguments for a verified token of `issuer`. */
export function sessionArgsFor(
  issuer: SessionIssuer,
  claims: Claims,
  grant: RoleGrant,
  durationSeconds: number,
  tokenSha256: string,
): AssumeRoleArgs {
  return { issuer, claims, grant, durationSeconds, tokenSha256 };
}

/** Refuses a grant STS would refuse (or a duration the decide stage should have bounded). */
function checkGrant(grant: RoleGrant, durationSeconds: number): void {
  // The decide stage already bounds the duration by the role; reaching here out of range is a bug upstream.
  const maxDuration = Math.min(grant.maxDurationSeconds, STS_MAX_DURATION_SECONDS);
  if (
    !Number.isInteger(durationSeconds) ||
    durationSeconds < STS_MIN_DURATION_SECONDS ||
    durationSeconds > maxDuration
  ) {
    throw new BrokerError("internal_error", "duration_out_of_range");
  }
  if (grant.sessionPolicyJson !== undefined && grant.sessionPolicyJson.length > STS_MAX_SESSION_POLICY_CHARS) {
    throw new BrokerError("config_invalid", "session_policy_too_long");
  }
  if ((grant.policyArns ?? []).length > STS_MAX_POLICY_ARNS)
    throw new BrokerError("config_invalid", "policy_arns_invalid");
}

/**
 * The AssumeRole input for one granted request. Throws `config_invalid` for a bad grant, `internal_error` for a bad
 * duration, `forbidden` for claims STS cannot carry losslessly. Pure but for a WebCrypto digest.
 * RoleSessionName and SourceIdentity (src/aws/session-names.ts), e.g. GitHub
 * `<prefix><run_id>-<run_attempt>-<token hash>-<owner.repo>` and `<prefix><actor>`.
 */
export async function buildAssumeRoleInput(args: AssumeRoleArgs): Promise<AssumeRoleInput> {
  const { grant, durationSeconds, issuer } = args;
  checkGrant(grant, durationSeconds);
  const platform = platformOf(issuer.kind);
  const claims = args.claims as unknown as Readonly<Record<string, unknown>>;
  const ours = brokerTags(platform.sessionTags, claims, issuer.issuer);
  const taken = new Set(
    [...platform.sessionTags.map((tag) => tag.key), ISSUER_SESSION_TAG_KEY].map((key) => key.toLowerCase()),
  );
  const operator = operatorTags(grant.sessionTags, taken);
  const tags = [...ours, ...operator];
  if (tags.length > STS_MAX_SESSION_TAGS) throw new BrokerError("config_invalid", "session_tag_limit");
  // STS: a transitive key must be one of the request's tags. Operator keys only; ours are transitive already.
  const operatorKeys = new Set(operator.map((tag) => tag.key.toLowerCase()));
  const extraTransitive = grant.transitiveTagKeys ?? [];
  if (extraTransitive.some((key) => !operatorKeys.has(key.toLowerCase())))
    throw new BrokerError("config_invalid", "transitive_tag_invalid");

  const prefix = identityPrefix(issuer);
  const { identity } = platform;
  const slug = claimText(claims[identity.repositoryClaim]).replaceAll("/", ".");
  return {
    roleArn: grant.arn,
    roleSessionName: sessionName(prefix, identity.nameIds(claims), args.tokenSha256, slug),
    durationSeconds,
    sourceIdentity: await sourceIdentity(issuer.kind, prefix, claims[identity.actorClaim]),
    tags,
    transitiveTagKeys: [...ours.map((tag) => tag.key), ...extraTransitive],
    sessionPolicy: grant.sessionPolicyJson,
    policyArns: [...(grant.policyArns ?? [])],
    externalId: grant.externalId,
  };
}
