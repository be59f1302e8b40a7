// RoleSessionName and SourceIdentity of a session: what CloudTrail shows and what `sts:SourceIdentity` conditions
// match. WebCrypto digest only (no I/O, no clock). Every output satisfies STS: 2..64 characters of `[\w+=,.@-]`
// (AssumeRole API reference, RoleSessionName and SourceIdentity), never starting with `aws:`.
import { SOURCE_IDENTITY_HASH_HEX_CHARS, STS_MAX_NAME_CHARS } from "./constants.ts";
import { BrokerError } from "../errors.ts";
import { sha256HexPrefix } from "../http/sha256-prefix.ts";
import { isLoopbackHttp } from "../http/trusted-url.ts";
import type { IssuerConfig, IssuerKind } from "../oidc/issuers.ts";

/** The public SaaS issuers: one account namespace each, so they keep the short prefixes `gh-` and `gl-`. */
const GITHUB_DOT_COM_ISSUER = "https://token.actions.githubusercontent.com";
const GITLAB_DOT_COM_ISSUER = "https://gitlab.com";

/**
 * Prefix of RoleSessionName and SourceIdentity, per issuer, so the same login on two issuers never yields the same
 * identity in CloudTrail or in a trust policy's `sts:SourceIdentity` condition (docs/security.md, "Session identity"):
 * - `gh-`: github.com, enterprise-slug issuers included (`.../<slug>`: the same github.com accounts);
 * - `gl-`: gitlab.com;
 * - `ghe.<issuer id>.`: any other GitHub issuer (GHES, GHE.com), each its own account namespace;
 * - `gl.<issuer id>.`: any self-managed GitLab.
 * The loopback sandbox issuer takes the SaaS prefix of its kind (it stands in for github.com or gitlab.com).
 * Issuer ids never contain `.`, so the first `.` after the kind ends the id: no two issuers share a prefix.
 */
export function identityPrefix(issuer: Pick<IssuerConfig, "id" | "kind" | "issuer">): string {
  // The loopback sandbox issuer (`npm start`) stands in for the SaaS one; a deployed Worker cannot reach loopback.
  const sandbox = URL.canParse(issuer.issuer) && isLoopbackHttp(new URL(issuer.issuer));
  if (issuer.kind === "github") {
    const dotCom = issuer.issuer === GITHUB_DOT_COM_ISSUER || issuer.issuer.startsWith(`${GITHUB_DOT_COM_ISSUER}/`);
    return dotCom || sandbox ? "gh-" : `ghe.${issuer.id}.`;
  }
  return issuer.issuer === GITLAB_DOT_COM_ISSUER || sandbox ? "gl-" : `gl.${issuer.id}.`;
}

// RoleSessionName and SourceIdentity alphabet: `[\w+=,.@-]` (AWS STS API reference, AssumeRole parameters).
// Without the `u` flag `\w` is ASCII only, as STS means it; the `u` flag makes one astral character one match.
const NOT_NAME_CHAR = /[^A-Za-z0-9_+=,.@-]/gu;
/** The readable part of a hashed SourceIdentity: the logins' own alphabet, so it never holds the separator. */
const NOT_LOGIN_CHAR = /[^A-Za-z0-9_.-]/gu;

/**
 * Logins that stand for themselves in a SourceIdentity, per issuer kind:
 * - GitHub: alphanumerics and hyphens (github.com and GHES usernames), and an App's bot account `<slug>[bot]`, written
 *   `<slug>_bot_` (a GitHub login never holds `_`, so that form cannot be anyone's login);
 * - GitLab: alphanumerics, `_`, `.` and `-` (GitLab usernames).
 */
const GITHUB_LOGIN = /^[A-Za-z0-9-]*$/;
const GITHUB_APP_BOT = /^([A-Za-z0-9-]+)\[bot\]$/;
const GITLAB_LOGIN = /^[A-Za-z0-9_.-]*$/;

/**
 * Between the readable part and the hash of a login that cannot stand as it is. STS allows it, and neither login
 * alphabet above contains it, so a SourceIdentity with it is always a hashed one and one without it never is.
 */
export const SOURCE_IDENTITY_HASH_SEPARATOR = "=";

/** With the `u` flag a surrogate pair is one code point, so this matches only unpaired surrogates. */
export const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Longest prefix of `text` that is at most `max` long, counted both in UTF-16 units and code points (STS counts
 * characters; holding to the stricter count satisfies either reading), never splitting a surrogate pair.
 */
function truncate(text: string, max: number): string {
  let out = "";
  for (const char of text) {
    if (out.length + char.length > max) break;
    out += char;
  }
  return out;
}

/** A claim value as a string: claims are typed strings, but a stage at a trust boundary does not bet on it. */
export function claimText(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function nameSafe(text: string): string {
  return text.replace(NOT_NAME_CHAR, "_");
}

/**
 * `<prefix><id>-<id>-<token hash>-<slug>`, at most 64 characters. The token's SHA-256 prefix (the audit event's
 * `token_sha256`) makes every exchange's name distinct, the jobs of one run included, and finds its audit event
 * (`npm run analytics -- token <hash>`); it is never cut. The slug is informational, so it goes last and is cut first.
 */
export function sessionName(prefix: string, ids: readonly unknown[], tokenSha256: string, slug: string): string {
  const hash = `-${nameSafe(tokenSha256)}`;
  // The prefix is ASCII and at least 3 characters, so the result always has 2..64 characters.
  const head = truncate(nameSafe(`${prefix}${ids.map(claimText).join("-")}`), STS_MAX_NAME_CHARS - hash.length);
  return truncate(`${head}${hash}${nameSafe(slug === "" ? "" : `-${slug}`)}`, STS_MAX_NAME_CHARS);
}

function plainLogin(kind: IssuerKind, login: string): string | undefined {
  if (kind === "gitlab") return GITLAB_LOGIN.test(login) ? login : undefined;
  if (GITHUB_LOGIN.test(login)) return login;
  const bot = GITHUB_APP_BOT.exec(login);
  return bot === null ? undefined : `${bot[1]}_bot_`;
}

/**
 * `<prefix><login>` (`gh-octocat`) when the login fits 64 characters and its kind's alphabet. Otherwise never cut:
 * `<prefix><readable start>=<SHA-256(login) hex>`, the hash over the whole login's UTF-8, so two logins that share
 * their first 64 characters still differ, and no plain login equals it (the separator is in no login alphabet).
 * SourceIdentity persists through role chaining and cannot be changed by the session
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html); the prefix
 * keeps it clear of the reserved `aws:`. Throws `forbidden`/`source_identity_unrepresentable` for a login with an
 * unpaired surrogate: UTF-8 cannot carry one, so two such logins could share a hash.
 */
export async function sourceIdentity(kind: IssuerKind, prefix: string, loginClaim: unknown): Promise<string> {
  const login = claimText(loginClaim);
  const plain = plainLogin(kind, login);
  if (plain !== undefined && prefix.length + plain.length <= STS_MAX_NAME_CHARS) return `${prefix}${plain}`;
  if (LONE_SURROGATE.test(login)) throw new BrokerError("forbidden", "source_identity_unrepresentable");
  const room = STS_MAX_NAME_CHARS - prefix.length - SOURCE_IDENTITY_HASH_SEPARATOR.length;
  const hashChars = Math.min(SOURCE_IDENTITY_HASH_HEX_CHARS, room);
  const readable = truncate(login.replace(NOT_LOGIN_CHAR, "_"), room - hashChars);
  return `${prefix}${readable}${SOURCE_IDENTITY_HASH_SEPARATOR}${await sha256HexPrefix(login, hashChars)}`;
}
