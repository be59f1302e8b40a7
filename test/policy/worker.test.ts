// Policy features through the whole Worker in workerd (createHarness): several issuers (GitHub.com, GHES, an enterprise-slug
// issuer, GitLab) each passing their own rules and failing the others', shadow mode, and the kill switch.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import candidatePolicy from "../fixtures/policies/candidate.ts";
import testPolicy from "../fixtures/policies/index.ts";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../../src/http/constants.ts";
import { KILL_SWITCH_CACHE_MS } from "../../src/policy/constants.ts";
import { definePolicy } from "../../src/policy/define.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";
import { createHarness, expectAudit, expectNoLeak, type Harness } from "../support/broker-harness.ts";
import { githubClaims } from "../support/fake-issuer.ts";
import { gitlabClaims } from "../support/gitlab-claims.ts";

const MULTI = [
  { id: "ghes", kind: "github" as const, path: "/_services/token", config: { audiences: ["ci-credential-broker"] } },
  { id: "gitlab", kind: "gitlab" as const },
];

/** The one credential_exchange line of a single-request harness. */
const eventOf = (h: Harness) => {
  const events = h.events();
  expect(events).toHaveLength(1);
  return expectAudit(h, {}).event;
};

async function expectDenied(
  h: Harness,
  response: Response,
  reason: string,
  status = 403,
  code = "forbidden",
): Promise<void> {
  expect(response.status, await response.clone().text()).toBe(status);
  expect((await expectNoLeak(response, [reason])).error).toBe(code);
  // The audit trail: log line and Analytics Engine data point, field for field.
  expectAudit(h, {
    outcome: code === "forbidden" ? "denied" : status >= 500 ? "error" : "rejected",
    code,
    reason,
    status,
  });
}

