// The examples `npm start` derives from the policy it runs and prints in its banner (sandbox/policy-examples.ts,
// sandbox/banner.ts): a default token the policy grants, another rule's grant, a denial, or why there is none.
import { describe, expect, it } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { definePolicy } from "../../src/policy/define.ts";
import { bannerLines } from "../../sandbox/banner.ts";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";
import { context, defaultTokenDecision, examplesOf, globex } from "./policy-fixtures.ts";

describe("sandbox examples from the test policy", () => {
  const examples = examplesOf(testPolicy);

  it("keeps the default token (acme/app main, push) and its grant, and seeds the facts its rule requires", () => {
    expect(examples.unavailable).toBeUndefined();
    expect(examples.granted).toEqual({
      ruleId: "acme-app-main-deploy",
      alias: "deploy",
      role: undefined,
      repository: "acme/app",
      ref: "refs/heads/main",
      eventName: "push",
    });
    expect(examples.defaultClaims).toEqual({});
    expect(examples.facts).toEqual({
      repository: "acme/app",
      repositoryId: 874563210,
      sha: githubClaims().sha,
      branch: "main",
      run: undefined,
      runs: [
        {
          workflow: ".github/workflows/dependency-review.yml",
          event: "push",
          jobs: [{ name: "dependency-review", conclusion: "success" }],
        },
      ],
      checks: [],
      approvals: 1,
      rulesets: undefined,
      scan: { job: "dependency-review", workflow: ".github/workflows/dependency-review.yml" },
      requiredBy: "acme-app-main-deploy",
      hint: "github scan failure",
    });
  });

  it("offers another rule's grant and a denial, each as the policy decides them", () => {
    expect(examples.other).toEqual({
      ruleId: "acme-app-pull-request-readonly",
      alias: "readonly",
      role: undefined,
      overrides: { event_name: "pull_request", ref: "refs/pull/1/merge" },
    });
    expect(defaultTokenDecision(testPolicy, examples, examples.other?.overrides)).toMatchObject({
      allowed: true,
      ruleId: "acme-app-pull-request-readonly",
    });
    expect(examples.denied).toEqual({
      reason: "guard_self_hosted_runner",
      ruleId: "acme-app-main-deploy",
      overrides: { runner_environment: "self-hosted" },
    });
  });

  it("prints the GitHub facts hint, since a rule requires facts", () => {
    const { lines, credentialsCommand } = bannerLines(examples, context);
    expect(credentialsCommand).toBe(
      `curl -sS -X POST http://127.0.0.1:8787/v1/credentials -H "Authorization: Bearer $(npm --prefix '/p/' run -s token)"`,
    );
    expect(lines.join("\n")).toContain("npm --prefix '/p/' run -s sandbox -- github scan failure");
    expect(lines.join("\n")).toContain("token -- --claim event_name=pull_request --claim ref=refs/pull/1/merge");
  });
});

describe("sandbox examples from another organisation's policy", () => {
  const examples = examplesOf(globex);

  it("makes the sandbox's default token one the policy grants: globex/api on trunk", () => {
    expect(examples.granted).toMatchObject({
      ruleId: "globex-api-trunk",
      alias: "deploy",
      repository: "globex/api",
      ref: "refs/heads/trunk",
      eventName: "push",
    });
    expect(examples.defaultClaims).toMatchObject({
      repository: "globex/api",
      repository_id: "5550001",
      repository_owner: "globex",
      ref: "refs/heads/trunk",
      sub: "repo:globex/api:ref:refs/heads/trunk",
      job_workflow_ref: "globex/api/.github/workflows/ci.yml@refs/heads/trunk",
    });
    expect(defaultTokenDecision(globex, examples)).toMatchObject({
      allowed: true,
      ruleId: "globex-api-trunk",
      alias: "deploy",
    });
  });

  it("offers the tag rule with a tag its glob accepts, and no GitHub facts hint (no rule requires any)", () => {
    expect(examples.other).toMatchObject({
      ruleId: "globex-api-tags",
      alias: "publish",
      overrides: { ref: "refs/tags/v1", ref_type: "tag" },
    });
    expect(defaultTokenDecision(globex, examples, examples.other?.overrides)).toMatchObject({
      allowed: true,
      ruleId: "globex-api-tags",
    });
    expect(examples.facts).toMatchObject({
      repository: "globex/api",
      run: undefined,
      runs: [],
      checks: [],
      approvals: 0,
      rulesets: undefined,
      scan: undefined,
      requiredBy: undefined,
    });
    const text = bannerLines(examples, context).lines.join("\n");
    expect(text).toContain("for globex/api on refs/heads/trunk (push; rule globex-api-trunk, role deploy)");
    expect(text).not.toMatch(/acme|GitHub facts|dependency-review/);
  });

  it("asks for a role when the first rule grants several, in the printed commands too", () => {
    const two = definePolicy({
      roles: globex.roles,
      rules: [{ id: "both", match: { repository: "globex/api", repository_id: "5550001" }, roles: ["read", "deploy"] }],
    });
    const examples = examplesOf(two);
    expect(examples.granted).toMatchObject({ ruleId: "both", alias: "read", role: "read" });
    expect(defaultTokenDecision(two, examples)).toMatchObject({ allowed: true, alias: "read" });
    expect(bannerLines(examples, context).credentialsCommand).toMatch(/ -d '\{"role":"read"\}'$/);
  });
});

describe("nothing to derive", () => {
  it.each([
    [
      "GitLab rules only",
      definePolicy({
        issuers: { gitlab: "gitlab" },
        roles: { app: { arn: "arn:aws:iam::111122223333:role/app" } },
        rules: [{ id: "gl", issuer: "gitlab", match: { project_path: "globex/api", project_id: "7" }, roles: ["app"] }],
      }),
      /no rules for the sandbox's GitHub-shaped issuer "github" \(its issuers: gitlab\)/,
    ],
    [
      "only a rule whose predicate no derived token passes",
      definePolicy({
        roles: { app: { arn: "arn:aws:iam::111122223333:role/app" } },
        rules: [{ id: "never", match: { repository: "globex/api" }, when: () => false, roles: ["app"] }],
      }),
      /no allow rule for issuer "github" grants credentials/,
    ],
  ])("%s: the banner says so and offers no command that would fail", (_name, policy, reason) => {
    const examples = examplesOf(policy);
    expect(examples.unavailable).toMatch(reason);
    expect(examples.defaultClaims).toEqual({});
    expect(examples.facts).toBeUndefined();
    const banner = bannerLines(examples, context);
    expect(banner.credentialsCommand).toBeUndefined();
    expect(banner.lines[0]).toMatch(/^Ready\. No example to offer: /);
    expect(banner.lines.join("\n")).not.toContain("/v1/credentials");
  });
});
