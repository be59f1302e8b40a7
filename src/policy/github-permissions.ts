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
 * Organization, user (account) and enterprise permissions of the same schema. A token with one of them acts on the
 * whole owner (its members, teams, secrets, runners...), whatever repositories it names: never granted.
 */
export const OWNER_WIDE_PERMISSIONS: ReadonlySet<string> = new Set([
  "custom_properties_for_organizations",
  "members",
  "organization_administration",
  "organization_custom_roles",
  "organization_custom_org_roles",
  "organization_custom_properties",
  "organization_copilot_seat_management",
  "organization_copilot_agent_settings",
  "organization_announcement_banners",
  "organization_events",
  "organization_hooks",
  "organization_personal_access_tokens",
  "organization_personal_access_token_requests",
  "organization_plan",
  "organization_projects",
  "organization_packages",
  "organization_secrets",
  "organization_self_hosted_runners",
  "organization_user_blocking",
  "email_addresses",
  "followers",
  "git_ssh_keys",
  "gpg_keys",
  "interaction_limits",
  "profile",
  "starring",
  "enterprise_custom_properties_for_organizations",
]);

/**
 * Repository permissions whose write level reaches beyond the repository's contents: a grant naming one with `write`
 * must say `dangerous: { reason }`. Each entry says what a token with it can do.
 */
export const DANGEROUS_PERMISSIONS: ReadonlyMap<GithubRepositoryPermission, string> = new Map([
  ["administration", "changes branch protection, rulesets, collaborators and settings: it can remove every guard a privileged rule relies on"],
  ["secrets", "overwrites the repository's Actions secrets, which its workflows then trust"],
  ["dependabot_secrets", "overwrites the secrets Dependabot runs with"],
  ["workflows", "rewrites .github/workflows: the repository's CI, and with it every credential its workflows obtain"],
  ["actions", "dispatches and re-runs workflows (workflow_dispatch is a trusted event), cancels runs and changes Actions settings"],
  ["environments", "changes deployment environments: their protection rules, reviewers, secrets and variables"],
  ["repository_hooks", "adds webhooks that send the repository's events to any URL"],
]);
