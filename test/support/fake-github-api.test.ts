// The fake GitHub API follows GitHub's documented behaviour where the broker's security depends on it: jobs are
// check runs of GitHub Actions in their run's suite; API-created check runs land in an existing Actions suite; forks'
// runs carry the fork as head_repository; collaborator permissions map maintain to write; reviews carry
// author_association and user.type; installation tokens honour repository_ids, repositories and permissions.
import { describe, expect, it } from "vitest";
import { signAppJwt } from "../../src/github/app-key.ts";
import { createFakeGitHub, GITHUB_ACTIONS_APP, type FakeGitHub } from "./fake-github-api.ts";
import { generateAppKey } from "./github-app-key.ts";

const NOW = Date.UTC(2026, 10, 25, 12);
const SHA = "a".repeat(40);
const BASE = "https://api.github.example";
const keys = generateAppKey();

async function fake(appPermissions?: Record<string, string>): Promise<{
  github: FakeGitHub;
  call: (
    method: string,
    path: string,
    auth: string,
    body?: unknown,
  ) => Promise<{ status: number; body: Record<string, any> }>;
  jwt: string;
}> {
  const key = await keys;
  const github = createFakeGitHub({
    appId: "42",
    appPublicKey: key.publicKey,
    now: () => NOW,
    ...(appPermissions === undefined ? {} : { appPermissions }),
  });
  github.addRepository("acme/app", 10);
  github.addRepository("acme/web", 11);
  const jwt = (await signAppJwt("42", key.privateKey, NOW)).jwt;
  const call = async (method: string, path: string, auth: string, body?: unknown) => {
    const response = await github.handler(
      new Request(`${BASE}${path}`, {
        method,
        headers: { authorization: `Bearer ${auth}`, "user-agent": "test" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );
    // A JSON answer, read field by field as the tests need (GitHub's shapes are asserted with toMatchObject).
    return {
      status: response.status,
      body: (response.status === 204 ? {} : await response.json()) as Record<string, any>,
    };
  };
  return { github, call, jwt };
}

async function token(f: Awaited<ReturnType<typeof fake>>, body: unknown = {}): Promise<string> {
  const installation = (await f.call("GET", "/repos/acme/app/installation", f.jwt)).body.id as number;
  const answer = await f.call("POST", `/app/installations/${installation}/access_tokens`, f.jwt, body);
  expect(answer.status).toBe(201);
  return answer.body.token as string;
}

describe("GitHub Actions", () => {
  it("every job of a run is a check run of app 15368 in the run's suite; an API-created one joins the newest Actions suite", async () => {
    const f = await fake();
    const runId = f.github.addWorkflowRun({
      repository: "acme/app",
      event: "push",
      headSha: SHA,
      jobs: [{ name: "scan" }, { name: "build", conclusion: "failure" }],
    });
    const forged = f.github.addCheckRun({
      repository: "acme/app",
      sha: SHA,
      name: "scan",
      app: GITHUB_ACTIONS_APP,
      status: "completed",
      conclusion: "success",
    });
    const other = f.github.addCheckRun({
      repository: "acme/app",
      sha: SHA,
      name: "lint",
      app: { slug: "scanner", id: 7 },
      status: "completed",
      conclusion: "success",
    });
    const t = await token(f);
    const run = (await f.call("GET", `/repos/acme/app/actions/runs/${runId}`, t)).body;
    const jobs = (await f.call("GET", `/repos/acme/app/actions/runs/${runId}/jobs`, t)).body.jobs as Array<{
      id: number;
      name: string;
    }>;
    const checks = (await f.call("GET", `/repos/acme/app/commits/${SHA}/check-runs?filter=all`, t)).body
      .check_runs as Array<{ id: number; name: string; app: { id: number }; check_suite: { id: number } }>;
    for (const job of jobs)
      expect(checks).toContainEqual(
        expect.objectContaining({
          id: job.id,
          name: job.name,
          app: expect.objectContaining({ id: 15368 }),
          check_suite: { id: run.check_suite_id },
        }),
      );
    expect(checks.find((check) => check.id === forged)?.check_suite.id).toBe(run.check_suite_id);
    expect(checks.find((check) => check.id === other)?.check_suite.id).not.toBe(run.check_suite_id);
    expect(jobs.map((job) => job.id)).not.toContain(forged);
    expect(run).toMatchObject({
      status: "completed",
      conclusion: "failure",
      path: ".github/workflows/ci.yml",
      head_branch: "main",
      event: "push",
      run_attempt: 1,
    });
  });

  it("a re-run is a new attempt: filter=latest lists its jobs, filter=all every attempt's", async () => {
    const f = await fake();
    const runId = f.github.addWorkflowRun({
      repository: "acme/app",
      event: "push",
      headSha: SHA,
      jobs: [{ name: "scan", conclusion: "failure" }],
    });
    f.github.rerunWorkflowRun(runId);
    const t = await token(f);
    expect((await f.call("GET", `/repos/acme/app/actions/runs/${runId}/jobs`, t)).body.jobs).toMatchObject([
      { name: "scan", status: "queued", run_attempt: 2 },
    ]);
    expect((await f.call("GET", `/repos/acme/app/actions/runs/${runId}/jobs?filter=all`, t)).body.total_count).toBe(2);
    expect((await f.call("GET", `/repos/acme/app/actions/runs/${runId}`, t)).body).toMatchObject({
      run_attempt: 2,
      status: "in_progress",
    });
  });

  it("lists runs newest first, filtered by head_sha, branch and event; a fork's run has the fork as head_repository", async () => {
    const f = await fake();
    const push = f.github.addWorkflowRun({ repository: "acme/app", event: "push", headSha: SHA });
    const fork = f.github.addWorkflowRun({
      repository: "acme/app",
      event: "pull_request",
      headSha: SHA,
      headBranch: "main",
      headRepository: { id: 666, fullName: "mallory/app" },
    });
    const t = await token(f);
    const all = (await f.call("GET", `/repos/acme/app/actions/runs?head_sha=${SHA}&branch=main`, t)).body;
    expect(all.workflow_runs.map((run: { id: number }) => run.id)).toEqual([fork, push]);
    expect(all.workflow_runs[0]).toMatchObject({
      head_repository: { id: 666, full_name: "mallory/app" },
      repository: { id: 10 },
    });
    expect((await f.call("GET", `/repos/acme/app/actions/runs?head_sha=${SHA}&event=push`, t)).body.total_count).toBe(
      1,
    );
  });
});

describe("people", () => {
  it("permission maps maintain to write and triage to read; role_name names custom roles; an unknown login is 404", async () => {
    const f = await fake();
    const roles = [
      ["m", "maintain", "write"],
      ["t", "triage", "read"],
      ["c", { custom: "releaser", base: "maintain" }, "write"],
      ["a", "admin", "admin"],
    ] as const;
    for (const [index, [login, role]] of roles.entries()) {
      f.github.addUser({ id: 100 + index, login });
      f.github.setPermission("acme/app", 100 + index, role);
    }
    const t = await token(f);
    for (const [login, role, permission] of roles) {
      expect((await f.call("GET", `/repos/acme/app/collaborators/${login}/permission`, t)).body).toMatchObject({
        permission,
        role_name: typeof role === "string" ? role : role.custom,
      });
    }
    expect((await f.call("GET", "/repos/acme/app/collaborators/nobody-here/permission", t)).status).toBe(404);
  });

  it("reviews carry user.type and author_association, which is no permission (a reader can be a MEMBER)", async () => {
    const f = await fake();
    f.github.addPullRequest({
      repository: "acme/app",
      number: 1,
      authorId: 1,
      headSha: SHA,
      baseRef: "main",
      state: "open",
      mergedAt: null,
      mergeCommitSha: null,
      commits: [SHA],
    });
    f.github.addUser({ id: 5, login: "dave" });
    f.github.setPermission("acme/app", 5, "read");
    f.github.addUser({ id: 9, login: "github-actions[bot]", type: "Bot" });
    f.github.addReview("acme/app", 1, { userId: 5, state: "APPROVED", commitId: SHA });
    f.github.addReview("acme/app", 1, { userId: 9, state: "APPROVED", commitId: SHA });
    const t = await token(f);
    expect((await f.call("GET", "/repos/acme/app/pulls/1/reviews", t)).body).toMatchObject([
      { user: { login: "dave", type: "User" }, author_association: "MEMBER" },
      { user: { login: "github-actions[bot]", type: "Bot" }, author_association: "NONE" },
    ]);
  });
});

describe("installation tokens", () => {
  it("scoped by repository_ids or repositories: 404 for any other repository of the installation", async () => {
    const f = await fake();
    for (const body of [{ repository_ids: [10] }, { repositories: ["app"] }]) {
      const t = await token(f, body);
      expect((await f.call("GET", "/repos/acme/app", t)).status).toBe(200);
      expect((await f.call("GET", "/repos/acme/web", t)).status).toBe(404);
    }
    const all = await token(f);
    expect((await f.call("GET", "/repos/acme/web", all)).status).toBe(200);
  });

  it("422 for a repository outside the installation or a permission beyond the App's; 403 for an endpoint outside the token's", async () => {
    const f = await fake();
    const installation = (await f.call("GET", "/repos/acme/app/installation", f.jwt)).body.id;
    expect(
      await f.call("POST", `/app/installations/${installation}/access_tokens`, f.jwt, { repository_ids: [999] }),
    ).toMatchObject({ status: 422, body: { message: expect.stringContaining("not accessible") } });
    expect(
      await f.call("POST", `/app/installations/${installation}/access_tokens`, f.jwt, {
        permissions: { contents: "read" },
      }),
    ).toMatchObject({ status: 422, body: { message: expect.stringContaining("permissions") } });
    expect(
      await f.call("POST", `/app/installations/${installation}/access_tokens`, f.jwt, {
        permissions: { checks: "write" },
      }),
    ).toMatchObject({ status: 422 });
    const checksOnly = await token(f, { permissions: { checks: "read" } });
    expect((await f.call("GET", "/repos/acme/app/actions/runs", checksOnly)).status).toBe(403);
  });

  it("revoked: 401; stateless on demand: ghs_ + JWT", async () => {
    const f = await fake();
    const t = await token(f);
    expect((await f.call("DELETE", "/installation/token", t)).status).toBe(204);
    expect((await f.call("GET", "/repos/acme/app", t)).status).toBe(401);
    f.github.setStatelessTokens(true);
    const stateless = await token(f, { repository_ids: [10] });
    expect(stateless.split(".")).toHaveLength(3);
    expect(stateless.startsWith("ghs_eyJ")).toBe(true);
    expect((await f.call("GET", "/repos/acme/app", stateless)).status).toBe(200);
  });
});

describe("a second App (the token App)", () => {
  async function twoApps() {
    const key = await keys;
    const tokenKey = await generateAppKey();
    const github = createFakeGitHub({
      appId: "42",
      appPublicKey: key.publicKey,
      tokenApp: { appId: "43", appPublicKey: tokenKey.publicKey, permissions: { contents: "write", metadata: "read" } },
      now: () => NOW,
    });
    github.addRepository("acme/app", 10);
    github.addRepository("acme/tap", 12, { installed: false });
    const call = async (method: string, path: string, auth: string, body?: unknown) => {
      const response = await github.handler(
        new Request(`${BASE}${path}`, {
          method,
          headers: { authorization: `Bearer ${auth}`, "user-agent": "test" },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
      );
      return {
        status: response.status,
        body: (response.status === 204 ? {} : await response.json()) as Record<string, any>,
      };
    };
    return {
      github,
      call,
      factsJwt: (await signAppJwt("42", key.privateKey, NOW)).jwt,
      tokenJwt: (await signAppJwt("43", tokenKey.privateKey, NOW)).jwt,
    };
  }

  it("its own installation per owner (organization or user), its own permissions, tokens scoped by repository name", async () => {
    const f = await twoApps();
    const org = await f.call("GET", "/orgs/acme/installation", f.tokenJwt);
    expect(org).toMatchObject({ status: 200, body: { app_id: 43, target_type: "Organization" } });
    expect((await f.call("GET", "/orgs/acme/installation", f.factsJwt)).body.id).not.toBe(org.body.id);
    f.github.setUser("acme");
    expect((await f.call("GET", "/orgs/acme/installation", f.tokenJwt)).status).toBe(404);
    expect(await f.call("GET", "/users/acme/installation", f.tokenJwt)).toMatchObject({
      status: 200,
      body: { id: org.body.id, target_type: "User" },
    });
    // The facts App is not installed on acme/tap; the token App is.
    const minted = await f.call("POST", `/app/installations/${org.body.id}/access_tokens`, f.tokenJwt, {
      repositories: ["tap"],
      permissions: { contents: "write", metadata: "read" },
    });
    expect(minted).toMatchObject({
      status: 201,
      body: {
        repository_selection: "selected",
        repositories: [{ name: "tap", full_name: "acme/tap" }],
        permissions: { contents: "write", metadata: "read" },
      },
    });
    const t = minted.body.token as string;
    expect((await f.call("GET", "/repos/acme/tap", t)).status).toBe(200);
    expect((await f.call("GET", "/repos/acme/app", t)).status).toBe(404);
    // Beyond what the token App was granted: 422.
    expect(
      (
        await f.call("POST", `/app/installations/${org.body.id}/access_tokens`, f.tokenJwt, {
          repositories: ["tap"],
          permissions: { issues: "write" },
        })
      ).status,
    ).toBe(422);
    // Revoked: 204, then 401.
    expect((await f.call("DELETE", "/installation/token", t)).status).toBe(204);
    expect((await f.call("GET", "/repos/acme/tap", t)).status).toBe(401);
    expect(f.github.tokenAppTokens).toHaveLength(1);
    expect(f.github.tokens).toHaveLength(0);
  });

  it("answers wider than asked on demand (the broker must refuse it)", async () => {
    const f = await twoApps();
    const id = (await f.call("GET", "/orgs/acme/installation", f.tokenJwt)).body.id as number;
    f.github.widenTokens({ permissions: { administration: "write" }, allRepositories: true });
    const wide = await f.call("POST", `/app/installations/${id}/access_tokens`, f.tokenJwt, {
      repositories: ["tap"],
      permissions: { contents: "read", metadata: "read" },
    });
    expect(wide.body).toMatchObject({
      repository_selection: "all",
      permissions: { contents: "read", metadata: "read", administration: "write" },
    });
    expect(wide.body.repositories).toBeUndefined();
    expect((await f.call("GET", "/repos/acme/app", wide.body.token as string)).status).toBe(200);
  });
});
