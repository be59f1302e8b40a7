// POST /v1/github-token through the whole Worker: a grant issued exactly as wide as written, the guards' and the
// policy's denials, single use shared with /v1/credentials, and the audit event.
import { describe, expect, it } from "vitest";
import { createHarness, expectAudit, expectNoLeak } from "../support/broker-harness.ts";
import { EXAMPLE_GRANT_REPOSITORIES } from "../support/fake-github-api.ts";
import { githubClaims } from "../support/fake-issuer.ts";
import { expectGrantDenied, releaseTag, sha256Prefix } from "./helpers.ts";

const { homebrewTap, privateLib } = EXAMPLE_GRANT_REPOSITORIES;

describe("a grant is issued exactly as wide as written", () => {
  it("homebrew-tap on a protected release tag: the token, its scope, and what it can reach", async () => {
    const h = await createHarness();
    const response = await h.githubToken(await h.mint(releaseTag()), "homebrew-tap");
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["api_url", "expires_at", "permissions", "repositories", "token"]);
    expect(body).toMatchObject({
      token: expect.stringMatching(/^ghs_[A-Za-z0-9]{36}$/),
      expires_at: new Date(h.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
      permissions: { contents: "write", pull_requests: "write", metadata: "read" },
      repositories: ["acme/homebrew-tap"],
      api_url: h.githubApiUrl,
    });
    // GitHub was asked for exactly the grant: one repository, its permissions plus metadata: read.
    const [minted] = h.github.tokenAppTokens;
    expect(h.github.tokenAppTokens).toHaveLength(1);
    expect(minted).toMatchObject({
      token: body.token,
      repositoryIds: [homebrewTap.id],
      permissions: { contents: "write", pull_requests: "write", metadata: "read" },
    });
    // The facts App minted nothing (the rule has no requirements).
    expect(h.github.tokens).toHaveLength(0);
    // The token reaches its repository, and no other.
    const get = (path: string) =>
      h.network.fetch(`${h.githubApiUrl}${path}`, {
        headers: { authorization: `Bearer ${String(body.token)}`, "user-agent": "test" },
      });
    expect((await get(`/repos/${homebrewTap.name}`)).status).toBe(200);
    expect((await get(`/repos/${privateLib.name}`)).status).toBe(404);
    expect((await get("/repos/acme/app")).status).toBe(404);

    const { event } = expectAudit(h, {
      kind: "github_token",
      outcome: "issued",
      rule_id: "acme-app-release-homebrew-tap",
      github_token: "homebrew-tap",
      github_repositories: "acme/homebrew-tap",
      github_permissions: "contents:write,metadata:read,pull_requests:write",
      minted_sha256: await sha256Prefix(String(body.token)),
      status: 200,
    });
    expect(event.role_alias).toBeUndefined();
    // Never the token nor the token App's key, anywhere in the logs.
    const logs = JSON.stringify(h.logs);
    expect(logs).not.toContain(String(body.token).slice(4));
    expect(logs).not.toContain(h.tokenAppKey.pkcs1Pem.split("\n")[1] as string);
  });

  it("private-deps (read-only) for another acme repository's pull_request", async () => {
    const h = await createHarness();
    const claims = githubClaims({
      repository: "acme/web",
      repository_id: "874563999",
      event_name: "pull_request",
      ref: "refs/pull/7/merge",
      ref_protected: "false",
      base_ref: "main",
      head_ref: "feature",
    });
    const response = await h.githubToken(await h.mint(claims), "private-deps");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      permissions: { contents: "read", metadata: "read" },
      repositories: ["acme/private-lib"],
    });
    expect(h.github.tokenAppTokens[0]).toMatchObject({
      repositoryIds: [privateLib.id],
      permissions: { contents: "read", metadata: "read" },
    });
  });

  it("a user account's installation (GET /orgs/... is 404, /users/... answers)", async () => {
    const h = await createHarness();
    h.github.setUser("acme");
    const response = await h.githubToken(await h.mint(releaseTag()), "homebrew-tap");
    expect(response.status).toBe(200);
    expect(h.github.calls.org_installation).toBe(1);
    expect(h.github.calls.user_installation).toBe(1);
  });

  it("each exchange gets its own token (never cached); the installation lookup is remembered", async () => {
    const h = await createHarness();
    const first = (await (await h.githubToken(await h.mint(releaseTag()), "homebrew-tap")).json()) as { token: string };
    const second = (await (await h.githubToken(await h.mint(releaseTag()), "homebrew-tap")).json()) as {
      token: string;
    };
    expect(first.token).not.toBe(second.token);
    expect(h.github.calls.access_tokens).toBe(2);
    expect(h.github.calls.org_installation).toBe(1);
  });

  it("stateless tokens (ghs_ + JWT) pass through unchanged, and never reach the logs", async () => {
    const h = await createHarness();
    h.github.setStatelessTokens(true);
    const body = (await (await h.githubToken(await h.mint(releaseTag()), "homebrew-tap")).json()) as { token: string };
    expect(body.token).toMatch(/^ghs_eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(JSON.stringify(h.logs)).not.toContain(body.token.slice(4, 40));
    expect(h.events().at(-1)).toMatchObject({ minted_sha256: await sha256Prefix(body.token) });
  });
});

