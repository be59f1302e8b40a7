// The fake GitHub API's routes (fake-github-api.ts): which endpoint a method and path name, and each endpoint's answer
// from the fake's state, as docs.github.com REST documents them (Apps, Actions, Checks, Commits, Pulls, Reviews,
// Collaborators, Rules): installation tokens checked per repository and permission, Link pagination, rate-limit
// headers. Platform-neutral (workerd and Node).
import {
  checkRunJson,
  checkRunsOf,
  jobJson,
  latestJobs,
  runState,
  workflowRunJson,
  type FakeCheckRun,
  type FakeWorkflowRun,
} from "./fake-github-actions.ts";
import {
  accessToken,
  appOfRequest,
  tokenOfRequest,
  type FakeApp,
  type FakeRepository,
  type Widening,
} from "./fake-github-apps.ts";
import { page, rateLimitHeaders } from "./fake-github-http.ts";
import type { createPeople } from "./fake-github-people.ts";
import { badCredentials, covers, json, notFound } from "./fake-github-tokens.ts";
import {
  PERMISSION_OF,
  type Endpoint,
  type FakeBranchRule,
  type FakeGitHubOptions,
  type RepositoryEndpoint,
} from "./fake-github-types.ts";

/** What the routes read (and the rate limit they spend): the fake's records, shared with fake-github-api.ts. */
export interface FakeState {
  options: FakeGitHubOptions;
  basePath: string;
  maxPageSize: number;
  repositories: Map<string, FakeRepository>;
  /** Accounts that are users, not organizations (GET /orgs/{org}/installation answers 404 for them). */
  users: Set<string>;
  runs: FakeWorkflowRun[];
  createdCheckRuns: FakeCheckRun[];
  people: ReturnType<typeof createPeople>;
  branchRules: Map<string, readonly FakeBranchRule[]>;
  apps: FakeApp[];
  tokenApp: FakeApp | undefined;
  widening: Widening | null;
  rateRemaining: number;
}

export const key = (name: string) => name.toLowerCase();
export const rateHeaders = (state: FakeState) => rateLimitHeaders(state.options.now(), state.rateRemaining);
const apiBase = (state: FakeState, url: URL) => `${url.origin}${state.basePath}`;
export const runsOf = (state: FakeState, fullName: string) =>
  state.runs.filter((run) => key(run.repository) === key(fullName));
const noCommit = (sha: string, headers: Record<string, string>) =>
  json({ message: `No commit found for SHA: ${sha}`, documentation_url: "https://docs.github.com/rest" }, 422, headers);

/**
 * An installation token for `fullName`: 401 when unknown, expired or revoked; 404 when the repository is outside its
 * scope; 403 without the endpoint's permission.
 */
function verifyToken(
  state: FakeState,
  request: Request,
  fullName: string,
  endpoint: RepositoryEndpoint,
): Response | undefined {
  const held = tokenOfRequest(state.apps, request);
  if (held === undefined) return badCredentials();
  const { app, token } = held;
  const target = state.repositories.get(key(fullName));
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
      rateHeaders(state),
    );
  }
  state.rateRemaining -= 1;
  if (state.rateRemaining < 0)
    return json(
      { message: `API rate limit exceeded for installation ID ${token.installationId}.` },
      403,
      rateHeaders(state),
    );
  return undefined;
}

