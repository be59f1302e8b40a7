// From verified claims and the granted role, the AssumeRole input: session name, source identity, session tags.
// No I/O; no clock (a WebCrypto digest for naming). Every output satisfies STS's parameter rules whatever the claims contain.
import { BrokerError } from "../errors.ts";
import { STS_MAX_DURATION_SECONDS, STS_MIN_DURATION_SECONDS } from "../http/constants.ts";
import {
  STS_MAX_POLICY_ARNS,
  STS_MAX_SESSION_POLICY_CHARS,
  STS_MAX_SESSION_TAGS,
  STS_MAX_TAG_KEY_CHARS,
  STS_MAX_TAG_VALUE_CHARS,
} from "./constants.ts";
import type { Claims, GitHubClaims, GitLabClaims } from "../oidc/claims.ts";
import type { IssuerConfig } from "../oidc/issuers.ts";
import { claimText, identityPrefix, LONE_SURROGATE, sessionName, sourceIdentity } from "./session-names.ts";

/** The verified GitHub Actions claims this stage reads (a structural subset of `GitHubClaims`). */
export type SessionClaims = Pick<
  GitHubClaims,
  | "repository"
  | "repository_id"
  | "repository_owner"
  | "repository_owner_id"
  | "ref"
  | "sha"
  | "workflow"
  | "event_name"
  | "actor"
  | "actor_id"
  | "run_id"
  | "run_attempt"
  | "environment"
  | "job_workflow_ref"
  | "runner_environment"
>;

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

/**
 * The session tags the broker sets from claims: tag key -> claim name. Target-role trust policies condition on
 * these (`aws:RequestTag/<Key>` in the trust policy, `aws:PrincipalTag/<Key>` afterwards); docs/aws.md lists them.
 * Keys are stable API: never rename one. Prefer the *Id tags in policies: names can be renamed, ids cannot.
 * Required claims always produce their tag (possibly with an empty value); optional ones only when present
 * and non-empty. All of them are transitive (survive role chaining, which cannot overwrite them).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
 */
export const CLAIM_SESSION_TAGS = [
  { key: "Repository", claim: "repository", optional: false },
  { key: "RepositoryId", claim: "repository_id", optional: false },
  { key: "RepositoryOwner", claim: "repository_owner", optional: false },
  { key: "RepositoryOwnerId", claim: "repository_owner_id", optional: false },
  { key: "Ref", claim: "ref", optional: false },
  { key: "Sha", claim: "sha", optional: false },
  { key: "Workflow", claim: "workflow", optional: false },
  { key: "EventName", claim: "event_name", optional: false },
  { key: "Actor", claim: "actor", optional: false },
  { key: "ActorId", claim: "actor_id", optional: false },
  { key: "RunId", claim: "run_id", optional: false },
  { key: "RunAttempt", claim: "run_attempt", optional: false },
  { key: "Environment", claim: "environment", optional: true },
  { key: "JobWorkflowRef", claim: "job_workflow_ref", optional: true },
  { key: "RunnerEnvironment", claim: "runner_environment", optional: true },
] as const satisfies ReadonlyArray<{ key: string; claim: keyof SessionClaims; optional: boolean }>;

/** The tag keys the broker owns; an operator tag may not reuse one (compared case-insensitively, as STS does). */
export const BROKER_SESSION_TAG_KEYS: readonly string[] = CLAIM_SESSION_TAGS.map((tag) => tag.key);

/** The verified GitLab CI claims this stage reads. */
export type GitLabSessionClaims = Pick<
  GitLabClaims,
  | "project_path"
  | "project_id"
  | "namespace_path"
  | "namespace_id"
  | "ref"
  | "ref_type"
  | "ref_protected"
  | "sha"
  | "pipeline_source"
  | "pipeline_id"
  | "job_id"
  | "user_login"
  | "user_id"
  | "environment"
  | "runner_environment"
>;

