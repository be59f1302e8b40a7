// The inline policy that revokes sessions already issued, as AWS documents it ("Revoking IAM role temporary security
// credentials", "Disabling permissions for temporary security credentials"): Deny `*` on `*` when
// `aws:TokenIssueTime` is before a cutoff, narrowed to the broker's sessions for one subject by their session tags
// (`aws:PrincipalTag/<key>`, the keys and escaped values of ../../aws/session-subject-tags.ts). The condition reads
// the same in both STS modes: AssumeRole passes the tags, AssumeRoleWithWebIdentity takes them from the broker's
// token (`https://aws.amazon.com/tags`). Pure; no I/O; no clock.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_disable-perms.html
import { SUBJECT_TAG_KEYS, subjectTagValue } from "../../aws/session-subject-tags.ts";
import type { IssuerKind } from "../../platforms/index.ts";
import type { RevokeSubject } from "./targets.ts";

/** Every revocation policy's name starts with this: one fixed name per (issuer, subject), so a rerun replaces it. */
export const REVOKE_POLICY_NAME_PREFIX = "ci-credential-broker-revoke-";
/** The statement id; `cutoffOf` finds an attached policy's cutoff by it. */
export const REVOKE_STATEMENT_SID = "RevokeCiCredentialBrokerSessions";
/**
 * Hex characters of SHA-256(issuer, kind, subject) in the name: the readable slug may be cut, the hash keeps names
 * apart.
 */
const POLICY_NAME_HASH_HEX_CHARS = 16;
/** Longest readable slug in a name: prefix + slug + `-` + hash stays within IAM's 128 characters. */
const POLICY_NAME_SLUG_MAX_CHARS = 64;
/** Characters an IAM policy document may hold (IAM quotas, "IAM name requirements"). */
const POLICY_DOCUMENT_CHAR = /^[\u0020-\u00FF]$/u;

export interface DenyPolicyInput {
  kind: IssuerKind;
  /** The issuer's exact `iss` URL: the `Issuer` tag its sessions carry. */
  issuerUrl: string;
  subject: RevokeSubject;
  cutoffMs: number;
}

/** One condition of the statement, for the explanation the CLI prints. */
export interface DenyCondition {
  operator: "DateLessThan" | "StringEquals" | "StringEqualsIgnoreCase" | "StringLike";
  key: string;
  value: string;
}

export interface DenyPolicy {
  name: string;
  /** Compact JSON: what is attached, and what counts against the role's inline-policy quota. */
  document: string;
  conditions: DenyCondition[];
}

/** Why a subject value can never be on a session: the broker refuses to tag it. */
export class UntaggableSubjectError extends Error {
  constructor(what: string) {
    super(
      `no session can carry this ${what}: the broker refuses to tag it (session_tag_unrepresentable), so it never issued one`,
    );
    this.name = "UntaggableSubjectError";
  }
}

/**
 * `2026-11-25T12:01:19Z`: whole seconds, rounded up (a later cutoff only denies more), as IAM's date conditions take
 * it.
 */
export function formatCutoff(ms: number): string {
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");
}

