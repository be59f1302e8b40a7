// POST /v1/github-token when GitHub or the configuration fails: an answer wider than asked (refused, revoked), outages
// (503 + Retry-After, the OIDC token still usable), the App not installed, the facts App as token App, GitLab callers.
import { describe, expect, it } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { createHarness, expectNoLeak, HARNESS_APP_ID } from "../support/broker-harness.ts";
import { EXAMPLE_GRANT_REPOSITORIES } from "../../sandbox/fakes/fake-github-api.ts";
import { GRANT_WORDS, releaseTag } from "./helpers.ts";

describe("GitHub's answer must not be wider than asked", () => {
  const widenings = [
    ["a permission not asked for", { permissions: { pull_requests: "write" } }],
    ["a level above the one asked", { permissions: { contents: "write" } }],
    ["every repository of the installation", { allRepositories: true }],
  ] as const;
  it.each(widenings)("%s: 503, the token revoked and logged, never answered", async (_label, widening) => {
    const h = await createHarness();
    h.github.widenTokens(widening);
    const token = await h.mint(releaseTag());
    const response = await h.githubToken(token, "private-deps");
    expect(response.status).toBe(503);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await expectNoLeak(response, GRANT_WORDS)).toMatchObject({ error: "upstream_unavailable" });
    expect(h.events().at(-1)).toMatchObject({
      kind: "github_token",
      outcome: "error",
      reason: "github_token_wider_than_asked",
      github_token: "private-deps",
    });
    expect(h.events().at(-1)?.minted_sha256).toBeUndefined();
    expect(h.logs.find((line) => line.message === "github_token_too_wide")).toMatchObject({
      github_token: "private-deps",
      revoked: true,
    });
    const [minted] = h.github.tokenAppTokens;
    expect(minted?.revoked).toBe(true);
    // Nothing left the broker: the OIDC token may still buy its one token.
    h.github.widenTokens(null);
    expect((await h.githubToken(token, "private-deps")).status).toBe(200);
  });
});

describe("GitHub outages: 503 with Retry-After, nothing spent", () => {
  it("a 5xx from access_tokens", async () => {
    const h = await createHarness();
    h.github.fail({ kind: "status", status: 502 }, { endpoint: "access_tokens", times: 1 });
    const token = await h.mint(releaseTag());
    const response = await h.githubToken(token, "homebrew-tap");
    expect(response.status).toBe(503);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await expectNoLeak(response, GRANT_WORDS)).toMatchObject({ error: "upstream_unavailable" });
    expect(h.events().at(-1)).toMatchObject({ reason: "github_api_unavailable" });
    expect((await h.githubToken(token, "homebrew-tap")).status).toBe(200);
  });

  it("a 5xx from the installation lookup", async () => {
    const h = await createHarness();
    h.github.fail({ kind: "status", status: 500 }, { endpoint: "org_installation" });
    const response = await h.githubToken(await h.mint(releaseTag()), "homebrew-tap");
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).not.toBeNull();
  });

  it("a call that never answers times out", async () => {
    const h = await createHarness({ github: { callTimeoutMs: 50, budgetMs: 200 } });
    h.github.fail({ kind: "hang" }, { endpoint: "access_tokens" });
    const response = await h.githubToken(await h.mint(releaseTag()), "homebrew-tap");
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).not.toBeNull();
    expect(h.logs.find((line) => line.message === "github_unavailable")).toMatchObject({
      reason: "github_api_unavailable",
      detail: expect.stringContaining("timeout"),
    });
  });

  it("GitHub's rate limit: 503 with GitHub's wait", async () => {
    const h = await createHarness();
    h.github.fail(
      { kind: "rate_limited", secondary: true, retryAfterSeconds: 120 },
      { endpoint: "access_tokens", times: 1 },
    );
    const response = await h.githubToken(await h.mint(releaseTag()), "homebrew-tap");
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("120");
    expect(h.events().at(-1)).toMatchObject({ reason: "github_api_rate_limited" });
  });
});

