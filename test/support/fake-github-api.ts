// A fake GitHub REST API (version 2022-11-28) for the GitHub App the broker authenticates as: the App JWT is verified
// with the App's public key; installation tokens carry `expires_at` (1 h); check runs, commit -> pull requests, pull
// requests and reviews with Link pagination, workflow runs; rate-limit headers and primary/secondary limits; 404 where
// the App is not installed; an installation token can do only what it asked for (403 "Resource not accessible by
// integration" otherwise), and ask only for what the App was granted (422). Documented behaviour mirrored:
// docs.github.com REST "Apps", "Check runs", "Commits", "Pulls", "Reviews", "Workflow runs", "Rate limits for the REST
// API", "Using pagination", "Permissions required for GitHub Apps". Call counters per endpoint. Platform-neutral (workerd and Node).
import { jwtVerify } from "jose";

export type Endpoint = "installation" | "access_tokens" | "repository" | "check_runs" | "commit_pulls" | "pull" | "reviews" | "workflow_run";

/** The repository permission each endpoint needs ("Permissions required for GitHub Apps"). */
const PERMISSION_OF: Record<Exclude<Endpoint, "installation" | "access_tokens">, string> = {
  repository: "metadata",
  check_runs: "checks",
  commit_pulls: "pull_requests",
  pull: "pull_requests",
  reviews: "pull_requests",
  workflow_run: "actions",
};

/** What the broker's App is granted by default (docs/github-facts.md): read-only, these four. */
export const DEFAULT_APP_PERMISSIONS: Readonly<Record<string, string>> = { actions: "read", checks: "read", pull_requests: "read", metadata: "read" };

/** A failure to inject: an HTTP status, a call that never answers, a body that is not JSON, or a rate limit. */
export type GitHubFault = { kind: "status"; status: number } | { kind: "hang" } | { kind: "malformed" } | { kind: "rate_limited"; secondary?: boolean; retryAfterSeconds?: number };

export interface FakeApp {
  slug: string;
  id: number;
}

/** The GitHub Actions App as check runs name it. */
export const GITHUB_ACTIONS_APP: FakeApp = { slug: "github-actions", id: 15368 };

export interface FakeCheckRun {
  id: number;
  repository: string;
  sha: string;
  name: string;
  app: FakeApp;
  status: "queued" | "in_progress" | "completed";
  conclusion: string | null;
}

export interface FakePullRequest {
  repository: string;
  number: number;
  authorId: number;
  headSha: string;
  baseRef: string;
  state: "open" | "closed";
  mergedAt: string | null;
  mergeCommitSha: string | null;
  /** Commits of the pull request (commits/{sha}/pulls lists it for these and its merge commit). */
  commits: string[];
}

/** A workflow run: `headSha` is the commit it runs (a pull_request run's pull request head, not the merge commit). */
export interface FakeWorkflowRun {
  repository: string;
  id: number;
  event: string;
  headSha: string;
}

export interface FakeReview {
  id: number;
  userId: number;
  state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";
  commitId: string;
}

export interface FakeGitHubOptions {
  /** The App's id (`iss` of its JWTs) and public key. */
  appId: string;
  appPublicKey: CryptoKey;
  now: () => number;
  /** Path prefix the API lives under (GHES: `/api/v3`; the sandbox: `/github`). */
  basePath?: string;
  /** Largest page the fake serves (GitHub: per_page at most 100); smaller in tests to exercise pagination. */
  maxPageSize?: number;
  /** Repository permissions the App was granted (default DEFAULT_APP_PERMISSIONS). */
  appPermissions?: Readonly<Record<string, string>>;
}

export interface FakeGitHub {
  handler(request: Request): Promise<Response>;
  /** Calls per endpoint (every request, answered or not). */
  readonly calls: Record<Endpoint, number>;
  resetCalls(): void;
  addRepository(fullName: string, id: number, options?: { installed?: boolean }): void;
  /** Installs or uninstalls the App on a repository (installed again: the same installation, as when a repository is added back to it). */
  setInstalled(fullName: string, installed: boolean): void;
  /** The App uninstalled and installed anew: a new installation id; tokens of the old installation see nothing of the repository. */
  reinstall(fullName: string): void;
  addCommit(repository: string, sha: string): void;
  addCheckRun(run: Omit<FakeCheckRun, "id">): number;
  /** Removes every check run of that name on that commit. */
  clearCheckRuns(repository: string, sha: string, name?: string): void;
  /** Adds a pull request, or replaces the one of that number (its state now). */
  addPullRequest(pull: FakePullRequest): void;
  addReview(repository: string, number: number, review: Omit<FakeReview, "id">): void;
  addWorkflowRun(run: FakeWorkflowRun): void;
  clearReviews(repository: string, number: number): void;
  /** Every later call to `endpoint` (or all) fails this way until `fail(null)`; `times` limits it. */
  fail(fault: GitHubFault | null, options?: { endpoint?: Endpoint; times?: number }): void;
  /** Primary rate limit left for installation tokens (default 5000). */
  setRateRemaining(remaining: number): void;
  /** Installation tokens minted so far. */
  readonly tokensIssued: number;
}

