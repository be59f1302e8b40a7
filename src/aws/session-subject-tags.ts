// The session tags that say whose session it is: the repository (project), the actor (user) and the issuer, per
// issuer kind, read from the platforms' tables buildAssumeRoleInput (./session.ts) tags sessions with, so a policy
// conditioning on them (`npm run revoke`'s deny) can never name a key or a value form the broker does not set. Pure.
import { byKind, type IssuerKind } from "../platforms/index.ts";
import { ISSUER_SESSION_TAG_KEY, tagValue } from "./session-tags.ts";

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

/**
 * The subject's tag keys per kind, from the claims they carry (GitHub `repository`/`actor`, GitLab
 * `project_path`/`user_login`).
 */
export const SUBJECT_TAG_KEYS: Readonly<Record<IssuerKind, SubjectTagKeys>> = byKind((platform) => ({
  repository: keyOf(platform.sessionTags, platform.identity.repositoryClaim),
  actor: keyOf(platform.sessionTags, platform.identity.actorClaim),
  issuer: ISSUER_SESSION_TAG_KEY,
}));

/**
 * A claim value as the broker writes it into a session tag (escaped losslessly, `tagValue`), or undefined when the
 * broker refuses to tag it (too long once escaped, or a lone surrogate): then no session can carry it.
 */
export function subjectTagValue(claimValue: string): string | undefined {
  return tagValue(claimValue);
}