/** The App endpoints: installation lookups, access tokens, revocation. Undefined for a repository endpoint. */
async function serveApps(
  state: FakeState,
  request: Request,
  endpoint: Endpoint,
  params: string[],
): Promise<Response | undefined> {
  const { apps, tokenApp, users } = state;
  if (
    endpoint === "installation" ||
    endpoint === "org_installation" ||
    endpoint === "user_installation" ||
    endpoint === "access_tokens"
  ) {
    const app = await appOfRequest(apps, request);
    if (app instanceof Response) return app;
    if (endpoint === "access_tokens")
      return accessToken(app, request, Number(params[0]), app === tokenApp ? state.widening : null);
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
  return undefined;
}

/** What a repository endpoint answers with: the repository, its rate headers, and a paginated list of items. */
interface Served {
  state: FakeState;
  target: FakeRepository;
  params: string[];
  url: URL;
  headers: Record<string, string>;
  list: <T>(items: T[], wrap?: (slice: T[]) => unknown) => Response;
}

/** Workflow runs and their jobs (Actions). */
function serveRuns(served: Served, endpoint: "workflow_run" | "workflow_runs" | "jobs"): Response {
  const { state, target, params, url, headers, list } = served;
  const self = { id: target.id, fullName: target.fullName };
  const now = state.options.now();
  if (endpoint === "workflow_runs") {
    const q = (name: string) => url.searchParams.get(name);
    const matching = runsOf(state, target.fullName)
      .filter(
        (run) =>
          (q("head_sha") ?? run.headSha) === run.headSha &&
          (q("branch") ?? run.headBranch) === run.headBranch &&
          (q("event") ?? run.event) === run.event,
      )
      .filter((run) => q("status") === null || [runState(run).status, runState(run).conclusion].includes(q("status")))
      // Newest first, as GitHub lists them.
      .sort((a, b) => b.id - a.id);
    return list(matching, (slice) => ({
      total_count: matching.length,
      workflow_runs: slice.map((run) => workflowRunJson(run, self, apiBase(state, url), now)),
    }));
  }
  const run = runsOf(state, target.fullName).find((candidate) => candidate.id === Number(params[1]));
  if (run === undefined) return notFound();
  if (endpoint === "workflow_run") return json(workflowRunJson(run, self, apiBase(state, url), now), 200, headers);
  const jobs = (url.searchParams.get("filter") ?? "latest") === "all" ? run.jobs : latestJobs(run);
  return list(jobs, (slice) => ({
    total_count: jobs.length,
    jobs: slice.map((job) => jobJson(job, run, target.fullName, apiBase(state, url), now)),
  }));
}

/** A commit's check runs (filter=latest by default: the most recent run per name and app). */
function serveCheckRuns({ state, target, params, url, headers, list }: Served): Response {
  const sha = params[1] as string;
  if (!target.commits.has(sha)) return noCommit(sha, headers);
  const name = url.searchParams.get("check_name");
  let all = checkRunsOf(target.fullName, sha, state.runs, state.createdCheckRuns).filter(
    (run) => name === null || run.name === name,
  );
  if ((url.searchParams.get("filter") ?? "latest") === "latest")
    all = all.filter(
      (run) => !all.some((other) => other.name === run.name && other.app.id === run.app.id && other.id > run.id),
    );
  return list(all, (slice) => ({ total_count: all.length, check_runs: slice.map(checkRunJson) }));
}

/** Pull requests, reviews, collaborators and branch rules. */
function servePeople({ state, target, params, headers, list }: Served, endpoint: RepositoryEndpoint): Response {
  const { people } = state;
  if (endpoint === "commit_pulls") {
    const sha = params[1] as string;
    if (!target.commits.has(sha)) return noCommit(sha, headers);
    return list(
      people
        .pullsOf(target.fullName)
        .filter((pull) => pull.commits.includes(sha) || pull.mergeCommitSha === sha)
        .map((pull) => people.pullJson(pull, target.id)),
    );
  }
  if (endpoint === "collaborator_permission") {
    const permission = people.permissionJson(target.fullName, params[1] as string);
    return permission === undefined ? notFound() : json(permission, 200, headers);
  }
  if (endpoint === "branch_rules")
    return list(
      (state.branchRules.get(`${key(target.fullName)}|${params[1]}`) ?? []).map((rule) => ({
        ...rule,
        ruleset_source_type: "Repository",
        ruleset_source: target.fullName,
      })),
    );
  const pull = people.pullsOf(target.fullName).find((candidate) => candidate.number === Number(params[1]));
  if (pull === undefined) return notFound();
  if (endpoint === "pull") return json(people.pullJson(pull, target.id), 200, headers);
  return list(people.reviewsJson(target.fullName, pull.number));
}

/** A repository endpoint, after the token check. */
function serveRepository(
  state: FakeState,
  request: Request,
  endpoint: RepositoryEndpoint,
  params: string[],
  url: URL,
): Response {
  const fullName = params[0] as string;
  const denied = verifyToken(state, request, fullName, endpoint);
  if (denied !== undefined) return denied;
  const target = state.repositories.get(key(fullName)) as FakeRepository;
  const headers = rateHeaders(state);
  const list = <T>(items: T[], wrap?: (slice: T[]) => unknown) => {
    const { slice, link } = page(url, items, state.maxPageSize);
    return json(wrap === undefined ? slice : wrap(slice), 200, { ...headers, ...link });
  };
  const served: Served = { state, target, params, url, headers, list };
  switch (endpoint) {
    case "repository":
      return json(
        { id: target.id, name: target.fullName.split("/")[1], full_name: target.fullName, private: true },
        200,
        headers,
      );
    case "workflow_run":
    case "workflow_runs":
    case "jobs":
      return serveRuns(served, endpoint);
    case "check_runs":
      return serveCheckRuns(served);
    default:
      return servePeople(served, endpoint);
  }
}

/** The answer of a routed request. */
export async function serve(
  state: FakeState,
  request: Request,
  endpoint: Endpoint,
  params: string[],
  url: URL,
): Promise<Response> {
  return (
    (await serveApps(state, request, endpoint, params)) ??
    serveRepository(state, request, endpoint as RepositoryEndpoint, params, url)
  );
}