const TOKEN_LIFETIME_MS = 60 * 60 * 1000;
const RATE_LIMIT = 5000;

function json(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", ...headers } });
}

const notFound = () => json({ message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" }, 404);

export function createFakeGitHub(options: FakeGitHubOptions): FakeGitHub {
  const basePath = options.basePath ?? "";
  const maxPageSize = options.maxPageSize ?? 100;
  const repositories = new Map<string, { id: number; fullName: string; installed: boolean; installationId: number; commits: Set<string> }>();
  const checkRuns: FakeCheckRun[] = [];
  const pulls: FakePullRequest[] = [];
  const reviews = new Map<string, FakeReview[]>();
  const workflowRuns: FakeWorkflowRun[] = [];
  const granted = options.appPermissions ?? DEFAULT_APP_PERMISSIONS;
  const tokens = new Map<string, { expiresAt: number; installationId: number; permissions: Readonly<Record<string, string>> }>();
  const calls = { installation: 0, access_tokens: 0, repository: 0, check_runs: 0, commit_pulls: 0, pull: 0, reviews: 0, workflow_run: 0 } satisfies Record<Endpoint, number>;
  let fault: { fault: GitHubFault; endpoint: Endpoint | undefined; times: number } | null = null;
  let rateRemaining = RATE_LIMIT;
  let nextId = 1000;
  let tokensIssued = 0;
  /** A fresh installation's id (GitHub gives a new one when the App is installed again after being uninstalled). */
  let nextInstallationId = 9_000_000;
  const repo = (fullName: string) => repositories.get(fullName.toLowerCase());

  function rateHeaders(): Record<string, string> {
    const reset = Math.floor(options.now() / 1000) + 3600;
    return { "x-ratelimit-limit": String(RATE_LIMIT), "x-ratelimit-remaining": String(Math.max(0, rateRemaining)), "x-ratelimit-reset": String(reset), "x-ratelimit-used": String(RATE_LIMIT - rateRemaining), "x-ratelimit-resource": "core" };
  }

  /** App JWT (RS256, iss = app id, exp at most 10 minutes ahead); GitHub answers 401 otherwise. */
  async function verifyAppJwt(request: Request): Promise<Response | undefined> {
    const header = request.headers.get("authorization") ?? "";
    const match = /^Bearer (\S+)$/.exec(header);
    const unauthorized = json({ message: "A JSON web token could not be decoded", documentation_url: "https://docs.github.com/rest" }, 401);
    if (match === null) return unauthorized;
    try {
      const { payload, protectedHeader } = await jwtVerify(match[1] as string, options.appPublicKey, { algorithms: ["RS256"], currentDate: new Date(options.now()), clockTolerance: 0 });
      const nowSeconds = Math.floor(options.now() / 1000);
      if (protectedHeader.alg !== "RS256" || String(payload.iss) !== options.appId) return unauthorized;
      if (typeof payload.iat !== "number" || typeof payload.exp !== "number" || payload.exp > nowSeconds + 600 || payload.iat > nowSeconds + 60) {
        return json({ message: "'Expiration time' claim ('exp') is too far in the future" }, 401);
      }
    } catch {
      return unauthorized;
    }
    return undefined;
  }

  /**
   * Installation token for `fullName`; 401 when unknown or expired, 404 when the repository is not the installation's,
   * 403 when the token lacks the endpoint's permission.
   */
  function verifyToken(request: Request, fullName: string, endpoint: keyof typeof PERMISSION_OF): Response | undefined {
    const match = /^(?:Bearer|token) (\S+)$/.exec(request.headers.get("authorization") ?? "");
    const token = match === null ? undefined : tokens.get(match[1] as string);
    if (token === undefined || token.expiresAt <= options.now()) return json({ message: "Bad credentials", documentation_url: "https://docs.github.com/rest" }, 401);
    const target = repo(fullName);
    if (target === undefined || !target.installed || target.installationId !== token.installationId) return notFound();
    const needed = PERMISSION_OF[endpoint];
    if (token.permissions[needed] !== "read" && token.permissions[needed] !== "write") {
      return json({ message: "Resource not accessible by integration", documentation_url: "https://docs.github.com/rest", status: "403" }, 403, rateHeaders());
    }
    rateRemaining -= 1;
    if (rateRemaining < 0) return json({ message: "API rate limit exceeded for installation ID " + token.installationId + "." }, 403, rateHeaders());
    return undefined;
  }

  /** One page of `items` and its Link header (rel="next"/"last"), as GitHub paginates lists. */
  function page<T>(url: URL, items: T[]): { slice: T[]; link: Record<string, string> } {
    const perPage = Math.min(maxPageSize, Math.max(1, Number(url.searchParams.get("per_page") ?? "30") || 30));
    const pageNumber = Math.max(1, Number(url.searchParams.get("page") ?? "1") || 1);
    const slice = items.slice((pageNumber - 1) * perPage, pageNumber * perPage);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    if (pageNumber >= last) return { slice, link: {} };
    const next = new URL(url);
    next.searchParams.set("page", String(pageNumber + 1));
    const lastUrl = new URL(url);
    lastUrl.searchParams.set("page", String(last));
    return { slice, link: { link: `<${next.href}>; rel="next", <${lastUrl.href}>; rel="last"` } };
  }

  function pullJson(pull: FakePullRequest, repoId: number) {
    return {
      number: pull.number,
      state: pull.state,
      user: { id: pull.authorId, login: `user${pull.authorId}` },
      head: { sha: pull.headSha, ref: `feature-${pull.number}` },
      base: { ref: pull.baseRef, repo: { id: repoId, full_name: pull.repository } },
      merged_at: pull.mergedAt,
      merge_commit_sha: pull.mergeCommitSha,
    };
  }

  function endpointOf(method: string, path: string): { endpoint: Endpoint; params: string[] } | undefined {
    const routes: Array<[string, RegExp, Endpoint]> = [
      ["GET", /^\/repos\/([^/]+\/[^/]+)\/installation$/, "installation"],
      ["POST", /^\/app\/installations\/(\d+)\/access_tokens$/, "access_tokens"],
      ["GET", /^\/repos\/([^/]+\/[^/]+)\/commits\/([^/]+)\/check-runs$/, "check_runs"],
      ["GET", /^\/repos\/([^/]+\/[^/]+)\/commits\/([^/]+)\/pulls$/, "commit_pulls"],
      ["GET", /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)\/reviews$/, "reviews"],
      ["GET", /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)$/, "pull"],
      ["GET", /^\/repos\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)$/, "workflow_run"],
      ["GET", /^\/repos\/([^/]+\/[^/]+)$/, "repository"],
    ];
    for (const [routeMethod, pattern, endpoint] of routes) {
      const match = pattern.exec(path);
      if (match !== null && routeMethod === method) return { endpoint, params: match.slice(1).map(decodeURIComponent) };
    }
    return undefined;
  }

  async function serve(request: Request, endpoint: Endpoint, params: string[], url: URL): Promise<Response> {
    if (endpoint === "installation") {
      const denied = await verifyAppJwt(request);
      if (denied !== undefined) return denied;
      const target = repo(params[0] as string);
      if (target === undefined || !target.installed) return notFound();
      return json({ id: target.installationId, app_id: Number(options.appId), target_type: "Organization", permissions: granted }, 200);
    }
    if (endpoint === "access_tokens") {
      const denied = await verifyAppJwt(request);
      if (denied !== undefined) return denied;
      const installationId = Number(params[0]);
      if (![...repositories.values()].some((r) => r.installed && r.installationId === installationId)) return notFound();
      const body = (await request.json().catch(() => ({}))) as { permissions?: Record<string, string> };
      // An installation token can never exceed what the App was granted (GitHub answers 422); without a body it gets all of it.
      for (const [name, level] of Object.entries(body.permissions ?? {})) if (granted[name] !== level) return json({ message: "The permissions requested are not granted to this installation." }, 422);
      const token = `ghs_${crypto.randomUUID().replaceAll("-", "")}`;
      const expiresAt = options.now() + TOKEN_LIFETIME_MS;
      tokens.set(token, { expiresAt, installationId, permissions: body.permissions ?? granted });
      tokensIssued += 1;
      return json({ token, expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"), permissions: body.permissions ?? granted, repository_selection: "selected" }, 201);
    }
    const fullName = params[0] as string;
    const denied = verifyToken(request, fullName, endpoint);
    if (denied !== undefined) return denied;
    const target = repo(fullName) as { id: number; fullName: string; commits: Set<string> };
    const headers = rateHeaders();
    if (endpoint === "repository") return json({ id: target.id, name: target.fullName.split("/")[1], full_name: target.fullName, private: true }, 200, headers);
    if (endpoint === "workflow_run") {
      const run = workflowRuns.find((candidate) => candidate.repository.toLowerCase() === target.fullName.toLowerCase() && candidate.id === Number(params[1]));
      if (run === undefined) return notFound();
      const repository = { id: target.id, full_name: target.fullName };
      return json(
        { id: run.id, name: "ci", event: run.event, status: "in_progress", conclusion: null, head_sha: run.headSha, head_branch: "feature", run_attempt: 1, repository, head_repository: repository, pull_requests: [] },
        200,
        headers,
      );
    }
    if (endpoint === "check_runs" || endpoint === "commit_pulls") {
      const sha = params[1] as string;
      if (!target.commits.has(sha)) return json({ message: `No commit found for SHA: ${sha}`, documentation_url: "https://docs.github.com/rest" }, 422, headers);
      if (endpoint === "commit_pulls") {
        const list = pulls.filter((pull) => pull.repository.toLowerCase() === target.fullName.toLowerCase() && (pull.commits.includes(sha) || pull.mergeCommitSha === sha));
        const { slice, link } = page(url, list.map((pull) => pullJson(pull, target.id)));
        return json(slice, 200, { ...headers, ...link });
      }
      const name = url.searchParams.get("check_name");
      let runs = checkRuns.filter((run) => run.repository.toLowerCase() === target.fullName.toLowerCase() && run.sha === sha && (name === null || run.name === name));
      // filter=latest (the default): the most recent run per name and app.
      if ((url.searchParams.get("filter") ?? "latest") === "latest") runs = runs.filter((run) => !runs.some((other) => other.name === run.name && other.app.id === run.app.id && other.id > run.id));
      const { slice, link } = page(url, runs);
      const checkRunJson = slice.map((run) => ({ id: run.id, name: run.name, head_sha: run.sha, status: run.status, conclusion: run.conclusion, app: { id: run.app.id, slug: run.app.slug, name: run.app.slug } }));
      return json({ total_count: runs.length, check_runs: checkRunJson }, 200, { ...headers, ...link });
    }
    const pull = pulls.find((candidate) => candidate.repository.toLowerCase() === target.fullName.toLowerCase() && candidate.number === Number(params[1]));
    if (pull === undefined) return notFound();
    if (endpoint === "pull") return json(pullJson(pull, target.id), 200, headers);
    const list = (reviews.get(`${target.fullName.toLowerCase()}#${pull.number}`) ?? []).filter((review) => review.state !== "PENDING");
    const { slice, link } = page(
      url,
      list.map((review) => ({ id: review.id, user: { id: review.userId, login: `user${review.userId}` }, state: review.state, commit_id: review.commitId, submitted_at: "2026-11-25T11:00:00Z" })),
    );
    return json(slice, 200, { ...headers, ...link });
  }

  function injected(current: GitHubFault): Response | Promise<Response> {
    switch (current.kind) {
      case "status":
        return json({ message: "Server Error" }, current.status);
      case "hang":
        return new Promise<Response>(() => undefined);
      case "malformed":
        return new Response("{\"id\": 12, \"check_runs\": [", { status: 200, headers: { "content-type": "application/json" } });
      case "rate_limited":
        if (current.secondary === true) {
          return json({ message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." }, 403, { ...rateHeaders(), ...(current.retryAfterSeconds === undefined ? {} : { "retry-after": String(current.retryAfterSeconds) }) });
        }
        return json({ message: "API rate limit exceeded for installation." }, 403, { ...rateHeaders(), "x-ratelimit-remaining": "0" });
    }
  }

  return {
    calls,
    get tokensIssued() {
      return tokensIssued;
    },
    resetCalls() {
      for (const key of Object.keys(calls) as Endpoint[]) calls[key] = 0;
    },
    async handler(request) {
      const url = new URL(request.url);
      if (!url.pathname.startsWith(basePath)) return notFound();
      const route = endpointOf(request.method, url.pathname.slice(basePath.length));
      if (route === undefined) return notFound();
      calls[route.endpoint] += 1;
      // GitHub refuses requests without a User-Agent, and unknown API versions.
      if ((request.headers.get("user-agent") ?? "") === "") return json({ message: "Request forbidden by administrative rules. Please make sure your request has a User-Agent header." }, 403);
      const version = request.headers.get("x-github-api-version");
      if (version !== null && version !== "2022-11-28") return json({ message: `Invalid API version: ${version}` }, 400);
      if (fault !== null && (fault.endpoint === undefined || fault.endpoint === route.endpoint) && fault.times > 0) {
        const current = fault.fault;
        fault.times -= 1;
        return injected(current);
      }
      return serve(request, route.endpoint, route.params, url);
    },
    addRepository(fullName, id, repoOptions = {}) {
      repositories.set(fullName.toLowerCase(), { id, fullName, installed: repoOptions.installed ?? true, installationId: nextInstallationId++, commits: new Set() });
    },
    setInstalled(fullName, installed) {
      const target = repo(fullName);
      if (target !== undefined) target.installed = installed;
    },
    reinstall(fullName) {
      const target = repo(fullName);
      if (target === undefined) return;
      target.installed = true;
      target.installationId = nextInstallationId++;
    },
    addCommit(repository, sha) {
      repo(repository)?.commits.add(sha);
    },
    addCheckRun(run) {
      const id = nextId++;
      checkRuns.push({ ...run, id });
      repo(run.repository)?.commits.add(run.sha);
      return id;
    },
    clearCheckRuns(repository, sha, name) {
      for (let i = checkRuns.length - 1; i >= 0; i--) {
        const run = checkRuns[i] as FakeCheckRun;
        if (run.repository.toLowerCase() === repository.toLowerCase() && run.sha === sha && (name === undefined || run.name === name)) checkRuns.splice(i, 1);
      }
    },
    addPullRequest(pull) {
      // The same number again is the pull request as it is now (e.g. pushed to: a new head).
      const known = pulls.findIndex((candidate) => candidate.repository.toLowerCase() === pull.repository.toLowerCase() && candidate.number === pull.number);
      if (known === -1) pulls.push(pull);
      else pulls[known] = pull;
      const target = repo(pull.repository);
      for (const sha of [...pull.commits, pull.headSha, ...(pull.mergeCommitSha === null ? [] : [pull.mergeCommitSha])]) target?.commits.add(sha);
    },
    addReview(repository, number, review) {
      const key = `${repository.toLowerCase()}#${number}`;
      reviews.set(key, [...(reviews.get(key) ?? []), { ...review, id: nextId++ }]);
    },
    addWorkflowRun(run) {
      workflowRuns.push(run);
    },
    clearReviews(repository, number) {
      reviews.delete(`${repository.toLowerCase()}#${number}`);
    },
    fail(next, failOptions = {}) {
      fault = next === null ? null : { fault: next, endpoint: failOptions.endpoint, times: failOptions.times ?? Infinity };
    },
    setRateRemaining(remaining) {
      rateRemaining = remaining;
    },
  };
}

/** The merged pull request behind the example policy's acme-app-main-deploy: #12, approved by user 2 on its head. */
export const EXAMPLE_FACTS = { repository: "acme/app", repositoryId: 874563210, pullNumber: 12, authorId: 1, reviewerId: 2, headSha: "4a7e0c3b9d1f2e5a6b7c8d9e0f1a2b3c4d5e6f70" } as const;

/**
 * Facts that satisfy the test policy (test/fixtures/policies/index.ts) for a push of `sha` to acme/app main: the App installed,
 * a successful dependency-review run by GitHub Actions, and a merged pull request with one approval on its head.
 */
export function seedExampleFacts(github: FakeGitHub, sha: string): void {
  const { repository, repositoryId, pullNumber, authorId, reviewerId, headSha } = EXAMPLE_FACTS;
  github.addRepository(repository, repositoryId);
  github.addCheckRun({ repository, sha, name: "dependency-review", app: GITHUB_ACTIONS_APP, status: "completed", conclusion: "success" });
  github.addPullRequest({ repository, number: pullNumber, authorId, headSha, baseRef: "main", state: "closed", mergedAt: "2026-11-25T11:30:00Z", mergeCommitSha: sha, commits: [headSha] });
  github.addReview(repository, pullNumber, { userId: reviewerId, state: "APPROVED", commitId: headSha });
}
