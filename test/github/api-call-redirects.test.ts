// The GitHub client's redirect policy (src/github/api-call.ts, src/http/upstream-redirect.ts), through the whole
// Worker: GitHub's 301 for a renamed or transferred repository is followed once, on the same API, and the repository-id
// check decides; any other redirect (cross-origin, a second one, 302, 307, 308) fails closed with
// upstream_unavailable, and the Location never reaches the response.
import { describe, expect, it } from "vitest";
import { createHarness, expectAudit, expectNoLeak } from "../support/broker-harness.ts";
import type { GitHubFault } from "../../sandbox/fakes/fake-github-api.ts";
import { expectDenied, repository } from "./helpers.ts";

const ATTACKER = "https://attacker.example";

describe("GitHub's 301 for a renamed or transferred repository", () => {
  it("is followed once on the same API: the token's repository under its new name still gets credentials", async () => {
    const h = await createHarness();
    h.github.renameRepository(repository, "acme/app-renamed");
    const response = await h.request(await h.mint());
    expect(response.status).toBe(200);
    // Every repository call went to the old name, was moved, and was answered at /repositories/{id}.
    const moved = h.network.calls.filter((call) => call.url.includes("/repositories/"));
    expect(moved.length).toBeGreaterThan(0);
    expect(h.network.callsTo(`${h.githubApiUrl}/repos/acme/app`)).toHaveLength(moved.length);
    expectAudit(h, { outcome: "issued", rule_id: "acme-app-main-deploy" });
  });

  it("a transfer to another owner on the same API is followed too", async () => {
    const h = await createHarness();
    h.github.renameRepository(repository, "acme-platform/app");
    expect((await h.request(await h.mint())).status).toBe(200);
  });

  it("a 301 to another repository's id is refused by the repository check: 403 context_repository_mismatch", async () => {
    const h = await createHarness();
    h.github.addRepository("acme/decoy", 31337);
    h.github.fail(
      { kind: "redirect", status: 301, location: `${h.githubApiUrl}/repositories/31337` },
      { endpoint: "repository", times: 1 },
    );
    await expectDenied(h, "context_repository_mismatch");
    expect(h.network.callsTo(`${h.githubApiUrl}/repositories/31337`)).toHaveLength(1);
  });
});

describe("every other redirect from GitHub fails closed (503 upstream_unavailable, nothing leaked)", () => {
  const cases: Array<[string, (apiUrl: string) => GitHubFault, number]> = [
    ["a 301 to another origin", () => ({ kind: "redirect", status: 301, location: `${ATTACKER}/repositories/1` }), 1],
    [
      "a 301 to the same host on another port",
      (apiUrl) => ({ kind: "redirect", status: 301, location: `${apiUrl}:8443/repositories/1` }),
      1,
    ],
    [
      "a 301 to plain http on the same host",
      (apiUrl) => ({ kind: "redirect", status: 301, location: `${apiUrl.replace("https:", "http:")}/repositories/1` }),
      1,
    ],
    ["a 302", (apiUrl) => ({ kind: "redirect", status: 302, location: `${apiUrl}/repositories/1` }), 1],
    ["a 307", (apiUrl) => ({ kind: "redirect", status: 307, location: `${apiUrl}/repositories/1` }), 1],
    ["a 308", (apiUrl) => ({ kind: "redirect", status: 308, location: `${apiUrl}/repositories/1` }), 1],
    // The first 301 is followed; the one its target answers is not.
    ["a second 301", (apiUrl) => ({ kind: "redirect", status: 301, location: `${apiUrl}/repos/acme/app` }), 2],
  ];
  it.each(cases)("%s", async (_label, fault, calls) => {
    const h = await createHarness();
    h.network.route(ATTACKER, () => new Response("{}", { status: 200 }));
    h.github.fail(fault(h.githubApiUrl), { endpoint: "repository" });
    const response = await h.request(await h.mint());
    expect(response.status).toBe(503);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = await expectNoLeak(response, ["attacker", "repositories", "Moved", "location"]);
    expect(body.error).toBe("upstream_unavailable");
    expect(h.network.callsTo(ATTACKER)).toHaveLength(0);
    expect(h.github.calls.repository).toBe(calls);
    expect(h.sts.assumeRoleCalls).toHaveLength(0);
    expectAudit(h, { outcome: "error", code: "upstream_unavailable", reason: "github_api_unavailable" });
  });

  it("the token App's access_tokens answered with a redirect: 503, nothing leaked, no token", async () => {
    const h = await createHarness();
    h.github.fail(
      { kind: "redirect", status: 307, location: `${ATTACKER}/app/installations/1/access_tokens` },
      { endpoint: "access_tokens" },
    );
    h.network.route(ATTACKER, () => new Response("{}", { status: 201 }));
    const { releaseTag } = await import("../github-tokens/helpers.ts");
    const response = await h.githubToken(await h.mint(releaseTag()), "private-deps");
    expect(response.status).toBe(503);
    expect((await expectNoLeak(response, ["attacker"])).error).toBe("upstream_unavailable");
    expect(h.network.callsTo(ATTACKER)).toHaveLength(0);
  });
});
