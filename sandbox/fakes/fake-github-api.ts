import { createFakeApp, type FakeRepository } from "./fake-github-apps.ts";
import { injected, RATE_LIMIT } from "./fake-github-http.ts";
import { createPeople } from "./fake-github-people.ts";
import { endpointOf, movedPermanently, pathById } from "./fake-github-paths.ts";
import { key, rateHeaders, serve, type FakeState } from "./fake-github-routes.ts";
import { createRunRecords } from "./fake-github-runs.ts";
import { json, notFound } from "./fake-github-tokens.ts";
import {
  DEFAULT_APP_PERMISSIONS,
  PERMISSION_OF,
  type Endpoint,
  type FakeGitHub,
  type FakeGitHubOptions,
  type GitHubFault,
} from "./fake-github-types.ts";

export { GITHUB_ACTIONS_APP, type FakeApp, type JobInput, type WorkflowRunInput } from "./fake-github-actions.ts";
export {
  EXAMPLE_FACTS,
  EXAMPLE_GRANT_REPOSITORIES,
  EXAMPLE_TOKEN_APP_PERMISSIONS,
  EXAMPLE_USERS,
  seedExampleFacts,
  SCAN_WORKFLOW,
} from "./fake-github-example.ts";
export * from "./fake-github-types.ts";

type Fault = { fault: GitHubFault; endpoint: Endpoint | undefined; times: number };

/** The fake's own state beyond what the routes read: installations of both Apps, former names, calls and the fault. */
interface Internals {
  state: FakeState;
  /** The App whose installation tokens read the facts (the token App, when set, is `state.tokenApp`). */
  factsApp: ReturnType<typeof createFakeApp>;
  installations: Map<string, number>;
  /** The token App's installations (one per owner) and the repositories left out of them. */
  tokenInstallations: Map<string, number>;
  outsideTokenApp: Set<string>;
  /** Names a repository had before it was renamed or transferred: GitHub answers 301 to its id for them. */
  formerNames: Map<string, number>;
  calls: Record<Endpoint, number>;
  fault: Fault | null;
  /** A fresh installation's id (GitHub gives a new one when the App is installed again after being uninstalled). */
  nextInstallationId: number;
}

export function createFakeGitHub(options: FakeGitHubOptions): FakeGitHub {
  const internals = createInternals(options);
  const { state, calls } = internals;
  const { people, users } = state;
  const { factsApp } = internals;
  return {
    calls,
    get tokens() {
      return factsApp.store.issued;
    },
    get tokensIssued() {
      return factsApp.store.issued.length;
    },
    get tokenAppTokens() {
      return state.tokenApp?.store.issued ?? [];
    },
    resetCalls() {
      for (const name of Object.keys(calls) as Endpoint[]) calls[name] = 0;
    },
    handler: (request) => handle(internals, request),
    ...repositoryAdmin(internals),
    ...createRunRecords(state),
    addReview: people.addReview,
    dismissReview: people.dismissReview,
    clearReviews: people.clearReviews,
    addUser: people.addUser,
    setPermission: people.setPermission,
    setBranchRules(repository, branch, rules) {
      state.branchRules.set(`${key(repository)}|${branch}`, rules);
    },
    fail(next, failOptions = {}) {
      internals.fault =
        next === null ? null : { fault: next, endpoint: failOptions.endpoint, times: failOptions.times ?? Infinity };
    },
    setRateRemaining(remaining) {
      state.rateRemaining = remaining;
    },
    setStatelessTokens(on) {
      for (const app of state.apps) app.store.stateless = on;
    },
    setTokenAppInstalled(fullName, installed) {
      if (installed) internals.outsideTokenApp.delete(key(fullName));
      else internals.outsideTokenApp.add(key(fullName));
    },
    setUser(login) {
      users.add(key(login));
    },
    widenTokens(next) {
      state.widening = next;
    },
  };
}

