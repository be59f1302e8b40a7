// The fake GitHub API's App authentication (docs.github.com REST "Apps", "Authenticating as a GitHub App
// installation"): App JWTs verified with the App's public key (RS256, iss = App id, at most 10 minutes ahead), and
// installation tokens as GitHub issues them: one hour, scoped to the repositories (`repository_ids` or
// `repositories`) and permissions they were asked for, never beyond the installation's; revocable
// (DELETE /installation/token); classic (`ghs_` + 36 characters) or stateless (`ghs_` + a JWT, about 520 characters)
// on demand. Reusable by any fake App (a read-only facts App, a write-capable token App). Platform-neutral.
import { jwtVerify, SignJWT } from "jose";

export const TOKEN_LIFETIME_MS = 60 * 60 * 1000;

export type PermissionLevel = "read" | "write" | "admin";

export interface InstallationToken {
  token: string;
  installationId: number;
  expiresAt: number;
  /** Repositories the token can reach; undefined: every repository of its installation. */
  repositoryIds: readonly number[] | undefined;
  permissions: Readonly<Record<string, string>>;
  stateless: boolean;
  revoked: boolean;
}

export function json(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: status === 204 ? headers : { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export const notFound = () =>
  json({ message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" }, 404);
export const badCredentials = () =>
  json({ message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" }, 401);

const LEVELS: Record<string, number> = { read: 1, write: 2, admin: 3 };

/** Whether `granted` covers `wanted` for one permission (write covers read). */
export function covers(granted: string | undefined, wanted: string): boolean {
  return granted !== undefined && (LEVELS[granted] ?? 0) >= (LEVELS[wanted] ?? Infinity);
}

export interface TokenStore {
  /** 401 answer for a missing, malformed, expired or foreign App JWT; undefined when it is valid. */
  verifyAppJwt(request: Request): Promise<Response | undefined>;
  /** Mints a token (the caller checked scope and permissions against the installation). */
  mint(
    installationId: number,
    repositoryIds: readonly number[] | undefined,
    permissions: Readonly<Record<string, string>>,
  ): Promise<InstallationToken>;
  /** The live token of a request's `Authorization` (Bearer or token), or undefined (unknown, expired, revoked). */
  tokenOf(request: Request): InstallationToken | undefined;
  /** Revokes one token (as DELETE /installation/token does). */
  revoke(token: string): void;
  /** Every token minted, oldest first. */
  readonly issued: readonly InstallationToken[];
  /** Mint stateless tokens (`ghs_` + JWT) from now on. */
  stateless: boolean;
}

export function createTokenStore(options: { appId: string; appPublicKey: CryptoKey; now: () => number }): TokenStore {
  const tokens = new Map<string, InstallationToken>();
  const issued: InstallationToken[] = [];
  const statelessKey = crypto.getRandomValues(new Uint8Array(32));
  let stateless = false;

  /** A stateless token: what GitHub encodes in it (installation, repositories, permissions, expiry), signed. */
  async function statelessToken(
    installationId: number,
    repositoryIds: readonly number[] | undefined,
    permissions: Readonly<Record<string, string>>,
    expiresAt: number,
  ): Promise<string> {
    const jwt = await new SignJWT({
      installation_id: installationId,
      repository_ids: repositoryIds ?? "all",
      permissions,
      app_id: Number(options.appId),
      token_type: "installation",
    })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer("https://github.com")
      .setSubject(`installation:${installationId}`)
      .setIssuedAt(Math.floor(options.now() / 1000))
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .setJti(crypto.randomUUID())
      .sign(statelessKey);
    return `ghs_${jwt}`;
  }

  return {
    get issued() {
      return issued;
    },
    get stateless() {
      return stateless;
    },
    set stateless(value: boolean) {
      stateless = value;
    },
    async verifyAppJwt(request) {
      const match = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "");
      const unauthorized = json(
        { message: "A JSON web token could not be decoded", documentation_url: "https://docs.github.com/rest" },
        401,
      );
      if (match === null) return unauthorized;
      try {
        const { payload, protectedHeader } = await jwtVerify(match[1] as string, options.appPublicKey, {
          algorithms: ["RS256"],
          currentDate: new Date(options.now()),
          clockTolerance: 0,
        });
        const nowSeconds = Math.floor(options.now() / 1000);
        if (protectedHeader.alg !== "RS256" || String(payload.iss) !== options.appId) return unauthorized;
        if (
          typeof payload.iat !== "number" ||
          typeof payload.exp !== "number" ||
          payload.exp > nowSeconds + 600 ||
          payload.iat > nowSeconds + 60
        ) {
          return json({ message: "'Expiration time' claim ('exp') is too far in the future" }, 401);
        }
      } catch {
        return unauthorized;
      }
      return undefined;
    },
    async mint(installationId, repositoryIds, permissions) {
      const expiresAt = options.now() + TOKEN_LIFETIME_MS;
      const token = stateless
        ? await statelessToken(installationId, repositoryIds, permissions, expiresAt)
        : `ghs_${crypto.randomUUID().replaceAll("-", "").slice(0, 36).padEnd(36, "0")}`;
      const entry: InstallationToken = {
        token,
        installationId,
        expiresAt,
        repositoryIds,
        permissions,
        stateless,
        revoked: false,
      };
      tokens.set(token, entry);
      issued.push(entry);
      return entry;
    },
    tokenOf(request) {
      const match = /^(?:Bearer|token) (\S+)$/.exec(request.headers.get("authorization") ?? "");
      const entry = match === null ? undefined : tokens.get(match[1] as string);
      return entry === undefined || entry.revoked || entry.expiresAt <= options.now() ? undefined : entry;
    },
    revoke(token) {
      const entry = tokens.get(token);
      if (entry !== undefined) entry.revoked = true;
    },
  };
}
