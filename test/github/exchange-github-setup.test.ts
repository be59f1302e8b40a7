// Rules with GitHub requirements and the deployment's setup (docs/github-facts.md), through the whole Worker inside
// workerd: how long met facts and installation tokens are reused, and a GitHub App missing or misconfigured.
import { describe, expect, it } from "vitest";
import { GITHUB_FACT_CACHE_MS } from "../../src/github/constants.ts";
import { createHarness, expectNoLeak } from "../support/broker-harness.ts";

describe("caching", () => {
  it("reuses positive facts for a minute, and the installation token until 5 minutes before it expires", async () => {
    const h = await createHarness();
    expect((await h.request(await h.mint())).status).toBe(200);
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.github.calls).toMatchObject({ workflow_runs: 1, jobs: 1, collaborator_permission: 1 });
    h.advance(GITHUB_FACT_CACHE_MS + 1);
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.github.calls).toMatchObject({ workflow_runs: 2, jobs: 2, collaborator_permission: 2 });
    // Tokens live one hour: still reused at 54 minutes, replaced past 55.
    h.advance(53 * 60_000);
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.github.tokensIssued).toBe(1);
    h.advance(2 * 60_000);
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.github.tokensIssued).toBe(2);
  });
});

describe("configuration", () => {
  it("rules with requirements and no GitHub App refuse to start (500 config_invalid)", async () => {
    const h = await createHarness({ env: { GITHUB_APP_ID: "", GITHUB_APP_PRIVATE_KEY: "" } });
    const response = await h.request(await h.mint({ repository: "acme/docs", repository_id: "874563299" }));
    expect(response.status).toBe(500);
    expect((await expectNoLeak(response)).error).toBe("config_invalid");
    expect(h.logs).toContainEqual(expect.objectContaining({ message: "config_invalid", reason: "github_app_missing" }));
    expect(h.github.calls.installation).toBe(0);
  });

  it("a malformed App key refuses to start, without echoing it", async () => {
    const h = await createHarness({
      env: { GITHUB_APP_PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\nnot-a-key\n-----END RSA PRIVATE KEY-----" },
    });
    const response = await h.request(await h.mint());
    expect(response.status).toBe(500);
    expect(JSON.stringify(h.logs)).not.toContain("not-a-key");
  });

  it("a rule without requirements never calls GitHub", async () => {
    const h = await createHarness();
    const response = await h.request(
      await h.mint({ event_name: "pull_request", ref: "refs/pull/7/merge", ref_protected: "false" }),
    );
    expect(response.status).toBe(200);
    expect(Object.values(h.github.calls).every((count) => count === 0)).toBe(true);
  });
});
