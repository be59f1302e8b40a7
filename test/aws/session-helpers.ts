// The GitHub claims, grant and issuer the buildAssumeRoleInput tests share (session, session-tags, session-names).
import { buildAssumeRoleInput, type RoleGrant } from "../../src/aws/session.ts";
import type { GitHubSessionClaims } from "../../src/platforms/github.ts";

export const claims: GitHubSessionClaims = {
  repository: "octo-org/app",
  repository_id: "123456",
  repository_owner: "octo-org",
  repository_owner_id: "654321",
  ref: "refs/heads/main",
  sha: "0123456789abcdef0123456789abcdef01234567",
  workflow: "Deploy",
  event_name: "push",
  actor: "octocat",
  actor_id: "42",
  run_id: "9876543210",
  run_attempt: "1",
};

export function grant(overrides: Partial<RoleGrant> = {}): RoleGrant {
  return {
    alias: "deploy",
    arn: "arn:aws:iam::123456789012:role/deploy",
    maxDurationSeconds: 3600,
    sessionPolicyJson: undefined,
    sessionTags: [],
    ...overrides,
  };
}

export const GITHUB_COM = {
  id: "github",
  kind: "github" as const,
  issuer: "https://token.actions.githubusercontent.com",
};
/** The token's SHA-256 prefix, as the exchange passes it (the audit event's token_sha256). */
export const TOKEN_SHA256 = "0123456789abcdef";

export function build(
  c: GitHubSessionClaims = claims,
  g: RoleGrant = grant(),
  durationSeconds = 900,
  tokenSha256 = TOKEN_SHA256,
) {
  return buildAssumeRoleInput({ issuer: GITHUB_COM, claims: c, grant: g, durationSeconds, tokenSha256 });
}
