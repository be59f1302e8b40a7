// The session tags that say whose session it is: the repository (project), the actor (user) and the issuer, per
// issuer kind, read from the tables buildAssumeRoleInput (./session.ts) tags sessions with, so a policy conditioning
// on them (`npm run revoke`'s deny) can never name a key or a value form the broker does not set. Pure; no I/O.
import type { IssuerKind } from "../oidc/issuers.ts";
import { CLAIM_SESSION_TAGS, GITLAB_CLAIM_SESSION_TAGS, ISSUER_SESSION_TAG_KEY, tagValue } from "./session.ts";

export interface SubjectTagKeys {
  /** `Repository` (GitHub) or `Project` (GitLab). */
  repository: string;
  /** `Actor` (GitHub) or `User` (GitLab). */
  actor: string;
  /** `Issuer`: the token's exact `iss`, on every session. */
  issuer: string;
}

function keyOf(table: ReadonlyArray<{ key: string; claim: string }>, claim: string): string {
  const entry = table.find((tag) => tag.claim === claim);
  if (entry === undefined) throw new Error(`no session tag carries the ${claim} claim`);
  return entry.key;
}

/** The subject's tag keys per kind, from the claims they carry: GitHub `repository`/`actor`, GitLab `project_path`/`user_login`. */
export const SUBJECT_TAG_KEYS: Readonly<Record<IssuerKind, SubjectTagKeys>> = {
  github: {
    repository: keyOf(CLAIM_SESSION_TAGS, "repository"),
    actor: keyOf(CLAIM_SESSION_TAGS, "actor"),
    issuer: ISSUER_SESSION_TAG_KEY,
  },
  gitlab: {
    repository: keyOf(GITLAB_CLAIM_SESSION_TAGS, "project_path"),
    actor: keyOf(GITLAB_CLAIM_SESSION_TAGS, "user_login"),
    issuer: ISSUER_SESSION_TAG_KEY,
  },
};

/**
 * A claim value as the broker writes it into a session tag (escaped losslessly, `tagValue`), or undefined when the
 * broker refuses to tag it (too long once escaped, or a lone surrogate): then no session can carry it.
 */
export function subjectTagValue(claimValue: string): string | undefined {
  return tagValue(claimValue);
}