describe("several issuers: each token passes its own rules and fails the others'", () => {
  it("a GitLab token gets the GitLab rule's role, with GitLab session naming and tags", async () => {
    const h = await createHarness({ issuers: MULTI });
    const response = await h.request(await h.mintFor("gitlab"));
    expect(response.status, await response.clone().text()).toBe(200);
    const call = h.sts.assumeRoleCalls[0];
    // A self-managed GitLab (the harness's issuer is not gitlab.com): gl.<issuer id>. prefixes, and an Issuer tag.
    expect(call).toMatchObject({
      roleArn: "arn:aws:iam::111122223333:role/acme-app-deploy",
      roleSessionName: expect.stringMatching(/^gl\.gitlab\.574-302-[0-9a-f]{16}-acme\.app$/),
      sourceIdentity: "gl.gitlab.sample-user",
    });
    const tags = Object.fromEntries((call?.tags ?? []).map((tag) => [tag.key, tag.value]));
    expect(tags).toMatchObject({
      Project: "acme/app",
      ProjectId: "4242",
      NamespaceId: "72",
      RefProtected: "true",
      Team: "platform",
      Issuer: h.extraIssuers.gitlab?.issuer,
    });
    expect(tags).not.toHaveProperty("Repository");
    expect(eventOf(h)).toMatchObject({
      outcome: "issued",
      issuer: "gitlab",
      repository: "acme/app",
      ref: "refs/heads/main",
      event_name: "push",
      rule_id: "gitlab-acme-app-deploy",
      role_alias: "deploy",
    });
  });

  it("a GitLab token fails the GitLab rule's guard (unprotected main) with its stable reason", async () => {
    const h = await createHarness({ issuers: MULTI });
    await expectDenied(
      h,
      await h.request(await h.mintFor("gitlab", { ref_protected: "false" })),
      "guard_unprotected_ref",
    );
    expect(h.sts.requestCount).toBe(0);
  });

  it("a GitLab token carrying GitHub claims for acme/app never matches the github.com rules", async () => {
    const h = await createHarness({ issuers: MULTI });
    const token = await h.mintFor("gitlab", {
      ...githubClaims(),
      project_path: "other/app",
      project_id: "9",
      namespace_path: "other",
      namespace_id: "8",
    });
    await expectDenied(h, await h.request(token), "no_matching_rule");
  });

  it("GitLab-shaped claims from a GitHub issuer are refused by the GitHub schema (401)", async () => {
    const h = await createHarness({ issuers: MULTI });
    const token = await h.mint(
      { ...gitlabClaims(), repository: undefined, repository_id: undefined },
      { omit: ["repository", "repository_id"] },
    );
    await expectDenied(h, await h.request(token), "claims_invalid", 401, "invalid_token");
  });

  it("a GHES token (custom issuer URL) gets its own rule: infra-deploy with managed policy and transitive tag, no external id", async () => {
    const h = await createHarness({ issuers: MULTI });
    const token = await h.mintFor("ghes", {
      repository: "platform/infra",
      repository_id: "1042",
      repository_owner: "platform",
      repository_owner_id: "7",
      runner_environment: "self-hosted",
    });
    const response = await h.request(token, { role: "deploy" });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(h.extraIssuers.ghes?.issuer).toMatch(/\/_services\/token$/);
    expect(h.sts.assumeRoleCalls[0]).toMatchObject({
      roleArn: "arn:aws:iam::444455556666:role/ci/infra-deploy",
      policyArns: ["arn:aws:iam::444455556666:policy/ci/infra-boundary"],
      // GHES has its own account namespace: its own prefix, never github.com's gh- (docs/security.md).
      roleSessionName: expect.stringMatching(/^ghe\.ghes\./),
      sourceIdentity: "ghe.ghes.octocat",
    });
    expect(h.sts.assumeRoleCalls[0]?.externalId).toBeUndefined();
    expect(h.sts.assumeRoleCalls[0]?.transitiveTagKeys).toContain("CostCenter");
    expect(eventOf(h)).toMatchObject({
      issuer: "ghes",
      rule_id: "ghes-platform-infra-deploy",
      role_alias: "infra-deploy",
    });
  });

  it("a GHES token for acme/app matches none of the github.com rules", async () => {
    const h = await createHarness({ issuers: MULTI });
    await expectDenied(h, await h.request(await h.mintFor("ghes")), "no_matching_rule");
  });

  it("a github.com token for platform/infra matches none of the GHES rules", async () => {
    const h = await createHarness({ issuers: MULTI });
    const token = await h.mint({
      repository: "platform/infra",
      repository_id: "1042",
      repository_owner: "platform",
      repository_owner_id: "7",
      runner_environment: "self-hosted",
    });
    await expectDenied(h, await h.request(token), "no_matching_rule");
  });

  it("the github.com token itself still gets deploy beside the other issuers", async () => {
    const h = await createHarness({ issuers: MULTI });
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(eventOf(h)).toMatchObject({ issuer: "github", rule_id: "acme-app-main-deploy" });
  });

  it("an enterprise-slug issuer (iss with a path) is its own issuer", async () => {
    const policy = definePolicy({
      issuers: { github: "github", "acme-enterprise": "github" },
      roles: { deploy: { arn: "arn:aws:iam::111122223333:role/enterprise-deploy", privileged: true } },
      rules: [
        {
          id: "enterprise-app",
          issuer: "acme-enterprise",
          match: { repository: "acme/app", repository_id: "874563210" },
          roles: ["deploy"],
        },
      ],
    });
    const h = await createHarness({ policy, issuers: [{ id: "acme-enterprise", kind: "github", path: "/acme" }] });
    expect((await h.request(await h.mintFor("acme-enterprise"))).status).toBe(200);
    expect(h.events()[0]).toMatchObject({ issuer: "acme-enterprise", rule_id: "enterprise-app" });
    // The same claims from the plain github.com issuer: no rule.
    await expectDenied(h, await h.request(await h.mint()), "no_matching_rule");
  });

  it("a policy that disagrees with ISSUERS about an issuer's kind refuses to start (500 config_invalid)", async () => {
    const h = await createHarness({ issuers: [{ id: "gitlab", kind: "github" }] });
    const response = await h.request(await h.mint());
    expect(response.status).toBe(500);
    expect((await expectNoLeak(response)).error).toBe("config_invalid");
    expect(h.logs.find((line) => line.message === "config_invalid")).toMatchObject({
      reason: "policy_invalid",
      detail: expect.stringContaining("issuers.gitlab"),
    });
  });
});

