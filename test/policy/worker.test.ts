// The policy through the whole Worker with several issuers: each token passes its own rules and fails the others'.
import { describe, expect, it } from "vitest";
import { definePolicy } from "../../src/policy/define.ts";
import { createHarness, expectAudit, expectNoLeak, type Harness } from "../support/broker-harness.ts";
import { githubClaims } from "../support/fake-issuer.ts";
import { gitlabClaims } from "../support/gitlab-claims.ts";
import { expectDenied } from "./worker-helpers.ts";

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
