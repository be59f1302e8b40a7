// The JWT the broker mints for AssumeRoleWithWebIdentity: its claims (pure; no I/O; the clock and id come in) and
// its signature. Shapes follow AWS's documentation:
// - session tags: "Passing session tags using AssumeRoleWithWebIdentity", claim `https://aws.amazon.com/tags` with
//   `principal_tags` (each value an array of one string) and `transitive_tag_keys`
//   (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_adding-assume-role-idp);
// - source identity: claim `https://aws.amazon.com/source_identity`
//   (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html#id_credentials_temp_control-access_monitor-specify-sourceid);
// - `sub` becomes SubjectFromWebIdentityToken, 6..255 characters
//   (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html#API_AssumeRoleWithWebIdentity_ResponseElements),
//   and the `<issuer host>:sub` condition key of the role's trust policy.
import type { AssumeRoleInput } from "../aws/session.ts";
import {
  WEB_IDENTITY_AUDIENCE,
  WEB_IDENTITY_MAX_SUBJECT_CHARS,
  WEB_IDENTITY_MIN_SUBJECT_CHARS,
  WEB_IDENTITY_TOKEN_LIFETIME_SECONDS,
} from "./constants.ts";
import { BrokerError } from "../errors.ts";
import { platformOf, type IssuerKind } from "../platforms/index.ts";
import { signJwt } from "../crypto/jws.ts";
import type { SigningKey } from "./signing-keys.ts";

export const AWS_TAGS_CLAIM = "https://aws.amazon.com/tags";
export const AWS_SOURCE_IDENTITY_CLAIM = "https://aws.amazon.com/source_identity";

/** What the policy decided, as the subject names it. */
export interface DecidedSubject {
  /** Issuer id from ISSUERS (`github`, `gitlab`, `ghes`, ...), its kind and its `iss` URL. */
  issuerId: string;
  issuerKind: IssuerKind;
  issuerUrl: string;
  /** `owner/repo` (GitHub) or the project path (GitLab). */
  repository: string;
  ruleId: string;
  roleAlias: string;
}

export interface WebIdentityClaims {
  iss: string;
  sub: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
  [AWS_TAGS_CLAIM]: { principal_tags: Record<string, [string]>; transitive_tag_keys: string[] };
  [AWS_SOURCE_IDENTITY_CLAIM]: string;
}

/**
 * `repo:<owner>/<repo>:rule:<rule id>:role:<alias>` for GitHub.com; other issuers add `issuer:<id>:` in front (a
 * GHES `acme/app` is not github.com's), and GitLab says `project:` instead of `repo:` (the platform's `webIdentity`).
 * Stable: it changes only when
 * the repository, the rule or the alias does, so a trust policy can pin `<issuer host>:sub` exactly.
 * Throws `forbidden`/`web_identity_subject_invalid` when outside AWS's 6..255 characters (no silent truncation: a cut
 * subject could match another repository's trust condition).
 */
export function webIdentitySubject(decided: DecidedSubject): string {
  const { noun, unprefixedIssuer } = platformOf(decided.issuerKind).webIdentity;
  const prefix = unprefixedIssuer(decided.issuerUrl) ? "" : `issuer:${decided.issuerId}:`;
  const sub = `${prefix}${noun}:${decided.repository}:rule:${decided.ruleId}:role:${decided.roleAlias}`;
  const length = [...sub].length;
  if (length < WEB_IDENTITY_MIN_SUBJECT_CHARS || length > WEB_IDENTITY_MAX_SUBJECT_CHARS || decided.repository === "") {
    throw new BrokerError("forbidden", "web_identity_subject_invalid");
  }
  return sub;
}

/**
 * The claims of one token: issuer, subject, `aud` sts.amazonaws.com, issued now, expiring after
 * WEB_IDENTITY_TOKEN_LIFETIME_SECONDS, a fresh `jti`; the session tags and source identity of `input` (already
 * reduced to STS's alphabets and limits by src/aws/session.ts). Pure.
 */
export function webIdentityClaims(
  input: AssumeRoleInput,
  decided: DecidedSubject,
  issuer: string,
  nowMs: number,
  jti: string,
): WebIdentityClaims {
  const iat = Math.floor(nowMs / 1000);
  const principalTags: Record<string, [string]> = {};
  for (const tag of input.tags) principalTags[tag.key] = [tag.value];
  return {
    iss: issuer,
    sub: webIdentitySubject(decided),
    aud: WEB_IDENTITY_AUDIENCE,
    iat,
    exp: iat + WEB_IDENTITY_TOKEN_LIFETIME_SECONDS,
    jti,
    [AWS_TAGS_CLAIM]: { principal_tags: principalTags, transitive_tag_keys: [...input.transitiveTagKeys] },
    [AWS_SOURCE_IDENTITY_CLAIM]: input.sourceIdentity,
  };
}

/** Signs the claims with `key` (header: alg, kid, typ JWT). */
export async function signWebIdentityToken(claims: WebIdentityClaims, key: SigningKey): Promise<string> {
  return signJwt({ alg: key.alg, kid: key.kid, typ: "JWT" }, claims, key.privateKey);
}