function createInternals(options: FakeGitHubOptions): Internals {
  const repositories = new Map<string, FakeRepository>();
  const installations = new Map<string, number>();
  const tokenInstallations = new Map<string, number>();
  const outsideTokenApp = new Set<string>();
  const factsApp = createFakeApp(
    { ...options, permissions: options.appPermissions ?? DEFAULT_APP_PERMISSIONS },
    repositories,
    installations,
    (r) => r.installed,
  );
  const tokenApp =
    options.tokenApp === undefined
      ? undefined
      : createFakeApp(
          { ...options.tokenApp, now: options.now },
          repositories,
          tokenInstallations,
          (r) => !outsideTokenApp.has(r.fullName.toLowerCase()),
        );
  const state: FakeState = {
    options,
    basePath: options.basePath ?? "",
    maxPageSize: options.maxPageSize ?? 100,
    repositories,
    users: new Set<string>(),
    runs: [],
    createdCheckRuns: [],
    people: createPeople(),
    branchRules: new Map(),
    apps: tokenApp === undefined ? [factsApp] : [factsApp, tokenApp],
    tokenApp,
    widening: null,
    rateRemaining: RATE_LIMIT,
  };
  const calls = Object.fromEntries(
    Object.keys({
      installation: 0,
      org_installation: 0,
      user_installation: 0,
      access_tokens: 0,
      revoke_token: 0,
      ...PERMISSION_OF,
    }).map((key) => [key, 0]),
  ) as Record<Endpoint, number>;
  return {
    state,
    factsApp,
    installations,
    tokenInstallations,
    outsideTokenApp,
    formerNames: new Map(),
    calls,
    fault: null,
    nextInstallationId: 9_000_000,
  };
}

/** One request as GitHub answers it: moved repositories, unknown routes, a missing User-Agent, the injected fault. */
async function handle(internals: Internals, request: Request): Promise<Response> {
  const { state, calls, fault } = internals;
  const { repositories, basePath } = state;
  const url = new URL(request.url);
  if (!url.pathname.startsWith(basePath)) return notFound();
  const moved = movedPermanently(repositories, internals.formerNames, url, basePath);
  if (moved !== undefined) return moved;
  const route = endpointOf(request.method, pathById(repositories, url.pathname.slice(basePath.length)));
  if (route === undefined) return notFound();
  calls[route.endpoint] += 1;
  // GitHub refuses requests without a User-Agent, and unknown API versions.
  if ((request.headers.get("user-agent") ?? "") === "")
    return json(
      {
        message: "Request forbidden by administrative rules. Please make sure your request has a User-Agent header.",
      },
      403,
    );
  const version = request.headers.get("x-github-api-version");
  if (version !== null && version !== "2022-11-28") return json({ message: `Invalid API version: ${version}` }, 400);
  if (fault !== null && (fault.endpoint === undefined || fault.endpoint === route.endpoint) && fault.times > 0) {
    const current = fault.fault;
    fault.times -= 1;
    return injected(current, rateHeaders(state));
  }
  return serve(state, request, route.endpoint, route.params, url);
}

/** Repositories, their installations, renames and commits, as a test sets them up. */
function repositoryAdmin(internals: Internals) {
  const { state, installations, tokenInstallations, formerNames } = internals;
  const { repositories, runs, createdCheckRuns, people } = state;
  const repo = (fullName: string) => repositories.get(key(fullName));
  const ownerOf = (fullName: string) => key(fullName.split("/")[0] as string);
  const installOwner = (installs: Map<string, number>, fullName: string) => {
    if (!installs.has(ownerOf(fullName))) installs.set(ownerOf(fullName), internals.nextInstallationId++);
  };
  return {
    addRepository(fullName, id, repoOptions = {}) {
      repositories.set(key(fullName), { id, fullName, installed: repoOptions.installed ?? true, commits: new Set() });
      installOwner(installations, fullName);
      installOwner(tokenInstallations, fullName);
    },
    setInstalled(fullName, installed) {
      const target = repo(fullName);
      if (target !== undefined) target.installed = installed;
    },
    renameRepository(fullName, newFullName) {
      const target = repo(fullName);
      if (target === undefined) throw new Error(`no repository ${fullName}`);
      repositories.delete(key(fullName));
      formerNames.set(key(fullName), target.id);
      formerNames.delete(key(newFullName));
      target.fullName = newFullName;
      repositories.set(key(newFullName), target);
      for (const record of [...runs, ...createdCheckRuns])
        if (key(record.repository) === key(fullName)) record.repository = newFullName;
      people.rename(fullName, newFullName);
      installOwner(installations, newFullName);
      installOwner(tokenInstallations, newFullName);
    },
    reinstall(fullName) {
      const target = repo(fullName);
      if (target === undefined) return;
      target.installed = true;
      installations.set(ownerOf(fullName), internals.nextInstallationId++);
    },
    addCommit(repository, sha) {
      repo(repository)?.commits.add(sha);
    },
    addPullRequest(pull) {
      people.addPullRequest(pull);
      const target = repo(pull.repository);
      for (const sha of [...pull.commits, pull.headSha, ...(pull.mergeCommitSha === null ? [] : [pull.mergeCommitSha])])
        target?.commits.add(sha);
    },
  } satisfies Partial<FakeGitHub>;
}
