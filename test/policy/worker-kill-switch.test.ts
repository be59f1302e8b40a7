// The kill switch through the whole Worker (KV keys under killswitch: in JWKS_CACHE).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../../src/http/constants.ts";
import { KILL_SWITCH_CACHE_MS } from "../../src/policy/constants.ts";
import { definePolicy } from "../../src/policy/define.ts";
import { createHarness } from "../support/broker-harness.ts";
import { expectDenied } from "./worker-helpers.ts";

describe("kill switch (KV keys under killswitch: in JWKS_CACHE)", () => {
  /**
   * A policy for a repository no other test uses: the KV namespace is shared by every test file. Names carry
   * capitals, as GitHub may send them: kill-switch keys are written in lower case and still match.
   */
  function uniqueRepo() {
    const suffix = crypto.randomUUID().slice(0, 8);
    const claims = {
      repository: `Kill-${suffix}/App`,
      repository_id: String(Date.now() % 1e9) + suffix.replace(/\D/g, "").slice(0, 5),
      repository_owner: `Kill-${suffix}`,
      repository_owner_id: `9${suffix.replace(/\D/g, "").padEnd(4, "1")}`,
      actor: `Actor-${suffix}`,
      actor_id: `8${suffix.replace(/\D/g, "").padEnd(4, "2")}`,
    };
    const policy = definePolicy({
      roles: { app: { arn: "arn:aws:iam::111122223333:role/app" } },
      rules: [
        {
          id: "kill-test",
          match: { repository: claims.repository, repository_id: claims.repository_id },
          roles: ["app"],
        },
      ],
    });
    return { claims, policy };
  }

  it.each([
    [
      "repository",
      (c: Record<string, string>) => `killswitch:repo:${c.repository?.toLowerCase()}`,
      "kill_switch_repository",
    ],
    ["repository id", (c: Record<string, string>) => `killswitch:repo-id:${c.repository_id}`, "kill_switch_repository"],
    [
      "owner",
      (c: Record<string, string>) => `killswitch:owner:${c.repository_owner?.toLowerCase()}`,
      "kill_switch_owner",
    ],
    ["owner id", (c: Record<string, string>) => `killswitch:owner-id:${c.repository_owner_id}`, "kill_switch_owner"],
    ["actor", (c: Record<string, string>) => `killswitch:actor:${c.actor?.toLowerCase()}`, "kill_switch_actor"],
    ["actor id", (c: Record<string, string>) => `killswitch:actor-id:${c.actor_id}`, "kill_switch_actor"],
  ])("denies by %s, then un-denies once the key is deleted", async (_name, keyOf, reason) => {
    const { claims, policy } = uniqueRepo();
    const h = await createHarness({ policy });
    expect((await h.request(await h.mint(claims))).status).toBe(200);

    const key = keyOf(claims);
    await env.JWKS_CACHE.put(key, "INC-1234");
    try {
      h.advance(KILL_SWITCH_CACHE_MS); // past this isolate's memo of the earlier miss
      const denied = await h.request(await h.mint(claims));
      await expectDenied(h, denied, reason);
      expect(h.sts.requestCount).toBe(1);
      expect(h.events().at(-1)).toMatchObject({ outcome: "denied", repository: claims.repository });
    } finally {
      await env.JWKS_CACHE.delete(key);
    }
    h.advance(KILL_SWITCH_CACHE_MS);
    expect((await h.request(await h.mint(claims))).status).toBe(200);
  });

  it("denies a GitLab project through a key on its parent group", async () => {
    const suffix = crypto.randomUUID().slice(0, 8);
    const project = { namespace_path: `kill-${suffix}/platform`, project_path: `kill-${suffix}/platform/app` };
    const policy = definePolicy({
      issuers: { github: "github", gitlab: "gitlab" },
      roles: { app: { arn: "arn:aws:iam::111122223333:role/app" } },
      rules: [{ id: "gl", issuer: "gitlab", match: { project_path: project.project_path }, roles: ["app"] }],
    });
    const h = await createHarness({ policy, issuers: [{ id: "gitlab", kind: "gitlab" }] });
    const key = `killswitch:namespace:kill-${suffix}`;
    await env.JWKS_CACHE.put(key, "x");
    try {
      await expectDenied(h, await h.request(await h.mintFor("gitlab", project)), "kill_switch_owner");
    } finally {
      await env.JWKS_CACHE.delete(key);
    }
  });

  it("fails closed: a KV error answers 503 upstream_unavailable with Retry-After, never credentials", async () => {
    const { claims, policy } = uniqueRepo();
    const kv = env.JWKS_CACHE;
    const brokenKillSwitch = {
      get: (key: string, options: unknown) =>
        key.startsWith("killswitch:") ? Promise.reject(new Error("KV GET failed")) : kv.get(key, options as "text"),
      put: (key: string, value: string, options?: KVNamespacePutOptions) => kv.put(key, value, options),
    };
    const h = await createHarness({ policy, env: { JWKS_CACHE: brokenKillSwitch } });
    const response = await h.request(await h.mint(claims));
    expect(response.headers.get("retry-after")).toBe(String(UPSTREAM_RETRY_AFTER_SECONDS));
    await expectDenied(h, response, "kill_switch_unavailable", 503, "upstream_unavailable");
    expect(h.sts.requestCount).toBe(0);
  });
});
