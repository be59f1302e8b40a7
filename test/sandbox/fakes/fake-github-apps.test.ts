// The fake GitHub API's Apps (fake-github-apps.ts) as GitHub documents them: installation tokens scoped by
// repository_ids, repositories and permissions, never beyond the installation's; revocation; the second App (the token
// App) with its own installations and permissions; and, on demand, an answer wider than asked.
import { describe, expect, it } from "vitest";
import { signAppJwt } from "../../../src/github/app-key.ts";
import { createFakeGitHub } from "../../../sandbox/fakes/fake-github-api.ts";
import { callerOf, fake, keys, NOW, token } from "./fake-github-client.ts";
import { generateAppKey } from "../../../sandbox/fakes/github-app-key.ts";

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
    return {
      github,
      call: callerOf(github),
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
