// The fake GitHub API follows GitHub's documented behaviour where the broker's security depends on it: jobs are
// check runs of GitHub Actions in their run's suite; API-created check runs land in an existing Actions suite; forks'
// runs carry the fork as head_repository; collaborator permissions map maintain to write; reviews carry
// author_association and user.type; a renamed or transferred repository's former name answers 301 to its id.
// Installation tokens and Apps: fake-github-apps.test.ts.
import { describe, expect, it } from "vitest";
import { GITHUB_ACTIONS_APP } from "../../../sandbox/fakes/fake-github-api.ts";
import { BASE, fake, SHA, token } from "./fake-github-client.ts";

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

describe("a renamed or transferred repository", () => {
  it("its former name answers 301 Moved Permanently to /repositories/{id} on the same API, as GitHub documents", async () => {
    const f = await fake();
    const held = await token(f);
    f.github.renameRepository("acme/app", "acme/app-renamed");
    const response = await f.github.handler(
      new Request(`${BASE}/repos/acme/app/pulls/7?per_page=5`, {
        headers: { authorization: `Bearer ${held}`, "user-agent": "test" },
      }),
    );
    expect(response.status).toBe(301);
    const location = `${BASE}/repositories/10/pulls/7?per_page=5`;
    expect(response.headers.get("location")).toBe(location);
    expect(await response.json()).toEqual({
      message: "Moved Permanently",
      url: location,
      documentation_url: "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects",
    });
  });

  it("/repositories/{id} answers as the repository's current name, with the same token", async () => {
    const f = await fake();
    const held = await token(f);
    f.github.renameRepository("acme/app", "acme/app-renamed");
    const answer = await f.call("GET", "/repositories/10", held);
    expect(answer).toMatchObject({ status: 200, body: { id: 10, full_name: "acme/app-renamed" } });
    expect((await f.call("GET", "/repos/acme/app-renamed", held)).status).toBe(200);
  });

  it("a name taken again by another repository answers for that one, not 301", async () => {
    const f = await fake();
    f.github.renameRepository("acme/app", "acme/app-renamed");
    f.github.addRepository("acme/app", 12);
    const held = await token(f, { repository_ids: [12] });
    expect(await f.call("GET", "/repos/acme/app", held)).toMatchObject({ status: 200, body: { id: 12 } });
  });
});
