// Compiles the policy's `githubTokens` into GithubTokenGrants (owner, repositories and permissions checked against
// GitHub's rules and the broker's, docs/github-tokens.md) and a rule's `githubTokens` list. Pure; no I/O. Fails naming
// the grant or rule at fault.
import {
  GITHUB_TOKEN_MAX_DANGEROUS_REASON_CHARS,
  GITHUB_TOKEN_MAX_REPOSITORIES,
  GITHUB_TOKEN_MIN_DANGEROUS_REASON_CHARS,
} from "./constants.ts";
import { fail, isPlainObject } from "./compile-error.ts";
import {
  DANGEROUS_PERMISSIONS,
  isOwnerWidePermission,
  REPOSITORY_PERMISSIONS,
  type GithubPermissionLevel,
  type GithubRepositoryPermission,
} from "./github-permissions.ts";
import { ALIAS_PATTERN } from "./roles.ts";
import type { GithubTokenDefinition } from "./types.ts";

/**
 * A grant as the exchange uses it: exactly what the token is requested with (plus `metadata: read`, which GitHub always
 * grants).
 */
export interface GithubTokenGrant {
  /** The grant's name (its key in `githubTokens`): what a client asks for. */
  name: string;
  /** The account owning the repositories, as written: the installation is looked up by it. */
  owner: string;
  /** Bare repository names (no owner), as written, in declaration order; at least one. */
  repositories: readonly string[];
  /** Permission -> level, GitHub's names, as written (keys sorted). */
  permissions: Readonly<Partial<Record<GithubRepositoryPermission, GithubPermissionLevel>>>;
  /** Any `write` or `admin`: the privileged guards apply to rules granting it, as to privileged roles. */
  privileged: boolean;
  /** `dangerous.reason` when the grant has to say it (a dangerous permission with write); undefined otherwise. */
  dangerousReason: string | undefined;
}

/**
 * GitHub logins (organizations and users): letters, digits and `-`; `_` for Enterprise Managed Users' `_shortcode`
 * suffix and GHES. At most 39 characters (GitHub's limit).
 */
const OWNER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,38}$/;
/** GitHub repository names: letters, digits, `.`, `_`, `-`, at most 100 characters; `.` and `..` are not names. */
const REPOSITORY_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;
const GRANT_FIELDS = new Set<string>(["owner", "repositories", "permissions", "dangerous", "description"]);

/** The bare name of `entry` when it belongs to `owner` (GitHub compares names without case), else a compile error. */
function bareRepository(at: string, owner: string, entry: unknown): string {
  if (typeof entry !== "string") fail(at, "must be a repository name", "grant_invalid");
  const slash = entry.indexOf("/");
  const name = slash === -1 ? entry : entry.slice(slash + 1);
  if (slash !== -1 && entry.slice(0, slash).toLowerCase() !== owner.toLowerCase()) {
    fail(
      at,
      `"${entry}" is not a repository of "${owner}": a grant's token reaches one owner's repositories only (make a grant per owner)`,
      "grant_repository_foreign",
    );
  }
  if (name.includes("*"))
    fail(
      at,
      `"${entry}": repositories are exact names, never globs (a token names each repository it reaches)`,
      "grant_invalid",
    );
  if (!REPOSITORY_PATTERN.test(name))
    fail(at, `"${entry}" is not a repository name (letters, digits, . _ -, at most 100 characters)`, "grant_invalid");
  return name;
}

function compileRepositories(where: string, owner: string, value: unknown): string[] {
  const at = `${where}.repositories`;
  if (!Array.isArray(value) || value.length === 0) {
    fail(at, "must list at least one repository: a grant never reaches every repository of its owner", "grant_invalid");
  }
  if (value.length > GITHUB_TOKEN_MAX_REPOSITORIES)
    fail(at, `at most ${GITHUB_TOKEN_MAX_REPOSITORIES} repositories (GitHub's limit per token)`, "grant_invalid");
  const seen = new Set<string>();
  return value.map((entry: unknown, index) => {
    const name = bareRepository(`${at}[${index}]`, owner, entry);
    if (seen.has(name.toLowerCase())) fail(`${at}[${index}]`, `"${String(entry)}" is listed twice`, "grant_invalid");
    seen.add(name.toLowerCase());
    return name;
  });
}