describe("denials name no grant, repository or permission", () => {
  const cases: Array<[string, Record<string, unknown>, string, string]> = [
    ["a branch instead of a tag", githubClaims(), "homebrew-tap", "grant_not_granted"],
    [
      "an unprotected tag (privileged guard)",
      releaseTag({ ref_protected: "false" }),
      "homebrew-tap",
      "guard_unprotected_ref",
    ],
    [
      "a pull request",
      githubClaims({
        event_name: "pull_request",
        ref: "refs/pull/7/merge",
        ref_protected: "false",
        base_ref: "main",
        head_ref: "feature",
      }),
      "homebrew-tap",
      "grant_not_granted",
    ],
    ["issue_comment", githubClaims({ event_name: "issue_comment" }), "private-deps", "no_matching_rule"],
    [
      "another repository's release tag",
      releaseTag({ repository: "acme/web", repository_id: "874563999" }),
      "homebrew-tap",
      "grant_not_granted",
    ],
    [
      "another owner",
      githubClaims({ repository: "evil/app", repository_id: "1", repository_owner: "evil", repository_owner_id: "2" }),
      "private-deps",
      "no_matching_rule",
    ],
    ["an unknown name", releaseTag(), "no-such-grant", "grant_not_granted"],
    [
      "a self-hosted runner (privileged guard)",
      releaseTag({ runner_environment: "self-hosted" }),
      "homebrew-tap",
      "guard_self_hosted_runner",
    ],
  ];
  it.each(cases)("%s", async (_label, claims, name, reason) => {
    const h = await createHarness();
    await expectGrantDenied(h, await h.githubToken(await h.mint(claims), name), reason);
  });
});