/**
 * GitLab's session tags. Identity keys differ from GitHub's (`Project`, not `Repository`), so a trust policy written
 * for GitHub tags can never be satisfied by a GitLab token that happens to carry the same path. `user_email` is
 * personal data and never a tag. Same stability and transitivity rules as CLAIM_SESSION_TAGS.
 */
export const GITLAB_CLAIM_SESSION_TAGS = [
  { key: "Project", claim: "project_path", optional: false },
  { key: "ProjectId", claim: "project_id", optional: false },
  { key: "Namespace", claim: "namespace_path", optional: false },
  { key: "NamespaceId", claim: "namespace_id", optional: false },
  { key: "Ref", claim: "ref", optional: false },
  { key: "RefType", claim: "ref_type", optional: false },
  { key: "RefProtected", claim: "ref_protected", optional: false },
  { key: "Sha", claim: "sha", optional: false },
  { key: "PipelineSource", claim: "pipeline_source", optional: false },
  { key: "PipelineId", claim: "pipeline_id", optional: false },
  { key: "JobId", claim: "job_id", optional: false },
  { key: "User", claim: "user_login", optional: false },
  { key: "UserId", claim: "user_id", optional: false },
  { key: "Environment", claim: "environment", optional: true },
  { key: "RunnerEnvironment", claim: "runner_environment", optional: false },
] as const satisfies ReadonlyArray<{ key: string; claim: keyof GitLabSessionClaims; optional: boolean }>;

export const GITLAB_SESSION_TAG_KEYS: readonly string[] = GITLAB_CLAIM_SESSION_TAGS.map((tag) => tag.key);

/**
 * The tag naming the token's issuer (its exact `iss` URL), on every session of every kind: a trust policy can insist
 * on github.com and refuse a GHES or self-managed GitLab token that carries the same repository or project name.
 */
export const ISSUER_SESSION_TAG_KEY = "Issuer";

/** Every key the broker may set, whatever the issuer: the policy compiler refuses operator tags among them. */
export const ALL_BROKER_SESSION_TAG_KEYS: readonly string[] = [
  ...new Set([...BROKER_SESSION_TAG_KEYS, ...GITLAB_SESSION_TAG_KEYS, ISSUER_SESSION_TAG_KEY]),
];

/** The most tags the broker itself sets for one session, whatever the kind: operator tags must fit beside them. */
export const MAX_BROKER_SESSION_TAGS = Math.max(CLAIM_SESSION_TAGS.length, GITLAB_CLAIM_SESSION_TAGS.length) + 1;

// Tag key/value alphabet per STS: `[\p{L}\p{Z}\p{N}_.:/=+\-@]`. Claim values are written losslessly: a code point of
// that alphabet stands for itself, except `=`, the escape character; every other code point (and `=`) becomes `=XX`
// per UTF-8 byte, upper-case hex. Zl and Zp (legal for STS, but they break log lines) are escaped too. The mapping is
// injective, so two different claim values never yield one tag value (docs/security.md, "Session tags").
const TAG_LITERAL_CLASS = String.raw`[\p{L}\p{Zs}\p{N}_.:/+\-@]`;
const TAG_LITERAL_CHAR = new RegExp(`^${TAG_LITERAL_CLASS}$`, "u");
/** A whole value of TAG_LITERAL_CHAR characters (no `=`, no lone surrogate): written as it is. One class for both, so they cannot drift. */
const TAG_LITERAL_TEXT = new RegExp(`^${TAG_LITERAL_CLASS}*$`, "u");
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const utf8 = new TextEncoder();

/** An operator tag key STS accepts: its alphabet, 1..128 characters, not the reserved `aws:` prefix (any case). */
export function isValidTagKey(key: string): boolean {
  return key.length <= STS_MAX_TAG_KEY_CHARS && TAG_KEY.test(key) && !/^aws:/i.test(key);
}

/** An operator tag value STS accepts: its alphabet, at most 256 characters. */
export function isValidTagValue(value: string): boolean {
  return value.length <= STS_MAX_TAG_VALUE_CHARS && TAG_VALUE.test(value);
}

