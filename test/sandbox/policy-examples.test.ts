import { describe, expect, it } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { parseClaims } from "../../src/oidc/claims.ts";
import { compilePolicy } from "../../src/policy/compile.ts";
import { decide } from "../../src/policy/decide.ts";
import { definePolicy } from "../../src/policy/define.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";
import { bannerLines } from "../../sandbox/banner.ts";
import { deriveSandboxExamples, type SandboxExamples } from "../../sandbox/policy-examples.ts";

const context = {
  npm: "npm --prefix '/p/' run -s",
  brokerUrl: "http://127.0.0.1:8787",
  sandboxOrigin: "http://127.0.0.1:8788",
};

function examplesOf(policy: PolicyDefinition): SandboxExamples {
  const { jti: _jti, ...base } = githubClaims();
  return deriveSandboxExamples(compilePolicy(policy), "github", base);
}

/** What the broker decides for the token the sandbox mints by default (the issuer's defaults + the derived claims). */
function defaultTokenDecision(
  policy: PolicyDefinition,
  examples: SandboxExamples,
  overrides: Record<string, string> = {},
) {
  const claims = parseClaims("github", {
    ...githubClaims(),
    iss: "http://127.0.0.1:8788",
    aud: "ci-credential-broker",
    iat: 1,
    nbf: 1,
    exp: 2,
    ...examples.defaultClaims,
    ...overrides,
  });
  return decide(compilePolicy(policy), {
    issuerId: "github",
    claims: claims as unknown as Record<string, unknown>,
    role: examples.granted?.role,
    durationSeconds: undefined,
  });
}

/** A small other organisation: trunk deploys, tagged releases publish, no GitHub facts, nothing of acme. */
const globex = definePolicy({
  roles: {
    deploy: { arn: "arn:aws:iam::222233334444:role/globex-deploy", privileged: true },
    publish: { arn: "arn:aws:iam::222233334444:role/globex-publish", privileged: true },
    read: { arn: "arn:aws:iam::222233334444:role/globex-read" },
  },
  rules: [
    { id: "globex-legacy", effect: "deny", match: { repository: "globex/legacy-*" } },
    {
      id: "globex-api-trunk",
      match: {
        repository: "globex/api",
        repository_id: "5550001",
        ref: "refs/heads/trunk",
        event_name: ["push", "workflow_dispatch"],
      },
      roles: ["deploy"],
    },
    {
      id: "globex-api-tags",
      match: { repository: "globex/api", repository_id: "5550001", ref: "refs/tags/v*", ref_type: "tag" },
      roles: ["publish"],
    },
    { id: "globex-any-read", match: { repository_owner: "globex", repository_owner_id: "5550000" }, roles: ["read"] },
  ],
});

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

  it("seeds facts a rule requires, on the trunk it deploys from: its own run's jobs, a pinned workflow's run, an App's check, writers, rulesets", () => {
    const reviewed = definePolicy({
      roles: globex.roles,
      rules: [
        {
          ...globex.rules[1],
          require: {
            checks: [
              { job: "test (ubuntu, 22)" },
              { workflow: ".github/workflows/scan.yml", job: "scan", events: ["schedule", "workflow_dispatch"] },
              {
                workflow: ".github/workflows/scan.yml",
                job: "licenses",
                events: ["workflow_dispatch"],
                conclusion: ["neutral", "skipped"],
              },
              { name: "build", app: 4242 },
            ],
            pullRequest: { approvals: 2 },
            rulesets: { approvals: 1, lastPushApproval: true },
          },
        },
      ],
    } as PolicyDefinition);
    const examples = examplesOf(reviewed);
    expect(examples.granted).toMatchObject({ ruleId: "globex-api-trunk" });
    expect(examples.facts).toEqual(
      expect.objectContaining({
        repository: "globex/api",
        branch: "trunk",
        run: {
          id: Number(githubClaims().run_id),
          workflow: ".github/workflows/ci.yml",
          event: "push",
          jobs: [{ name: "test (ubuntu, 22)", conclusion: "success" }],
        },
        // One run serves both requirements on scan.yml: an event both accept.
        runs: [
          {
            workflow: ".github/workflows/scan.yml",
            event: "workflow_dispatch",
            jobs: [
              { name: "scan", conclusion: "success" },
              { name: "licenses", conclusion: "neutral" },
            ],
          },
        ],
        checks: [{ name: "build", app: 4242, conclusion: "success" }],
        approvals: 2,
        rulesets: { approvals: 1, lastPushApproval: true, dismissStaleReviews: false },
        scan: { job: "test (ubuntu, 22)", workflow: undefined },
        hint: "github scan failure",
      }),
    );
  });

  it("offers no grant whose requirements the sandbox cannot seed: a job of a workflow the token does not run", () => {
    // The token's workflow_ref is pinned to another repository's workflow: its own run is none of globex/api's.
    const elsewhere = definePolicy({
      roles: globex.roles,
      rules: [
        {
          ...globex.rules[1],
          match: {
            ...globex.rules[1]?.match,
            workflow_ref: "globex/shared/.github/workflows/deploy.yml@refs/heads/main",
          },
          require: { checks: [{ job: "test" }] },
        },
      ],
    } as PolicyDefinition);
    expect(examplesOf(elsewhere).unavailable).toMatch(/grants credentials to a token the sandbox can derive/);
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