describe("shadow mode", () => {
  const shadowLines = (h: Harness) => h.logs.filter((line) => line.message === "policy_shadow");

  it("logs one line when the candidate decides differently, and answers with the live decision", async () => {
    const h = await createHarness({ candidatePolicy, env: { SHADOW_POLICY: "on" } });
    // The test candidate policy also deploys from release/*; the live policy does not.
    const response = await h.request(await h.mint({ ref: "refs/heads/release/1.2" }));
    expect(response.status).toBe(403);
    expect(h.sts.requestCount).toBe(0);
    const [line, ...rest] = shadowLines(h);
    expect(rest).toEqual([]);
    expect(line).toMatchObject({
      request_id: response.headers.get("x-request-id"),
      issuer: "github",
      repository: "acme/app",
      ref: "refs/heads/release/1.2",
      live: { allowed: false, reason: "no_matching_rule", rule_id: undefined },
      candidate: { allowed: true, rule_id: "acme-app-main-deploy", role: "deploy", duration_seconds: 900 },
      grant_differs: false,
    });
    expect(JSON.stringify(line)).not.toContain("arn:aws");
  });

  it("a candidate that denies what the live policy allows never takes the credentials away", async () => {
    const strict = definePolicy({
      roles: testPolicy.roles,
      rules: [{ id: "deny-all-acme", effect: "deny", match: { repository_owner: "acme" } }],
    });
    const h = await createHarness({ candidatePolicy: strict, env: { SHADOW_POLICY: "on" } });
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(shadowLines(h)[0]).toMatchObject({
      live: { allowed: true, rule_id: "acme-app-main-deploy" },
      candidate: { allowed: false, reason: "explicit_deny", rule_id: "deny-all-acme" },
    });
  });

  it("logs nothing when both agree, and nothing at all when SHADOW_POLICY is off", async () => {
    const on = await createHarness({ candidatePolicy, env: { SHADOW_POLICY: "on" } });
    expect((await on.request(await on.mint())).status).toBe(200);
    expect(shadowLines(on)).toEqual([]);
    const off = await createHarness({ candidatePolicy });
    expect((await off.request(await off.mint({ ref: "refs/heads/release/1.2" }))).status).toBe(403);
    expect(shadowLines(off)).toEqual([]);
  });

  it("a candidate that does not compile is logged once and ignored; the live policy keeps answering", async () => {
    const broken = {
      roles: {},
      rules: [{ id: "x", match: { repository: "*/*" }, roles: ["nope"] }],
    } as PolicyDefinition;
    const h = await createHarness({ candidatePolicy: broken, env: { SHADOW_POLICY: "on" } });
    expect((await h.request(await h.mint())).status).toBe(200);
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.logs.filter((line) => line.message === "policy_shadow_disabled")).toHaveLength(1);
  });

  it("SHADOW_POLICY on without a candidate policy is logged once (candidate_policy_missing); the live policy keeps answering", async () => {
    const h = await createHarness({ env: { SHADOW_POLICY: "on" } });
    expect((await h.request(await h.mint())).status).toBe(200);
    expect((await h.request(await h.mint({ ref: "refs/heads/release/1.2" }))).status).toBe(403);
    expect(h.logs.filter((line) => line.message === "policy_shadow_disabled")).toEqual([
      { message: "policy_shadow_disabled", reason: "candidate_policy_missing" },
    ]);
    expect(shadowLines(h)).toEqual([]);
  });

  it("refuses a SHADOW_POLICY value that is neither on nor off (config_invalid)", async () => {
    const h = await createHarness({ candidatePolicy, env: { SHADOW_POLICY: "yes" } });
    expect((await h.request(await h.mint())).status).toBe(500);
  });
});

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