/** STS counts characters: hold to both UTF-16 units and code points, the stricter reading. */
function fitsTagValue(text: string): boolean {
  return text.length <= STS_MAX_TAG_VALUE_CHARS && [...text].length <= STS_MAX_TAG_VALUE_CHARS;
}

/**
 * A claim value as a session tag value, losslessly (see TAG_LITERAL_CHAR), or undefined when it cannot be: its escaped
 * form is longer than STS allows, or it holds a lone surrogate (UTF-8 cannot carry one, so two would collide).
 */
export function tagValue(text: string): string | undefined {
  // Common case first: nothing to escape, so the value stands for itself (one test instead of one per character).
  if (TAG_LITERAL_TEXT.test(text)) return fitsTagValue(text) ? text : undefined;
  if (LONE_SURROGATE.test(text)) return undefined;
  let out = "";
  for (const char of text) {
    if (char !== "=" && TAG_LITERAL_CHAR.test(char)) out += char;
    else for (const byte of utf8.encode(char)) out += `=${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    if (out.length > STS_MAX_TAG_VALUE_CHARS) return undefined;
  }
  return fitsTagValue(out) ? out : undefined;
}

/**
 * Refused, not rewritten: a trust policy conditioning on the tag must never be satisfied by another value. 403: the
 * token's claims, not the request or the broker, are at fault, and retrying cannot help.
 */
function requireTagValue(value: string): string {
  const tag = tagValue(value);
  if (tag === undefined) throw new BrokerError("forbidden", "session_tag_unrepresentable");
  return tag;
}

function claimTags(
  claims: Readonly<Record<string, unknown>>,
  table: ReadonlyArray<{ key: string; claim: string; optional: boolean }>,
): Array<{ key: string; value: string }> {
  const tags: Array<{ key: string; value: string }> = [];
  for (const { key, claim, optional } of table) {
    const value = claimText(claims[claim]);
    if (optional && value === "") continue;
    tags.push({ key, value: requireTagValue(value) });
  }
  return tags;
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

/**
 * Operator tags come from the compiled policy, so a bad one is a configuration error, not something to repair:
 * we refuse it rather than silently rewrite what the operator's trust policies may condition on.
 */
function operatorTags(grant: RoleGrant, taken: Set<string>): Array<{ key: string; value: string }> {
  const tags: Array<{ key: string; value: string }> = [];
  for (const [key, value] of grant.sessionTags) {
    const folded = key.toLowerCase();
    // STS tag keys are case-insensitive and `aws:` is reserved for AWS.
    if (taken.has(folded) || folded.startsWith("aws:")) throw new BrokerError("config_invalid", "session_tag_conflict");
    if (!isValidTagKey(key) || !isValidTagValue(value)) {
      throw new BrokerError("config_invalid", "session_tag_invalid");
    }
    taken.add(folded);
    tags.push({ key, value });
  }
  return tags;
}

/** The issuer fields session naming and the Issuer tag read. */
export type SessionIssuer = Pick<IssuerConfig, "id" | "kind" | "issuer">;

/**
 * What buildAssumeRoleInput needs: GitHub claims by default, GitLab claims with `kind: "gitlab"`. `tokenSha256` is
 * the token's SHA-256 prefix (the audit event's `token_sha256`): it makes each exchange's session name distinct.
 */
export type AssumeRoleArgs =
  | {
      kind?: "github";
      issuer: SessionIssuer;
      claims: SessionClaims;
      grant: RoleGrant;
      durationSeconds: number;
      tokenSha256: string;
    }
  | {
      kind: "gitlab";
      issuer: SessionIssuer;
      claims: GitLabSessionClaims;
      grant: RoleGrant;
      durationSeconds: number;
      tokenSha256: string;
    };

/** The arguments for a verified token of `issuer`: picks GitHub or GitLab naming and tags by its kind. */
export function sessionArgsFor(
  issuer: SessionIssuer,
  claims: Claims,
  grant: RoleGrant,
  durationSeconds: number,
  tokenSha256: string,
): AssumeRoleArgs {
  return issuer.kind === "gitlab"
    ? { kind: "gitlab", issuer, claims: claims as GitLabClaims, grant, durationSeconds, tokenSha256 }
    : { kind: "github", issuer, claims: claims as GitHubClaims, grant, durationSeconds, tokenSha256 };
}

/**
 * RoleSessionName and SourceIdentity (src/aws/session-names.ts):
 * - GitHub: `<prefix><run_id>-<run_attempt>-<token hash>-<owner.repo>`, and `<prefix><actor>`;
 * - GitLab: `<prefix><pipeline_id>-<job_id>-<token hash>-<namespace.project>`, and `<prefix><user_login>`.
 */
async function sessionIdentity(
  args: AssumeRoleArgs,
  prefix: string,
): Promise<{ roleSessionName: string; sourceIdentity: string }> {
  if (args.kind === "gitlab") {
    const { claims } = args;
    return {
      roleSessionName: sessionName(
        prefix,
        [claims.pipeline_id, claims.job_id],
        args.tokenSha256,
        claimText(claims.project_path).replaceAll("/", "."),
      ),
      sourceIdentity: await sourceIdentity("gitlab", prefix, claims.user_login),
    };
  }
  const { claims } = args;
  return {
    roleSessionName: sessionName(
      prefix,
      [claims.run_id, claims.run_attempt],
      args.tokenSha256,
      claimText(claims.repository).replaceAll("/", "."),
    ),
    sourceIdentity: await sourceIdentity("github", prefix, claims.actor),
  };
}

/**
 * The AssumeRole input for one granted request. Throws `config_invalid` for a bad grant, `internal_error` for a bad
 * duration, `forbidden` for claims STS cannot carry losslessly. Pure but for a WebCrypto digest.
 */
export async function buildAssumeRoleInput(args: AssumeRoleArgs): Promise<AssumeRoleInput> {
  const { grant, durationSeconds } = args;
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

  const policyArns = [...(grant.policyArns ?? [])];
  if (policyArns.length > STS_MAX_POLICY_ARNS) throw new BrokerError("config_invalid", "policy_arns_invalid");

  const gitlab = args.kind === "gitlab";
  const prefix = identityPrefix(args.issuer);
  const claims = args.claims as unknown as Readonly<Record<string, unknown>>;
  const ours = [
    ...claimTags(claims, gitlab ? GITLAB_CLAIM_SESSION_TAGS : CLAIM_SESSION_TAGS),
    { key: ISSUER_SESSION_TAG_KEY, value: requireTagValue(args.issuer.issuer) },
  ];
  const taken = new Set(
    [...(gitlab ? GITLAB_SESSION_TAG_KEYS : BROKER_SESSION_TAG_KEYS), ISSUER_SESSION_TAG_KEY].map((key) =>
      key.toLowerCase(),
    ),
  );
  const operator = operatorTags(grant, taken);
  const tags = [...ours, ...operator];
  if (tags.length > STS_MAX_SESSION_TAGS) throw new BrokerError("config_invalid", "session_tag_limit");
  // STS: a transitive key must be one of the request's tags. Operator keys only; ours are transitive already.
  const operatorKeys = new Set(operator.map((tag) => tag.key.toLowerCase()));
  const extraTransitive = grant.transitiveTagKeys ?? [];
  if (extraTransitive.some((key) => !operatorKeys.has(key.toLowerCase())))
    throw new BrokerError("config_invalid", "transitive_tag_invalid");

  const { roleSessionName, sourceIdentity: identity } = await sessionIdentity(args, prefix);
  return {
    roleArn: grant.arn,
    roleSessionName,
    durationSeconds,
    sourceIdentity: identity,
    tags,
    transitiveTagKeys: [...ours.map((tag) => tag.key), ...extraTransitive],
    sessionPolicy: grant.sessionPolicyJson,
    policyArns,
    externalId: grant.externalId,
  };
}