function compilePermissions(
  where: string,
  value: unknown,
): Partial<Record<GithubRepositoryPermission, GithubPermissionLevel>> {
  const at = `${where}.permissions`;
  if (!isPlainObject(value) || Object.keys(value).length === 0)
    fail(at, 'must map at least one GitHub permission to its level (contents: "read")', "grant_invalid");
  const permissions: Partial<Record<GithubRepositoryPermission, GithubPermissionLevel>> = {};
  for (const name of Object.keys(value).sort()) {
    const level = value[name];
    if (isOwnerWidePermission(name))
      fail(
        `${at}.${name}`,
        "acts on the whole owner, not on the named repositories: never granted",
        "permission_owner_wide",
      );
    if (!Object.hasOwn(REPOSITORY_PERMISSIONS, name)) {
      fail(
        `${at}.${name}`,
        "is not a GitHub App repository permission (names as in GitHub's API: contents, pull_requests, issues...)",
        "permission_unknown",
      );
    }
    const levels: readonly string[] = REPOSITORY_PERMISSIONS[name as GithubRepositoryPermission];
    if (typeof level !== "string" || !levels.includes(level)) {
      fail(
        `${at}.${name}`,
        `level must be ${levels.map((l) => `"${l}"`).join(" or ")} (GitHub's levels for this permission)`,
        "permission_unknown",
      );
    }
    permissions[name as GithubRepositoryPermission] = level as GithubPermissionLevel;
  }
  return permissions;
}

/** `dangerous` must be present, with a reason, exactly when a dangerous permission is granted above read. */
function compileDangerous(
  where: string,
  permissions: Partial<Record<GithubRepositoryPermission, GithubPermissionLevel>>,
  value: unknown,
): string | undefined {
  const risky = Object.entries(permissions).filter(
    ([name, level]) => level !== "read" && DANGEROUS_PERMISSIONS.has(name as GithubRepositoryPermission),
  );
  if (risky.length === 0) {
    if (value !== undefined)
      fail(
        `${where}.dangerous`,
        "no permission of this grant is dangerous: remove the flag, so that it keeps meaning something",
        "grant_invalid",
      );
    return undefined;
  }
  const [name, level] = risky[0] as [GithubRepositoryPermission, GithubPermissionLevel];
  if (value === undefined) {
    fail(
      `${where}.permissions.${name}`,
      `${name}: "${level}" reaches beyond the repository's contents (docs/github-tokens.md): only with dangerous: { reason }`,
      "permission_dangerous",
    );
  }
  const reason = isPlainObject(value) && Object.keys(value).every((key) => key === "reason") ? value.reason : undefined;
  if (
    typeof reason !== "string" ||
    reason.trim().length < GITHUB_TOKEN_MIN_DANGEROUS_REASON_CHARS ||
    reason.length > GITHUB_TOKEN_MAX_DANGEROUS_REASON_CHARS
  ) {
    fail(
      `${where}.dangerous`,
      `must be { reason } of ${GITHUB_TOKEN_MIN_DANGEROUS_REASON_CHARS}..${GITHUB_TOKEN_MAX_DANGEROUS_REASON_CHARS} characters a reviewer can judge`,
      "permission_dangerous",
    );
  }
  return reason.trim();
}

export function compileGithubToken(name: string, def: GithubTokenDefinition): GithubTokenGrant {
  const where = `githubTokens.${name}`;
  if (!ALIAS_PATTERN.test(name)) fail(where, "grant name must match [a-z0-9][a-z0-9_-]{0,63}", "grant_invalid");
  if (!isPlainObject(def))
    fail(where, "must be { owner, repositories, permissions, dangerous?, description? }", "grant_invalid");
  for (const field of Object.keys(def))
    if (!GRANT_FIELDS.has(field)) fail(`${where}.${field}`, "unknown grant field", "grant_invalid");
  if (def.description !== undefined && typeof def.description !== "string")
    fail(`${where}.description`, "must be a string", "grant_invalid");
  const owner = def.owner as unknown;
  if (typeof owner !== "string" || !OWNER_PATTERN.test(owner))
    fail(`${where}.owner`, "must be a GitHub organization or user login", "grant_invalid");
  const repositories = compileRepositories(where, owner, def.repositories);
  const permissions = compilePermissions(where, def.permissions);
  const dangerousReason = compileDangerous(where, permissions, def.dangerous);
  const privileged = Object.values(permissions).some((level) => level !== "read");
  return { name, owner, repositories, permissions, privileged, dangerousReason };
}

/**
 * A rule's `githubTokens`: names of the policy's grants, listed once each. No aliases (unlike roles): a grant already
 * is a name clients ask for, and one name meaning different grants per repository would be hard to review.
 */
export function compileGithubTokenNames(
  where: string,
  value: unknown,
  defined: ReadonlyMap<string, GithubTokenGrant>,
): string[] {
  if (value === undefined) return [];
  const at = `${where}.githubTokens`;
  if (!Array.isArray(value) || value.length === 0)
    fail(at, "must be a non-empty list of grant names from githubTokens");
  const names: string[] = [];
  for (const name of value as unknown[]) {
    if (typeof name !== "string" || !defined.has(name))
      fail(at, `GitHub token grant "${String(name)}" is not defined in githubTokens`, "grant_undefined");
    if (names.includes(name)) fail(at, `"${name}" listed twice`);
    names.push(name);
  }
  return names;
}
