// The GitHub App permissions a GitHub token grant may name, with the levels each accepts. Pure data; no I/O.
//
// Source: the `permissions` body parameter of "Create an installation access token for an app"
// (POST /app/installations/{installation_id}/access_tokens), which is the `app-permissions` schema of GitHub's OpenAPI
// description (github/rest-api-description, descriptions/api.github.com), as published in @octokit/openapi-types 29.0.1
// (generated from description 23.0.1). Names and levels are GitHub's, spelled exactly as that endpoint accepts them.
// The schema lists repository permissions first, then organization, user and enterprise ones: a grant's token is scoped
// to named repositories, so only the first group may appear in a grant (OWNER_WIDE_PERMISSIONS are refused).

export type GithubPermissionLevel = "read" | "write" | "admin";

/** Repository permissions and the levels GitHub accepts for each (the schema's enums). */
export const REPOSITORY_PERMISSIONS = {
  actions: ["read", "write"],
  administration: ["read", "write"],
  artifact_metadata: ["read", "write"],
  attestations: ["read", "write"],
  checks: ["read", "write"],
  code_quality: ["read", "write"],
  codespaces: ["read", "write"],
  contents: ["read", "write"],
  dependabot_secrets: ["read", "write"],
  deployments: ["read", "write"],
  discussions: ["read", "write"],
  environments: ["read", "write"],
  issues: ["read", "write"],
  merge_queues: ["read", "write"],
  metadata: ["read", "write"],
  packages: ["read", "write"],
  pages: ["read", "write"],
  pull_requests: ["read", "write"],
  repository_custom_properties: ["read", "write"],
  repository_hooks: ["read", "write"],
  repository_projects: ["read", "write", "admin"],
  secret_scanning_alerts: ["read", "write"],
  secrets: ["read", "write"],
  security_events: ["read", "write"],
  single_file: ["read", "write"],
  statuses: ["read", "write"],
  vulnerability_alerts: ["read", "write"],
  workflows: ["write"],
} as const satisfies Record<string, readonly GithubPermissionLevel[]>;

export type GithubRepositoryPermission = keyof typeof REPOSITORY_PERMISSIONS;

/**
 * Organization and enterprise permissions (`organization_*`, `enterprise_*`) and user (account) permissions of the same
 * schema. A token with one of them acts on the whole owner (its members, teams, secrets, runners...), whatever
 * repositories it names: never granted. Matched by prefix plus the names without one, so the list stays short.
 */
const OWNER_WIDE_PREFIX = /^(organization|enterprise)_/;
const OWNER_WIDE_NAMES: ReadonlySet<string> = new Set([
  "custom_properties_for_organizations",
  "members",
  "email_addresses",
  "followers",
  "git_ssh_keys",
  "gpg_keys",
  "interaction_limits",
  "profile",
  "starring",
]);

export function isOwnerWidePermission(name: string): boolean {
  return OWNER_WIDE_PREFIX.test(name) || OWNER_WIDE_NAMES.has(name);
}

/**
 * Repository permissions whose write level reaches beyond the repository's contents: a grant naming one with `write`
 * must say `dangerous: { reason }`. What each can do is in docs/github-tokens.md ("Why the dangerous permissions"):
 * administration (branch protection, rulesets), secrets and dependabot_secrets (values CI trusts), workflows (CI
 * itself), actions (workflow_dispatch, re-runs), environments (deployment protection), repository_hooks (webhooks).
 * The text stays in the docs, not here: this module is part of the Worker's bundle.
 */
export const DANGEROUS_PERMISSIONS: ReadonlySet<GithubRepositoryPermission> = new Set([
  "administration",
  "secrets",
  "dependabot_secrets",
  "workflows",
  "actions",
  "environments",
  "repository_hooks",
]);
