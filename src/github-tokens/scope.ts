// What a grant's installation token is requested with, and the check that GitHub's answer is not wider than that.
// Pure; no I/O; no clock. GitHub docs: "Create an installation access token for an app" (repositories by name,
// permissions by name and level; the answer lists both).
import type { GithubTokenGrant } from "../policy/github-tokens.ts";

/** GitHub adds `metadata: read` to every installation token; asking for it keeps the request and the answer equal. */
export const METADATA_READ = { metadata: "read" } as const;

/** The body of POST /app/installations/{id}/access_tokens for `grant`: exactly its repositories and permissions. */
export function accessTokenRequest(grant: GithubTokenGrant): {
  repositories: string[];
  permissions: Record<string, string>;
} {
  return {
    repositories: [...grant.repositories],
    permissions: { ...(grant.permissions as Record<string, string>), ...METADATA_READ },
  };
}

/** What GitHub's answer says the token reaches. */
export interface GrantedScope {
  permissions: Readonly<Record<string, string>>;
  /** `repository_selection`: "selected" unless GitHub gave every repository of the installation. */
  repositorySelection: string | undefined;
  /** Bare names of `repositories` in the answer; undefined when the answer lists none. */
  repositories: readonly string[] | undefined;
}

const LEVEL_RANK: Readonly<Record<string, number>> = { read: 1, write: 2, admin: 3 };

/**
 * Why the answer is wider than `asked` (a permission not asked for, a level above the one asked, a repository not
 * asked for, or every repository), or undefined when it is not. An answer that does not say which repositories it
 * reaches is wider: it cannot be shown not to be. Repository names compare without case, as GitHub's do.
 */
export function widerThanAsked(
  asked: ReturnType<typeof accessTokenRequest>,
  granted: GrantedScope,
): string | undefined {
  for (const [name, level] of Object.entries(granted.permissions)) {
    const wanted = asked.permissions[name];
    if (wanted === undefined) return `permission ${name} not asked for`;
    if ((LEVEL_RANK[level] ?? Infinity) > (LEVEL_RANK[wanted] ?? 0))
      return `permission ${name}: ${level} above ${wanted}`;
  }
  if (granted.repositorySelection !== "selected") return "every repository of the installation";
  if (granted.repositories === undefined) return "repositories not listed";
  const names = new Set(asked.repositories.map((name) => name.toLowerCase()));
  const extra = granted.repositories.find((name) => !names.has(name.toLowerCase()));
  return extra === undefined ? undefined : `repository ${extra} not asked for`;
}

/** `name:level` pairs, sorted and comma-separated: the audit form of a token's permissions. */
export function permissionList(permissions: Readonly<Record<string, string>>): string {
  return Object.entries(permissions)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, level]) => `${name}:${level}`)
    .join(",");
}