/** An ISO 8601 date-time with a zone (`Z` or `±hh:mm`), as ms since the epoch; undefined otherwise. */
export function parseCutoff(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Characters IAM counts against its size quotas: white space is not counted. */
export function countedPolicyChars(document: string): number {
  return document.replace(/\s/g, "").length;
}

/**
 * The condition on one name tag. Names compare case-insensitively (GitHub and GitLab treat them so; the tag holds the
 * issuer's spelling, the operator may type another). A character an IAM policy cannot hold (above U+00FF) becomes
 * StringLike's `?`: it matches more, never less, and the escaped tag value never contains `*` or `?` itself.
 */
function nameCondition(key: string, claimValue: string, what: string): DenyCondition {
  const value = subjectTagValue(claimValue);
  if (value === undefined) throw new UntaggableSubjectError(what);
  const chars = [...value];
  if (chars.every((char) => POLICY_DOCUMENT_CHAR.test(char))) return { operator: "StringEqualsIgnoreCase", key, value };
  return {
    operator: "StringLike",
    key,
    value: chars.map((char) => (POLICY_DOCUMENT_CHAR.test(char) ? char : "?")).join(""),
  };
}

/** The conditions, in the order the statement lists them: cutoff, issuer, then the subject's name tags. */
export function denyConditions(input: DenyPolicyInput): DenyCondition[] {
  const keys = SUBJECT_TAG_KEYS[input.kind];
  const issuer = subjectTagValue(input.issuerUrl);
  if (issuer === undefined) throw new UntaggableSubjectError("issuer");
  const conditions: DenyCondition[] = [
    { operator: "DateLessThan", key: "aws:TokenIssueTime", value: formatCutoff(input.cutoffMs) },
    { operator: "StringEquals", key: `aws:PrincipalTag/${keys.issuer}`, value: issuer },
  ];
  if (input.subject.repository !== undefined)
    conditions.push(
      nameCondition(
        `aws:PrincipalTag/${keys.repository}`,
        input.subject.repository,
        input.kind === "gitlab" ? "project" : "repository",
      ),
    );
  if (input.subject.actor !== undefined)
    conditions.push(
      nameCondition(`aws:PrincipalTag/${keys.actor}`, input.subject.actor, input.kind === "gitlab" ? "user" : "actor"),
    );
  return conditions;
}

/** The policy document: one Deny statement whose conditions must all hold (IAM ANDs operators and keys). */
export function denyDocument(conditions: readonly DenyCondition[]): string {
  const condition: Record<string, Record<string, string>> = {};
  for (const { operator, key, value } of conditions) {
    condition[operator] ??= {};
    condition[operator][key] = value;
  }
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Sid: REVOKE_STATEMENT_SID, Effect: "Deny", Action: "*", Resource: "*", Condition: condition }],
  });
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * `ci-credential-broker-revoke-<slug>-<hash>`: the slug (`acme.app`, `@octocat`, `acme.app@octocat`) for people, the
 * hash of issuer, kind and lower-cased subject so that two subjects or two issuers never share a name, and the same
 * ones always do (a rerun replaces its policy; IAM names allow `[\w+=,.@-]`).
 */
export async function denyPolicyName(input: Pick<DenyPolicyInput, "kind" | "issuerUrl" | "subject">): Promise<string> {
  const { repository, actor } = input.subject;
  const slug = `${repository?.replaceAll("/", ".") ?? ""}${actor === undefined ? "" : `@${actor}`}`
    .replace(/[^\w+=,.@-]/g, "_")
    .slice(0, POLICY_NAME_SLUG_MAX_CHARS);
  const hash = await sha256Hex(
    [input.issuerUrl, input.kind, repository?.toLowerCase() ?? "", actor?.toLowerCase() ?? ""].join("\n"),
  );
  return `${REVOKE_POLICY_NAME_PREFIX}${slug}-${hash.slice(0, POLICY_NAME_HASH_HEX_CHARS)}`;
}

export async function buildDenyPolicy(input: DenyPolicyInput): Promise<DenyPolicy> {
  const conditions = denyConditions(input);
  return { name: await denyPolicyName(input), document: denyDocument(conditions), conditions };
}

/** The cutoff of a revocation policy already attached (read back with GetRolePolicy), or undefined if it is not one. */
export function cutoffOf(document: string): number | undefined {
  try {
    const policy = JSON.parse(document) as {
      Statement?: Array<{ Sid?: unknown; Condition?: { DateLessThan?: Record<string, unknown> } }>;
    };
    const statement = policy.Statement?.find((entry) => entry.Sid === REVOKE_STATEMENT_SID);
    const value = statement?.Condition?.DateLessThan?.["aws:TokenIssueTime"];
    return typeof value === "string" ? parseCutoff(value) : undefined;
  } catch {
    return undefined;
  }
}
