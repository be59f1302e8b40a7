// The fake GitHub API's Apps (docs.github.com REST "Apps"): each App has its key, its granted permissions, its
// installations (one per owner) and its own tokens (fake-github-tokens.ts). The broker has two: the read-only facts App
// and the write-capable token App. Installation lookups by repository, organization or user; installation tokens
// scoped by `repository_ids` or `repositories` and permissions, never beyond the installation's; and, for the test
// that the broker refuses it, a switch that makes GitHub answer (and mint) wider than asked. Platform-neutral.
import {
  covers,
  createTokenStore,
  json,
  notFound,
  type InstallationToken,
  type TokenStore,
} from "./fake-github-tokens.ts";

export interface FakeRepository {
  id: number;
  fullName: string;
  /** In the facts App's installation. */
  installed: boolean;
  commits: Set<string>;
}

export interface FakeAppOptions {
  appId: string;
  appPublicKey: CryptoKey;
  /** Repository permissions the App was granted. */
  permissions: Readonly<Record<string, string>>;
}

/** What a test may make the token endpoint answer beyond the request: more permissions, or every repository. */
export interface Widening {
  permissions?: Readonly<Record<string, string>>;
  allRepositories?: boolean;
}

export interface FakeApp {
  appId: string;
  store: TokenStore;
  granted: Readonly<Record<string, string>>;
  /** The App's installation on the repository's owner, when the repository is in it. */
  installationOf(fullName: string): number | undefined;
  /** The App's installation on an owner (organization or user). */
  ownerInstallation(owner: string): number | undefined;
  /** Repositories in the installation. */
  repositoriesOf(installationId: number): FakeRepository[];
  hasInstallation(installationId: number): boolean;
}

const key = (name: string) => name.toLowerCase();
const ownerOf = (fullName: string) => key(fullName.split("/")[0] as string);

/**
 * An App over the fake's repositories. `installedOn` says whether a repository is in the App's installation of its
 * owner; `installations` maps owners to installation ids (shared with the fake, which re-installs).
 */
export function createFakeApp(
  options: FakeAppOptions & { now: () => number },
  repositories: ReadonlyMap<string, FakeRepository>,
  installations: Map<string, number>,
  installedOn: (repository: FakeRepository) => boolean,
): FakeApp {
  const store = createTokenStore({ appId: options.appId, appPublicKey: options.appPublicKey, now: options.now });
  const installationOf = (fullName: string) => {
    const target = repositories.get(key(fullName));
    return target === undefined || !installedOn(target) ? undefined : installations.get(ownerOf(fullName));
  };
  return {
    appId: options.appId,
    store,
    granted: options.permissions,
    installationOf,
    ownerInstallation: (owner) => installations.get(key(owner)),
    repositoriesOf: (installationId) =>
      [...repositories.values()].filter((r) => installationOf(r.fullName) === installationId),
    hasInstallation: (installationId) => [...installations.values()].includes(installationId),
  };
}

/** The App whose JWT signs the request, or the 401 GitHub answers when none does. */
export async function appOfRequest(apps: readonly FakeApp[], request: Request): Promise<FakeApp | Response> {
  let denied: Response | undefined;
  for (const app of apps) {
    const refused = await app.store.verifyAppJwt(request);
    if (refused === undefined) return app;
    denied ??= refused;
  }
  return denied as Response;
}

/** The live installation token of a request, with its App. */
export function tokenOfRequest(
  apps: readonly FakeApp[],
  request: Request,
): { app: FakeApp; token: InstallationToken } | undefined {
  for (const app of apps) {
    const token = app.store.tokenOf(request);
    if (token !== undefined) return { app, token };
  }
  return undefined;
}

const unprocessable = (message: string) =>
  json({ message, documentation_url: "https://docs.github.com/rest", status: "422" }, 422);

/**
 * POST /app/installations/{id}/access_tokens: scoped by `repository_ids` or `repositories`, never beyond the
 * installation (unless `widen`).
 */
export async function accessToken(
  app: FakeApp,
  request: Request,
  installationId: number,
  widen: Widening | null,
): Promise<Response> {
  const inInstallation = app.repositoriesOf(installationId);
  if (inInstallation.length === 0 && !app.hasInstallation(installationId)) return notFound();
  const body = (await request.json().catch(() => ({}))) as {
    repository_ids?: unknown;
    repositories?: unknown;
    permissions?: Record<string, string>;
  };
  let scope: FakeRepository[] | undefined;
  if (body.repository_ids !== undefined || body.repositories !== undefined) {
    const ids = Array.isArray(body.repository_ids) ? body.repository_ids : [];
    const names = Array.isArray(body.repositories) ? body.repositories : [];
    scope = inInstallation.filter(
      (r) =>
        ids.includes(r.id) ||
        names.some((n) => typeof n === "string" && key(n) === key(r.fullName.split("/")[1] as string)),
    );
    if (scope.length !== ids.length + names.length)
      return unprocessable(
        "There is at least one repository that does not exist or is not accessible to the parent installation.",
      );
  }
  // An installation token can never exceed what the App was granted (GitHub answers 422); without a body it gets all of
  // it.
  let permissions: Record<string, string> = { ...(body.permissions ?? app.granted) };
  for (const [name, level] of Object.entries(permissions)) {
    if (!covers(app.granted[name], level))
      return unprocessable("The permissions requested are not granted to this installation.");
  }
  if (widen !== null) {
    permissions = { ...permissions, ...widen.permissions };
    if (widen.allRepositories === true) scope = undefined;
  }
  const token = await app.store.mint(
    installationId,
    scope?.map((r) => r.id),
    permissions,
  );
  const repositoriesJson = scope?.map((r) => ({ id: r.id, name: r.fullName.split("/")[1], full_name: r.fullName }));
  return json(
    {
      token: token.token,
      expires_at: new Date(token.expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
      permissions,
      repository_selection: scope === undefined ? "all" : "selected",
      ...(repositoriesJson === undefined ? {} : { repositories: repositoriesJson }),
    },
    201,
  );
}
