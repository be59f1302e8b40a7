// The CI platforms the broker knows, by issuer kind (the `kind` of an ISSUERS entry and of a policy's `issuers`).
// Pure data. A new platform is one module (platform.ts says what it provides) and one line here.
import { github, type GitHubClaims } from "./github.ts";
import { gitlab, type GitLabClaims } from "./gitlab.ts";
import type { CiPlatform } from "./platform.ts";

/**
 * Issuer kinds we know the claim schema of. A kind fixes claim types, the guards that apply and session naming.
 * - `github`: GitHub Actions on github.com (`https://token.actions.githubusercontent.com`), an enterprise with a
 *   customised issuer (`https://token.actions.githubusercontent.com/<enterprise-slug>`), GHE.com, and GitHub
 *   Enterprise Server (`https://<host>/_services/token`): one claim schema, different `iss`.
 *   https://docs.github.com/en/actions/reference/security/oidc
 * - `gitlab`: GitLab CI/CD `id_tokens` (gitlab.com or a self-managed instance; `iss` is the instance URL).
 *   https://docs.gitlab.com/ci/secrets/id_token_authentication/
 */
const PLATFORMS = { github, gitlab } as const;

export type IssuerKind = keyof typeof PLATFORMS;
/** Every kind, in registry order (what error messages and docs list). */
export const ISSUER_KINDS = Object.keys(PLATFORMS) as readonly IssuerKind[];

/** Claims by issuer kind: what a policy rule's `when` predicate receives. */
export type ClaimsByKind = {
  [K in IssuerKind]: (typeof PLATFORMS)[K] extends CiPlatform<infer C> ? C : never;
};
/** Claims of a verified token; which member is fixed by the issuer's kind (`VerifiedToken.issuer.kind`). */
export type Claims = ClaimsByKind[IssuerKind];

/** The platform of an issuer kind. */
export function platformOf(kind: IssuerKind): CiPlatform<Claims> {
  return PLATFORMS[kind] as CiPlatform<Claims>;
}

/** One value per kind, computed from each platform (tables the policy layer keys by kind). */
export function byKind<T>(
  pick: (platform: CiPlatform<Claims>, kind: IssuerKind) => T,
): Readonly<Record<IssuerKind, T>> {
  return Object.fromEntries(ISSUER_KINDS.map((kind) => [kind, pick(platformOf(kind), kind)])) as Record<IssuerKind, T>;
}

export type { GitHubClaims, GitLabClaims };
