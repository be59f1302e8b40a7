// The claims of a verified token: checked against its issuer kind's schema (src/platforms/), read as a subject.
// Pure; no I/O; no clock. Registered claims (iss, aud, exp, iat, nbf, jti) are checked in verify.ts.
import { BrokerError } from "../errors.ts";
import { platformOf, type Claims, type ClaimsByKind, type IssuerKind } from "../platforms/index.ts";
import type { ClaimSubject } from "../platforms/platform.ts";

export type { Claims, ClaimsByKind, ClaimSubject };

/** The subject of a verified token, as its platform reads it. Pure. */
export function claimSubject(kind: IssuerKind, claims: Claims): ClaimSubject {
  return platformOf(kind).subject(claims);
}

/** Validates a verified payload against its issuer kind's schema. Throws `invalid_token` / `claims_invalid`. */
export function parseClaims<K extends IssuerKind>(kind: K, payload: unknown): ClaimsByKind[K] {
  const result = platformOf(kind).claims.safeParse(payload);
  if (!result.success) {
    // Keep only the paths and issue codes for the log: never the claim values themselves.
    const issues = result.error.issues.map((issue) => ({ path: issue.path.join("."), code: issue.code }));
    throw new BrokerError("invalid_token", "claims_invalid", { cause: { issues } });
  }
  return result.data as ClaimsByKind[K];
}
