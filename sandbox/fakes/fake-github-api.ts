// A fake GitHub REST API (version 2022-11-28) for GitHub Apps: App JWTs and installation tokens as GitHub issues them
// (fake-github-tokens.ts: scoped to repositories and permissions; a token for repository A answers 404 for B),
// workflow runs, their jobs and check runs (fake-github-actions.ts), commit -> pull requests, pull requests, reviews
// (with `author_association` and `user.type`), collaborator permissions, branch rules of rulesets; Link pagination;
// rate-limit headers and primary/secondary limits; 404 where the App is not installed; 403 "Resource not accessible
// by integration" for an endpoint the token's permissions do not cover. Documented behaviour mirrored: docs.github.com
// REST "Apps", "Check runs", "Commits", "Pulls", "Reviews", "Workflow runs", "Workflow jobs", "Collaborators",
// "Rules", "Rate limits for the REST API", "Using pagination", "Permissions required for GitHub Apps". Call counters
// per endpoint. Platform-neutral (workerd and Node).
import {
  checkRunJson,
  checkRunsOf,
  GITHUB_ACTIONS_APP,
  jobJson,
  latestJobs,
  runState,
  workflowRunJson,
  type FakeCheckRun,
  type FakeWorkflowRun,
  type JobInput,
} from "./fake-github-actions.ts";
import { createPeople } from "./fake-github-people.ts";
import { injected, page, RATE_LIMIT, rateLimitHeaders } from "./fake-github-http.ts";
import {
  accessToken,
  appOfRequest,
  createFakeApp,
  tokenOfRequest,
  type FakeApp,
  type FakeRepository,
  type Widening,
} from "./fake-github-apps.ts";
import { badCredentials, covers, json, notFound } from "./fake-github-tokens.ts";
import {
  DEFAULT_APP_PERMISSIONS,
  PERMISSION_OF,
  type Endpoint,
  type FakeBranchRule,
  type FakeGitHub,
  type FakeGitHubOptions,
  type GitHubFault,
  type RepositoryEndpoint,
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

export function createFakeGitHub(options: FakeGitHubOptions): FakeGitHub {
  const basePath = options.basePath ?? "";
  const maxPageSize = options.maxPageSize ?? 100;
  const repositories = new Map<string, FakeRepository>();
  const installations = new Map<string, number>();
  /** The token App's installations (one per owner) and the repositories left out of them. */
  const tokenInstallations = new Map<string, number>();
  const outsideTokenApp = new Set<string>();
  /** Accounts that are users, not organizations (GET /orgs/{org}/installation answers 404 for them). */
  const users = new Set<string>();
  let widening: Widening | null = null;
  const runs: FakeWorkflowRun[] = [];
  const createdCheckRuns: FakeCheckRun[] = [];
  const people = createPeople();
  const branchRules = new Map<string, readonly FakeBranchRule[]>();
  const factsApp = createFakeApp(
    { ...options, permissions: options.appPermissions ?? DEFAULT_APP_PERMISSIONS },
    repositories,
    installations,
    (r) => r.installed,
  );
  const store = factsApp.store;
  const tokenApp =
    options.tokenApp === undefined
      ? undefined
      : createFakeApp(
          { ...options.tokenApp, now: options.now },
          repositories,
          tokenInstallations,
          (r) => !outsideTokenApp.has(r.fullName.toLowerCase()),
        );
  const apps: FakeApp[] = tokenApp === undefined ? [factsApp] : [factsApp, tokenApp];
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
  let fault: { fault: GitHubFault; endpoint: Endpoint | undefined; times: number } | null = null;
  let rateRemaining = RATE_LIMIT;
  let nextId = 1000;
  /** A fresh installation's id (GitHub gives a new one when the App is installed again after being uninstalled). */
  let nextInstallationId = 9_000_000;
  const key = (name: string) => name.toLowerCase();
  const repo = (fullName: string) => repositories.get(key(fullName));
  const ownerOf = (fullName: string) => key(fullName.split("/")[0] as string);

  const rateHeaders = () => rateLimitHeaders(options.now(), rateRemaining);

  /** An installation token for `fullName`: 401 when unknown, expired or revoked; 404 when the repository is outside its scope; 403 without the endpoint's permission. */
  function verifyToken(request: Request, fullName: string, endpoint: RepositoryEndpoint): Response | undefined {
    const held = tokenOfRequest(apps, request);
    if (held === undefined) return badCredentials();
    const { app, token } = held;
    const target = repo(fullName);
    if (target === undefined || app.installationOf(fullName) !== token.installationId) return notFound();
    if (token.repositoryIds !== undefined && !token.repositoryIds.includes(target.id)) return notFound();
    if (!covers(token.permissions[PERMISSION_OF[endpoint]], "read")) {
      return json(
        {
          message: "Resource not accessible by integration",
          documentation_url: "https://docs.github.com/rest",
          status: "403",
        },
        403,
        rateHeaders(),
      );
    }
    rateRemaining -= 1;
    if (rateRemaining < 0)
      return json(
        { message: `API rate limit exceeded for installation ID ${token.installationId}.` },
        403,
        rateHeaders(),
      );
    return undefined;
  }

  function endpointOf(method: string, path: string): { endpoint: Endpoint; params: string[] } | undefined {
    const routes: Array<[string, RegExp, Endpoint]> = [
      ["GET", /^\/repos\/([^/]+\/[^/]+)\/installation$/, "installation"],
      ["GET", /^\/orgs\/([^/]+)\/installation$/, "org_installation"],
      ["GET", /^\/users\/([^/]+)\/installation$/, "user_installation"],
      ["POST", /^\/app\/installations\/(\d+)\/access_tokens$/, "access_tokens"],
      ["DELETE", /^\/installation\/token$/, "revoke_token"],
      ["GET", /^\/repos\/([^/]+\/[^/]+)\/commits\/([^/]+)\/check-runs$/, "check_runs"],
      ["GET", /^\/repos\/([^/]+\/[^/]+)\/commits\/([^/]+)\/pulls$/, "commit_pulls"],
      ["GET", /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)\/reviews$/, "reviews"],
      ["GET", /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)$/, "pull"],
      ["GET", /^\/repos\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)\/jobs$/, "jobs"],
      ["GET", /^\/repos\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)$/, "workflow_run"],
      ["GET", /^\/repos\/([^/]+\/[^/]+)\/actions\/runs$/, "workflow_runs"],
      ["GET", /^\/repos\/([^/]+\/[^/]+)\/collaborators\/([^/]+)\/permission$/, "collaborator_permission"],
      ["GET", /^\/repos\/([^/]+\/[^/]+)\/rules\/branches\/(.+)$/, "branch_rules"],
      ["GET", /^\/repos\/([^/]+\/[^/]+)$/, "repository"],
    ];
    for (const [routeMethod, pattern, endpoint] of routes) {
      const match = pattern.exec(path);
      if (match !== null && routeMethod === method) return { endpoint, params: match.slice(1).map(decodeURIComponent) };
    }
    return undefined;
  }

  const apiBase = (url: URL) => `${url.origin}${basePath}`;
  const runsOf = (fullName: string) => runs.filter((run) => key(run.repository) === key(fullName));
  const noCommit = (sha: string, headers: Record<string, string>) =>
    json(
      { message: `No commit found for SHA: ${sha}`, documentation_url: "https://docs.github.com/rest" },
      422,
      headers,
    );

  async function serve(request: Request, endpoint: Endpoint, params: string[], url: URL): Promise<Response> {
    if (
      endpoint === "installation" ||
      endpoint === "org_installation" ||
      endpoint === "user_installation" ||
      endpoint === "access_tokens"
    ) {
      const app = await appOfRequest(apps, request);
      if (app instanceof Response) return app;
      if (endpoint === "access_tokens")
        return accessToken(app, request, Number(params[0]), app === tokenApp ? widening : null);
      const owner = params[0] as string;
      const id =
        endpoint === "installation"
          ? app.installationOf(owner)
          : endpoint === "org_installation" && users.has(key(owner))
            ? undefined
            : app.ownerInstallation(owner);
      if (id === undefined) return notFound();
      const targetType = users.has(key(owner.split("/")[0] as string)) ? "User" : "Organization";
      return json(
        {
          id,
          app_id: Number(app.appId),
          target_type: targetType,
          permissions: app.granted,
          repository_selection: "selected",
        },
        200,
      );
    }
    if (endpoint === "revoke_token") {
      const held = tokenOfRequest(apps, request);
      if (held === undefined) return badCredentials();
      held.app.store.revoke(held.token.token);
      return json(null, 204);
    }
    const fullName = params[0] as string;
    const denied = verifyToken(request, fullName, endpoint);
    if (denied !== undefined) return denied;
    const target = repo(fullName) as { id: number; fullName: string; commits: Set<string> };
    const self = { id: target.id, fullName: target.fullName };
    const headers = rateHeaders();
    const list = <T>(items: T[], wrap?: (slice: T[]) => unknown) => {
      const { slice, link } = page(url, items, maxPageSize);
      return json(wrap === undefined ? slice : wrap(slice), 200, { ...headers, ...link });
    };
    switch (endpoint) {
      case "repository":
        return json(
          { id: target.id, name: target.fullName.split("/")[1], full_name: target.fullName, private: true },
          200,
          headers,
        );
      case "workflow_run": {
        const run = runsOf(target.fullName).find((candidate) => candidate.id === Number(params[1]));
        return run === undefined
          ? notFound()
          : json(workflowRunJson(run, self, apiBase(url), options.now()), 200, headers);
      }
      case "workflow_runs": {
        const q = (name: string) => url.searchParams.get(name);
        const matching = runsOf(target.fullName)
          .filter(
            (run) =>
              (q("head_sha") ?? run.headSha) === run.headSha &&
              (q("branch") ?? run.headBranch) === run.headBranch &&
              (q("event") ?? run.event) === run.event,
          )
          .filter(
            (run) => q("status") === null || [runState(run).status, runState(run).conclusion].includes(q("status")),
          )
          // Newest first, as GitHub lists them.
          .sort((a, b) => b.id - a.id);
        return list(matching, (slice) => ({
          total_count: matching.length,
          workflow_runs: slice.map((run) => workflowRunJson(run, self, apiBase(url), options.now())),
        }));
      }
      case "jobs": {
        const run = runsOf(target.fullName).find((candidate) => candidate.id === Number(params[1]));
        if (run === undefined) return notFound();
        const jobs = (url.searchParams.get("filter") ?? "latest") === "all" ? run.jobs : latestJobs(run);
        return list(jobs, (slice) => ({
          total_count: jobs.length,
          jobs: slice.map((job) => jobJson(job, run, target.fullName, apiBase(url), options.now())),
        }));
      }
      case "check_runs": {
        const sha = params[1] as string;
        if (!target.commits.has(sha)) return noCommit(sha, headers);
        const name = url.searchParams.get("check_name");
        let all = checkRunsOf(target.fullName, sha, runs, createdCheckRuns).filter(
          (run) => name === null || run.name === name,
        );
        // filter=latest (the default): the most recent run per name and app.
        if ((url.searchParams.get("filter") ?? "latest") === "latest")
          all = all.filter(
            (run) => !all.some((other) => other.name === run.name && other.app.id === run.app.id && other.id > run.id),
          );
        return list(all, (slice) => ({ total_count: all.length, check_runs: slice.map(checkRunJson) }));
      }
      case "commit_pulls": {
        const sha = params[1] as string;
        if (!target.commits.has(sha)) return noCommit(sha, headers);
        return list(
          people
            .pullsOf(target.fullName)
            .filter((pull) => pull.commits.includes(sha) || pull.mergeCommitSha === sha)
            .map((pull) => people.pullJson(pull, target.id)),
        );
      }
      case "collaborator_permission": {
        const permission = people.permissionJson(target.fullName, params[1] as string);
        return permission === undefined ? notFound() : json(permission, 200, headers);
      }
      case "branch_rules":
        return list(
          (branchRules.get(`${key(target.fullName)}|${params[1]}`) ?? []).map((rule) => ({
            ...rule,
            ruleset_source_type: "Repository",
            ruleset_source: target.fullName,
          })),
        );
      default:
        break;
    }
    const pull = people.pullsOf(target.fullName).find((candidate) => candidate.number === Number(params[1]));
    if (pull === undefined) return notFound();
    if (endpoint === "pull") return json(people.pullJson(pull, target.id), 200, headers);
    return list(people.reviewsJson(target.fullName, pull.number));
  }

  const makeJobs = (inputs: readonly JobInput[], runAttempt: number) =>
    inputs.map((job) => ({
      id: nextId++,
      name: job.name,
      status: job.status ?? "completed",
      conclusion:
        job.conclusion === undefined
          ? (job.status ?? "completed") === "completed"
            ? "success"
            : null
          : job.conclusion,
      runAttempt,
    }));

  return {
    calls,
    get tokens() {
      return store.issued;
    },
    get tokensIssued() {
      return store.issued.length;
    },
    get tokenAppTokens() {
      return tokenApp?.store.issued ?? [];
    },
    resetCalls() {
      for (const name of Object.keys(calls) as Endpoint[]) calls[name] = 0;
    },
    async handler(request) {
      const url = new URL(request.url);
      if (!url.pathname.startsWith(basePath)) return notFound();
      const route = endpointOf(request.method, url.pathname.slice(basePath.length));
      if (route === undefined) return notFound();
      calls[route.endpoint] += 1;
      // GitHub refuses requests without a User-Agent, and unknown API versions.
      if ((request.headers.get("user-agent") ?? "") === "")
        return json(
          {
            message:
              "Request forbidden by administrative rules. Please make sure your request has a User-Agent header.",
          },
          403,
        );
      const version = request.headers.get("x-github-api-version");
      if (version !== null && version !== "2022-11-28")
        return json({ message: `Invalid API version: ${version}` }, 400);
      if (fault !== null && (fault.endpoint === undefined || fault.endpoint === route.endpoint) && fault.times > 0) {
        const current = fault.fault;
        fault.times -= 1;
        return injected(current, rateHeaders());
      }
      return serve(request, route.endpoint, route.params, url);
    },
    addRepository(fullName, id, repoOptions = {}) {
      repositories.set(key(fullName), { id, fullName, installed: repoOptions.installed ?? true, commits: new Set() });
      if (!installations.has(ownerOf(fullName))) installations.set(ownerOf(fullName), nextInstallationId++);
      if (!tokenInstallations.has(ownerOf(fullName))) tokenInstallations.set(ownerOf(fullName), nextInstallationId++);
    },
    setInstalled(fullName, installed) {
      const target = repo(fullName);
      if (target !== undefined) target.installed = installed;
    },
    reinstall(fullName) {
      const target = repo(fullName);
      if (target === undefined) return;
      target.installed = true;
      installations.set(ownerOf(fullName), nextInstallationId++);
    },
    addCommit(repository, sha) {
      repo(repository)?.commits.add(sha);
    },
    addWorkflowRun(input) {
      // Ids grow as GitHub assigns them: a run added later is newer, whatever ids were given before.
      const id = input.id ?? nextId++;
      nextId = Math.max(nextId, id + 1);
      runs.push({
        repository: input.repository,
        id,
        event: input.event,
        headSha: input.headSha,
        headBranch: input.headBranch ?? "main",
        path: input.path ?? ".github/workflows/ci.yml",
        headRepository: input.headRepository,
        runAttempt: 1,
        checkSuiteId: nextId++,
        jobs: makeJobs(input.jobs ?? [], 1),
      });
      repo(input.repository)?.commits.add(input.headSha);
      return id;
    },
    rerunWorkflowRun(runId, jobs) {
      const run = runs.find((candidate) => candidate.id === runId);
      if (run === undefined) throw new Error(`no run ${runId}`);
      const again =
        jobs ?? latestJobs(run).map((job) => ({ name: job.name, status: "queued" as const, conclusion: null }));
      run.runAttempt += 1;
      run.jobs.push(...makeJobs(again, run.runAttempt));
    },
    setJob(runId, name, status, conclusion = null) {
      const run = runs.find((candidate) => candidate.id === runId);
      const job = run === undefined ? undefined : latestJobs(run).find((candidate) => candidate.name === name);
      if (job === undefined) throw new Error(`no job ${name} in run ${runId}`);
      job.status = status;
      job.conclusion = status === "completed" ? conclusion : null;
    },
    addCheckRun(input) {
      const id = nextId++;
      // GitHub files a check run created with a workflow's GITHUB_TOKEN in an Actions suite of the commit.
      const suite =
        input.app.id === GITHUB_ACTIONS_APP.id
          ? runsOf(input.repository)
              .filter((run) => run.headSha === input.sha)
              .at(-1)?.checkSuiteId
          : undefined;
      createdCheckRuns.push({ ...input, id, checkSuiteId: suite ?? nextId++ });
      repo(input.repository)?.commits.add(input.sha);
      return id;
    },
    clearCheckRuns(repository, sha, name) {
      const here = (candidate: { repository: string }) => key(candidate.repository) === key(repository);
      for (let i = createdCheckRuns.length - 1; i >= 0; i--) {
        const run = createdCheckRuns[i] as FakeCheckRun;
        if (here(run) && run.sha === sha && (name === undefined || run.name === name)) createdCheckRuns.splice(i, 1);
      }
    },
    clearWorkflowRuns(repository, sha, path) {
      for (let i = runs.length - 1; i >= 0; i--) {
        const run = runs[i] as FakeWorkflowRun;
        if (key(run.repository) === key(repository) && run.headSha === sha && (path === undefined || run.path === path))
          runs.splice(i, 1);
      }
    },
    addPullRequest(pull) {
      people.addPullRequest(pull);
      const target = repo(pull.repository);
      for (const sha of [...pull.commits, pull.headSha, ...(pull.mergeCommitSha === null ? [] : [pull.mergeCommitSha])])
        target?.commits.add(sha);
    },
    addReview: people.addReview,
    dismissReview: people.dismissReview,
    clearReviews: people.clearReviews,
    addUser: people.addUser,
    setPermission: people.setPermission,
    setBranchRules(repository, branch, rules) {
      branchRules.set(`${key(repository)}|${branch}`, rules);
    },
    fail(next, failOptions = {}) {
      fault =
        next === null ? null : { fault: next, endpoint: failOptions.endpoint, times: failOptions.times ?? Infinity };
    },
    setRateRemaining(remaining) {
      rateRemaining = remaining;
    },
    setStatelessTokens(on) {
      for (const app of apps) app.store.stateless = on;
    },
    setTokenAppInstalled(fullName, installed) {
      if (installed) outsideTokenApp.delete(key(fullName));
      else outsideTokenApp.add(key(fullName));
    },
    setUser(login) {
      users.add(key(login));
    },
    widenTokens(next) {
      widening = next;
    },
  };
}