describe("the token App's setup", () => {
  it("a repository outside the installation: forbidden, and a config line for the operator", async () => {
    const h = await createHarness();
    h.github.setTokenAppInstalled(EXAMPLE_GRANT_REPOSITORIES.homebrewTap.name, false);
    const response = await h.githubToken(await h.mint(releaseTag()), "homebrew-tap");
    expect(response.status).toBe(403);
    await expectNoLeak(response, GRANT_WORDS);
    expect(h.events().at(-1)).toMatchObject({ reason: "github_token_app_scope_missing" });
    expect(h.logs.find((line) => line.message === "config_invalid")).toMatchObject({
      reason: "github_token_app_scope_missing",
      github_token: "homebrew-tap",
    });
  });

  it("a permission the App was not granted: forbidden (GitHub's 422)", async () => {
    const policy = {
      ...testPolicy,
      githubTokens: {
        ...testPolicy.githubTokens,
        "homebrew-tap": {
          owner: "acme",
          repositories: ["homebrew-tap"],
          permissions: { contents: "write", issues: "write" } as const,
        },
      },
    };
    const h = await createHarness({ policy });
    const response = await h.githubToken(await h.mint(releaseTag()), "homebrew-tap");
    expect(response.status).toBe(403);
    expect(h.events().at(-1)).toMatchObject({ reason: "github_token_app_scope_missing" });
  });

  it("the facts App's id as the token App's: config_invalid for every request", async () => {
    const h = await createHarness({ env: { GITHUB_TOKEN_APP_ID: HARNESS_APP_ID } });
    const response = await h.githubToken(await h.mint(releaseTag()), "homebrew-tap");
    expect(response.status).toBe(500);
    expect(await expectNoLeak(response)).toMatchObject({ error: "config_invalid" });
    expect(h.logs.find((line) => line.message === "config_invalid")).toMatchObject({
      reason: "github_token_app_is_facts_app",
    });
  });

  it("no token App: AWS credentials still flow, grants answer config_invalid, the gap logged once", async () => {
    const h = await createHarness({ env: { GITHUB_TOKEN_APP_ID: undefined, GITHUB_TOKEN_APP_PRIVATE_KEY: undefined } });
    expect((await h.request(await h.mint())).status).toBe(200);
    const response = await h.githubToken(await h.mint(releaseTag()), "homebrew-tap");
    expect(response.status).toBe(500);
    expect(h.events().at(-1)).toMatchObject({ code: "config_invalid", reason: "github_token_app_missing" });
    expect(
      h.logs.filter((line) => line.message === "config_warning" && line.reason === "github_token_app_missing"),
    ).toHaveLength(1);
  });

  it("a GITHUB_TOKEN_API_URL over plain http (not loopback) is refused", async () => {
    const h = await createHarness({ env: { GITHUB_TOKEN_API_URL: "http://github.example/api/v3" } });
    expect((await h.githubToken(await h.mint(releaseTag()), "homebrew-tap")).status).toBe(500);
  });
});

describe("a GitLab pipeline's grant reaches GitHub", () => {
  it("private-deps for GitLab acme/app on main", async () => {
    const policy = {
      ...testPolicy,
      rules: [
        ...testPolicy.rules,
        {
          id: "gitlab-acme-app-private-deps",
          issuer: "gitlab",
          match: { project_path: "acme/app", project_id: "4242" },
          githubTokens: ["private-deps"],
        },
      ],
    };
    const h = await createHarness({ policy, issuers: [{ id: "gitlab", kind: "gitlab" }] });
    const response = await h.githubToken(await h.mintFor("gitlab"), "private-deps");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ repositories: ["acme/private-lib"], api_url: h.githubApiUrl });
    expect(h.events().at(-1)).toMatchObject({
      kind: "github_token",
      issuer: "gitlab",
      repository: "acme/app",
      github_token: "private-deps",
      outcome: "issued",
    });
    // A grant the GitLab rule does not give is denied like any other.
    const denied = await h.githubToken(await h.mintFor("gitlab"), "homebrew-tap");
    expect(denied.status).toBe(403);
  });
});
