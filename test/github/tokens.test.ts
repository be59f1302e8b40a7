// Least privilege for the facts App (docs/github-facts.md, "Create and install the GitHub App"), through the whole
// Worker: every installation token is asked for the one repository being judged (`repository_ids`) with read-only
// permissions, whatever the App was granted; tokens are cached per repository; a token of one repository reads
// nothing of another; stateless tokens (`ghs_` + JWT) work and never reach a log line.
import { describe, expect, it } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { GITHUB_FACT_CACHE_MS } from "../../src/github/constants.ts";
import { GITHUB_TOKEN_PERMISSIONS } from "../../src/github/client.ts";
import { definePolicy } from "../../src/policy/define.ts";
import { createHarness, expectAudit, type Harness } from "../support/broker-harness.ts";
import { EXAMPLE_FACTS } from "../support/fake-github-api.ts";
import { NO_FACT_CACHE, repository } from "./helpers.ts";

const WEB = { repository: "acme/web", id: "874563211" };

/** Two repositories of one installation, each with a rule requiring its branch's rulesets to enforce a review. */
function twoRepositories(h: Harness): void {
  h.github.addRepository(WEB.repository, Number(WEB.id));
  const rules = [{ type: "pull_request", ruleset_id: 1, parameters: { required_approving_review_count: 1 } }];
  h.github.setBranchRules(repository, "main", rules);
  h.github.setBranchRules(WEB.repository, "main", rules);
}

const rulesetsPolicy = definePolicy({
  roles: { readonly: testPolicy.roles.readonly as { arn: string } },
  rules: [
    {
      id: "app",
      match: { repository: "acme/app", repository_id: "874563210" },
      roles: ["readonly"],
      require: { rulesets: { approvals: 1 } },
    },
    {
      id: "web",
      match: { repository: "acme/web", repository_id: WEB.id },
      roles: ["readonly"],
      require: { rulesets: { approvals: 1 } },
    },
  ],
});

async function get(h: Harness, token: string, path: string): Promise<number> {
  const response = await h.github.handler(
    new Request(`${h.githubApiUrl}${path}`, { headers: { authorization: `Bearer ${token}`, "user-agent": "test" } }),
  );
  return response.status;
}

describe("installation tokens", () => {
  it("are asked for the token's repository only, read-only, even when the App was granted write", async () => {
    const h = await createHarness({
      githubAppPermissions: {
        actions: "write",
        checks: "write",
        pull_requests: "write",
        metadata: "read",
        contents: "write",
      },
    });
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.github.tokens).toHaveLength(1);
    expect(h.github.tokens[0]).toMatchObject({
      repositoryIds: [EXAMPLE_FACTS.repositoryId],
      permissions: { actions: "read", checks: "read", pull_requests: "read", metadata: "read" },
    });
    expect(Object.keys(h.github.tokens[0]?.permissions ?? {}).sort()).toEqual(
      Object.keys(GITHUB_TOKEN_PERMISSIONS).sort(),
    );
  });

  it("are cached per repository, and one repository's token reads nothing of the other (404)", async () => {
    const h = await createHarness({ policy: rulesetsPolicy });
    twoRepositories(h);
    for (let i = 0; i < 2; i++) {
      expect((await h.request(await h.mint())).status).toBe(200);
      expect((await h.request(await h.mint({ repository: WEB.repository, repository_id: WEB.id }))).status).toBe(200);
    }
    expect(h.github.tokens.map((token) => token.repositoryIds)).toEqual([
      [EXAMPLE_FACTS.repositoryId],
      [Number(WEB.id)],
    ]);
    // One installation, two tokens: each answers 404 for the other repository, as GitHub does.
    const [app, web] = h.github.tokens.map((token) => token.token) as [string, string];
    expect(await get(h, app, "/repos/acme/app")).toBe(200);
    expect(await get(h, app, "/repos/acme/web")).toBe(404);
    expect(await get(h, web, "/repos/acme/app/rules/branches/main")).toBe(404);
  });

  it("a recycled name: the installation of the name cannot reach the token's repository id, denied as a repository mismatch", async () => {
    const h = await createHarness();
    h.github.addRepository(repository, 31337);
    const response = await h.request(await h.mint());
    expect(response.status).toBe(403);
    expectAudit(h, { outcome: "denied", reason: "context_repository_mismatch" });
    expect(h.github.calls).toMatchObject({ access_tokens: 1, repository: 0 });
  });

  it("a revoked token is forgotten: that exchange fails closed (503), the next one mints a new token", async () => {
    const h = await createHarness(NO_FACT_CACHE);
    expect((await h.request(await h.mint())).status).toBe(200);
    const revoked = await h.github.handler(
      new Request(`${h.githubApiUrl}/installation/token`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${h.github.tokens[0]?.token}`, "user-agent": "test" },
      }),
    );
    expect(revoked.status).toBe(204);
    expect((await h.request(await h.mint())).status).toBe(503);
    expectAudit(h, { outcome: "error", reason: "github_api_unavailable" });
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.github.tokensIssued).toBe(2);
  });

  it("stateless tokens (ghs_ + JWT, two dots, about 520 characters) work, and no log line carries one", async () => {
    const h = await createHarness();
    h.github.setStatelessTokens(true);
    expect((await h.request(await h.mint())).status).toBe(200);
    h.advance(GITHUB_FACT_CACHE_MS + 1);
    expect((await h.request(await h.mint())).status).toBe(200);
    const [token] = h.github.tokens;
    expect(token?.stateless).toBe(true);
    expect(token?.token).toMatch(/^ghs_eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(token?.token.length).toBeGreaterThan(400);
    expect(h.github.tokensIssued).toBe(1);
    const logged = JSON.stringify(h.logs);
    expect(logged).not.toContain(token?.token.slice(4, 40));
    expect(logged).not.toContain("ghs_");
  });
});