describe("requests", () => {
  it("a malformed name or a missing name is invalid_request; GET is 405", async () => {
    const h = await createHarness();
    for (const body of [{ name: "Homebrew Tap" }, {}, { name: "homebrew-tap", role: "deploy" }]) {
      const response = await h.fetch(
        new Request("https://broker.example/v1/github-token", {
          method: "POST",
          headers: { authorization: `Bearer ${await h.mint(releaseTag())}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      );
      expect(response.status).toBe(400);
      expect(await expectNoLeak(response)).toMatchObject({ error: "invalid_request" });
    }
    const get = await h.fetch(new Request("https://broker.example/v1/github-token"));
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
  });

  it("the OIDC token in the body works as well as the Bearer header", async () => {
    const h = await createHarness();
    const token = await h.mint(releaseTag());
    const response = await h.fetch(
      new Request("https://broker.example/v1/github-token", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token, name: "homebrew-tap" }),
      }),
    );
    expect(response.status).toBe(200);
  });

  it("an invalid OIDC token is invalid_token, before any GitHub call", async () => {
    const h = await createHarness();
    const response = await h.githubToken(`${(await h.mint(releaseTag())).slice(0, -4)}AAAA`, "homebrew-tap");
    expect(response.status).toBe(401);
    expect(await expectNoLeak(response)).toMatchObject({ error: "invalid_token" });
    expect(h.github.calls.access_tokens).toBe(0);
  });
});

describe("one OIDC token is exchanged once, across both endpoints", () => {
  it("twice at /v1/github-token: token_reused", async () => {
    const h = await createHarness();
    const token = await h.mint(releaseTag());
    expect((await h.githubToken(token, "homebrew-tap")).status).toBe(200);
    const again = await h.githubToken(token, "homebrew-tap");
    expect(again.status).toBe(401);
    expect(await expectNoLeak(again)).toMatchObject({ error: "token_reused" });
    expect(h.github.tokenAppTokens).toHaveLength(1);
  });

  it("used at /v1/credentials, refused at /v1/github-token; and the other way round", async () => {
    const h = await createHarness();
    const token = await h.mint();
    expect((await h.request(token)).status).toBe(200);
    const reused = await h.githubToken(token, "private-deps");
    expect(reused.status).toBe(401);
    expect(await reused.json()).toMatchObject({ error: "token_reused" });
    expect(h.github.tokenAppTokens).toHaveLength(0);

    const other = await h.mint();
    expect((await h.githubToken(other, "private-deps")).status).toBe(200);
    const credentials = await h.request(other);
    expect(credentials.status).toBe(401);
    expect(await credentials.json()).toMatchObject({ error: "token_reused" });
  });
});

describe("operator controls", () => {
  it("the kill switch denies grants as it denies roles", async () => {
    const h = await createHarness();
    const { env } = await import("cloudflare:workers");
    await env.JWKS_CACHE.put("killswitch:repo:acme/app", "INC-42");
    try {
      await expectGrantDenied(
        h,
        await h.githubToken(await h.mint(releaseTag()), "homebrew-tap"),
        "kill_switch_repository",
      );
    } finally {
      await env.JWKS_CACHE.delete("killswitch:repo:acme/app");
    }
  });

  it("a grant's issuances take from their own bucket of the repository (rateLimit on the rule overrides)", async () => {
    const h = await createHarness({ admission: { repositoryLimit: { perMinute: 1, burst: 1 } } });
    expect((await h.githubToken(await h.mint(releaseTag()), "homebrew-tap")).status).toBe(200);
    const limited = await h.githubToken(await h.mint(releaseTag()), "homebrew-tap");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // Not the bucket of the repository's roles, nor of its other grants.
    expect((await h.githubToken(await h.mint(releaseTag()), "private-deps")).status).toBe(200);
    expect((await h.request(await h.mint())).status).toBe(200);
  });
});

describe("shadow mode", () => {
  it("a candidate that would deny the grant is logged beside the live answer, never answered", async () => {
    const { default: testPolicy } = await import("../fixtures/policies/index.ts");
    const candidatePolicy = {
      ...testPolicy,
      rules: testPolicy.rules.filter((rule) => rule.id !== "acme-app-release-homebrew-tap"),
    };
    const h = await createHarness({ candidatePolicy, env: { SHADOW_POLICY: "on" } });
    expect((await h.githubToken(await h.mint(releaseTag()), "homebrew-tap")).status).toBe(200);
    expect(h.logs.find((line) => line.message === "policy_shadow")).toMatchObject({
      live: { allowed: true, rule_id: "acme-app-release-homebrew-tap", github_token: "homebrew-tap" },
      candidate: { allowed: false, reason: "grant_not_granted" },
    });
  });
});
