import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import candidatePolicy from "../fixtures/policies/candidate.ts";
import testPolicy from "../fixtures/policies/index.ts";
import { parseConfig } from "../../src/config.ts";
import { MATCH_KEYS } from "../../src/policy/claim-keys.ts";
import {
  compilePolicy,
  PolicyCompileError,
  type CompileOptions,
  type PolicyErrorCode,
} from "../../src/policy/compile.ts";
import { definePolicy } from "../../src/policy/define.ts";
import type { GitHubMatch, GitLabMatch, PolicyDefinition } from "../../src/policy/types.ts";

const role = { arn: "arn:aws:iam::111122223333:role/app" };
const rule = { id: "r1", match: { repository: "acme/app" }, roles: ["app"] };

function compileError(policy: PolicyDefinition, options: CompileOptions = {}): PolicyCompileError {
  try {
    compilePolicy(policy, options);
  } catch (error) {
    if (error instanceof PolicyCompileError) return error;
    throw error;
  }
  throw new Error("policy compiled, but a PolicyCompileError was expected");
}

describe("compilePolicy: the shipped policies", () => {
  it("compiles the example policy, rules in declaration order, indexed per issuer", () => {
    const compiled = compilePolicy(testPolicy);
    expect(compiled.rules.map((r) => r.id)).toContain("acme-app-main-deploy");
    expect([...compiled.roles.keys()]).toEqual(["deploy", "readonly", "infra-deploy", "publish"]);
    expect([...compiled.issuers.keys()]).toEqual(["github", "ghes", "gitlab"]);
    expect(compiled.issuers.get("gitlab")?.kind).toBe("gitlab");
    // acme/app's rules are found by one Map lookup on `repository`, not a scan.
    const github = compiled.issuers.get("github");
    expect(
      github?.allow.byClaim
        .find((entry) => entry.claim === "repository")
        ?.values.get("acme/app")
        ?.map((r) => r.id),
    ).toEqual(["acme-app-main-deploy", "acme-app-pull-request-readonly", "acme-app-release-homebrew-tap"]);
    expect([...compiled.githubTokens.keys()]).toEqual(["homebrew-tap", "private-deps"]);
  });

  it("compiles both shipped policies against the ISSUERS of wrangler.toml (what the Worker does at start-up)", () => {
    const { issuers } = parseConfig(env);
    expect(() => compilePolicy(testPolicy, { issuers })).not.toThrow();
    expect(() => compilePolicy(candidatePolicy, { issuers })).not.toThrow();
  });

  it("compiles a role's grant fields: managed policies, transitive tag keys, external id, privileged", () => {
    const grant = compilePolicy({
      ...testPolicy,
      roles: {
        ...testPolicy.roles,
        "infra-deploy": { ...testPolicy.roles["infra-deploy"], externalId: "acme-ci-broker" },
      },
    } as typeof testPolicy).roles.get("infra-deploy");
    expect(grant).toEqual({
      alias: "infra-deploy",
      arn: "arn:aws:iam::444455556666:role/ci/infra-deploy",
      maxDurationSeconds: 3600,
      sessionPolicyJson: undefined,
      sessionTags: [["CostCenter", "infra"]],
      privileged: true,
      policyArns: ["arn:aws:iam::444455556666:policy/ci/infra-boundary"],
      transitiveTagKeys: ["CostCenter"],
      externalId: "acme-ci-broker",
    });
  });

  it("refuses a role with an external id when STS_AUTH is web-identity (AssumeRoleWithWebIdentity has no ExternalId)", () => {
    const withExternalId = {
      ...testPolicy,
      roles: {
        ...testPolicy.roles,
        "infra-deploy": { ...testPolicy.roles["infra-deploy"], externalId: "acme-ci-broker" },
      },
    } as typeof testPolicy;
    expect(() => compilePolicy(withExternalId, { stsAuth: "sigv4" })).not.toThrow();
    expect(() => compilePolicy(testPolicy, { stsAuth: "web-identity" })).not.toThrow();
    try {
      compilePolicy(withExternalId, { stsAuth: "web-identity" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PolicyCompileError);
      expect((error as PolicyCompileError).code).toBe("external_id_unsupported");
      expect((error as PolicyCompileError).location).toBe("roles.infra-deploy.externalId");
    }
  });

  it("keeps GitHubMatch/GitLabMatch and the compiler's claim lists in step", () => {
    // Every key the types offer compiles; the type check of this object keeps the lists honest in the other direction.
    const github: Required<GitHubMatch> = Object.fromEntries(
      MATCH_KEYS.github.all.map((key) => [key, MATCH_KEYS.github.ids.includes(key) ? "1" : "x"]),
    ) as never;
    const gitlab: Required<GitLabMatch> = Object.fromEntries(
      MATCH_KEYS.gitlab.all.map((key) => [key, MATCH_KEYS.gitlab.ids.includes(key) ? "1" : "x"]),
    ) as never;
    const deny = (issuer: string, match: object) => ({ id: `d-${issuer}`, effect: "deny" as const, issuer, match });
    expect(() =>
      compilePolicy({
        issuers: { github: "github", gitlab: "gitlab" },
        roles: {},
        rules: [deny("github", github), deny("gitlab", gitlab)],
      }),
    ).not.toThrow();
  });
});

describe("compilePolicy: mistakes, each pointing at the culprit with a stable code", () => {
  const mistakes: Array<[string, PolicyDefinition, string, PolicyErrorCode]> = [
    [
      "undefined role",
      { roles: { app: role }, rules: [{ ...rule, roles: ["missing"] }] },
      "rules[0] (r1)",
      "role_undefined",
    ],
    [
      "alias mapped to an undefined role",
      { roles: { app: role }, rules: [{ ...rule, roles: { deploy: "missing" } }] },
      "rules[0] (r1)",
      "role_undefined",
    ],
    [
      "malformed ARN (short account)",
      { roles: { app: { arn: "arn:aws:iam::1234:role/app" } }, rules: [rule] },
      "roles.app",
      "arn_invalid",
    ],
    [
      "user ARN instead of role",
      { roles: { app: { arn: "arn:aws:iam::111122223333:user/app" } }, rules: [rule] },
      "roles.app",
      "arn_invalid",
    ],
    [
      "malformed managed policy ARN",
      { roles: { app: { ...role, managedPolicyArns: ["arn:aws:iam::aws:role/x"] } }, rules: [rule] },
      "roles.app.managedPolicyArns[0]",
      "arn_invalid",
    ],
    [
      "eleven managed policies",
      {
        roles: {
          app: { ...role, managedPolicyArns: Array.from({ length: 11 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`) },
        },
        rules: [rule],
      },
      "roles.app.managedPolicyArns",
      "arn_invalid",
    ],
    [
      "duration below STS minimum",
      { roles: { app: { ...role, maxDurationSeconds: 899 } }, rules: [rule] },
      "roles.app",
      "role_invalid",
    ],
    [
      "duration above STS maximum",
      { roles: { app: { ...role, maxDurationSeconds: 43_201 } }, rules: [rule] },
      "roles.app",
      "role_invalid",
    ],
    [
      "session policy over 2048 characters",
      {
        roles: { app: { ...role, sessionPolicy: { Version: "2012-10-17", Statement: [{ Sid: "x".repeat(2048) }] } } },
        rules: [rule],
      },
      "roles.app.sessionPolicy",
      "session_policy_too_large",
    ],
    [
      "aws: tag key",
      { roles: { app: { ...role, sessionTags: { "aws:x": "1" } } }, rules: [rule] },
      "roles.app.sessionTags.aws:x",
      "session_tag_invalid",
    ],
    [
      "tag value with bad characters",
      { roles: { app: { ...role, sessionTags: { Team: "a;b" } } }, rules: [rule] },
      "roles.app.sessionTags.Team",
      "session_tag_invalid",
    ],
    [
      "tag key the broker sets (GitHub)",
      { roles: { app: { ...role, sessionTags: { repository: "x" } } }, rules: [rule] },
      "roles.app.sessionTags.repository",
      "session_tag_invalid",
    ],
    [
      "tag key the broker sets (GitLab)",
      { roles: { app: { ...role, sessionTags: { Project: "x" } } }, rules: [rule] },
      "roles.app.sessionTags.Project",
      "session_tag_invalid",
    ],
    [
      "tag keys differing only in case",
      { roles: { app: { ...role, sessionTags: { Team: "a", team: "b" } } }, rules: [rule] },
      "roles.app.sessionTags.team",
      "session_tag_invalid",
    ],
    [
      "transitive key that is not a tag",
      { roles: { app: { ...role, sessionTags: { Team: "a" }, transitiveTagKeys: ["Cost"] } }, rules: [rule] },
      "roles.app.transitiveTagKeys",
      "session_tag_invalid",
    ],
    [
      "external id too short",
      { roles: { app: { ...role, externalId: "x" } }, rules: [rule] },
      "roles.app.externalId",
      "role_invalid",
    ],
    [
      "external id with a space",
      { roles: { app: { ...role, externalId: "a b" } }, rules: [rule] },
      "roles.app.externalId",
      "role_invalid",
    ],
    [
      "unknown role field",
      { roles: { app: { ...role, maxDuration: 900 } as never }, rules: [rule] },
      "roles.app.maxDuration",
      "role_invalid",
    ],
    [
      "duplicate rule id",
      { roles: { app: role }, rules: [rule, { ...rule, match: { repository: "acme/other" } }] },
      "rules[1] (r1)",
      "rule_invalid",
    ],
    [
      "rule with no conditions",
      { roles: { app: role }, rules: [{ ...rule, match: {} }] },
      "rules[0] (r1)",
      "rule_invalid",
    ],
    [
      "empty pattern list",
      { roles: { app: role }, rules: [{ ...rule, match: { repository: [] } }] },
      "rules[0] (r1).match.repository",
      "pattern_invalid",
    ],
    [
      "empty pattern",
      { roles: { app: role }, rules: [{ ...rule, match: { repository: "" } }] },
      "rules[0] (r1).match.repository",
      "pattern_invalid",
    ],
    [
      "unknown claim",
      { roles: { app: role }, rules: [{ ...rule, match: { repo: "acme/app" } as never }] },
      "rules[0] (r1).match.repo",
      "rule_invalid",
    ],
    [
      "GitLab claim in a GitHub rule",
      { roles: { app: role }, rules: [{ ...rule, match: { project_path: "acme/app" } as never }] },
      "rules[0] (r1).match.project_path",
      "rule_invalid",
    ],
    [
      "ambiguous glob",
      { roles: { app: role }, rules: [{ ...rule, match: { repository: "acme/app", ref: "refs/***" } }] },
      "rules[0] (r1).match.ref",
      "pattern_invalid",
    ],
    [
      "id as a glob",
      { roles: { app: role }, rules: [{ ...rule, match: { repository: "acme/app", repository_id: "87*" } }] },
      "rules[0] (r1).match.repository_id",
      "pattern_invalid",
    ],
    [
      "id that is not digits",
      { roles: { app: role }, rules: [{ ...rule, match: { repository_id: "0x1f" } }] },
      "rules[0] (r1).match.repository_id",
      "pattern_invalid",
    ],
    [
      "allow rule without roles",
      { roles: { app: role }, rules: [{ id: "r1", match: { repository: "acme/app" } }] },
      "rules[0] (r1)",
      "rule_invalid",
    ],
    [
      "deny rule with roles",
      { roles: { app: role }, rules: [{ ...rule, effect: "deny" }] },
      "rules[0] (r1)",
      "rule_invalid",
    ],
    [
      "deny rule with an opt-out",
      {
        roles: { app: role },
        rules: [{ id: "d", effect: "deny", match: { actor: "x" }, allowSelfHostedRunners: true }],
      },
      "rules[0] (d).allowSelfHostedRunners",
      "rule_invalid",
    ],
    [
      "misspelt opt-out",
      { roles: { app: role }, rules: [{ ...rule, allowSelfHostedRunner: true } as never] },
      "rules[0] (r1).allowSelfHostedRunner",
      "rule_invalid",
    ],
    [
      "opt-out set to false",
      { roles: { app: role }, rules: [{ ...rule, allowSelfHostedRunners: false } as never] },
      "rules[0] (r1).allowSelfHostedRunners",
      "rule_invalid",
    ],
    [
      "when that is not a function",
      { roles: { app: role }, rules: [{ ...rule, when: true } as never] },
      "rules[0] (r1).when",
      "rule_invalid",
    ],
    [
      "rate limit on a deny rule",
      {
        roles: { app: role },
        rules: [{ id: "d", effect: "deny", match: { actor: "x" }, rateLimit: { perMinute: 1, burst: 1 } }],
      },
      "rules[0] (d)",
      "rule_invalid",
    ],
    [
      "rule for an undeclared issuer",
      { roles: { app: role }, rules: [{ ...rule, issuer: "gitlab" }] },
      "rules[0] (r1)",
      "issuer_undeclared",
    ],
    [
      "issuer of an unknown kind",
      { issuers: { gh: "bitbucket" as never }, roles: { app: role }, rules: [] },
      "issuers.gh",
      "policy_invalid",
    ],
    // Breadth: allow rules must say whose code they trust, with the owner literal.
    [
      "allow rule with no repository condition at all",
      { roles: { app: role }, rules: [{ ...rule, match: { ref: "refs/heads/main" } }] },
      "rules[0] (r1)",
      "rule_unscoped",
    ],
    [
      "repository */* (every repository of every owner)",
      { roles: { app: role }, rules: [{ ...rule, match: { repository: "*/*" } }] },
      "rules[0] (r1).match.repository",
      "pattern_too_broad",
    ],
    [
      "repository ** (everything)",
      { roles: { app: role }, rules: [{ ...rule, match: { repository: "**" } }] },
      "rules[0] (r1).match.repository",
      "pattern_too_broad",
    ],
    [
      "repository */app (every owner's app)",
      { roles: { app: role }, rules: [{ ...rule, match: { repository: ["acme/app", "*/app"] } }] },
      "rules[0] (r1).match.repository",
      "pattern_too_broad",
    ],
    [
      "owner acme-* (owners anyone can create)",
      { roles: { app: role }, rules: [{ ...rule, match: { repository_owner: "acme-*" } }] },
      "rules[0] (r1).match.repository_owner",
      "pattern_too_broad",
    ],
    [
      "GitLab project **/app",
      {
        issuers: { gitlab: "gitlab" },
        roles: { app: role },
        rules: [{ ...rule, issuer: "gitlab", match: { project_path: "**/app" } }],
      },
      "rules[0] (r1).match.project_path",
      "pattern_too_broad",
    ],
    [
      "GitLab allow rule on ref only",
      {
        issuers: { gitlab: "gitlab" },
        roles: { app: role },
        rules: [{ ...rule, issuer: "gitlab", match: { ref: "main" } }],
      },
      "rules[0] (r1)",
      "rule_unscoped",
    ],
    // Reusable workflows: pinned exactly, with the caller's owner id.
    [
      "job_workflow_ref as a glob",
      {
        roles: { app: role },
        rules: [
          {
            ...rule,
            match: { repository_owner_id: "1", job_workflow_ref: "acme/wf/.github/workflows/*.yml@refs/heads/main" },
          },
        ],
      },
      "rules[0] (r1).match.job_workflow_ref",
      "workflow_ref_glob",
    ],
    [
      "job_workflow_ref without the caller's owner id",
      {
        roles: { app: role },
        rules: [
          {
            ...rule,
            match: { repository_owner: "acme", job_workflow_ref: "acme/wf/.github/workflows/x.yml@refs/heads/main" },
          },
        ],
      },
      "rules[0] (r1)",
      "workflow_caller_unpinned",
    ],
  ];
  it.each(mistakes)("refuses %s", (_name, policy, location, code) => {
    const error = compileError(policy);
    expect({ location: error.location, code: error.code }).toEqual({ location, code });
  });

  it("a deny rule may be as broad as it likes", () => {
    expect(() =>
      compilePolicy({ roles: { app: role }, rules: [rule, { id: "d", effect: "deny", match: { repository: "**" } }] }),
    ).not.toThrow();
  });

  it("globs workflow_ref (the caller's own workflow file), never job_workflow_ref (the reusable one)", () => {
    const callerGlob = { repository: "acme/app", workflow_ref: "acme/app/.github/workflows/*.yml@refs/heads/main" };
    expect(() => compilePolicy({ roles: { app: role }, rules: [{ ...rule, match: callerGlob }] })).not.toThrow();
    const reusableOnAnyRef = {
      repository_owner_id: "1",
      job_workflow_ref: "acme/wf/.github/workflows/release.yml@refs/heads/*",
    };
    expect(compileError({ roles: { app: role }, rules: [{ ...rule, match: reusableOnAnyRef }] }).code).toBe(
      "workflow_ref_glob",
    );
  });

  it("allowAnyWorkflowCaller opts out of the caller pin, explicitly", () => {
    const match = { repository_owner: "acme", job_workflow_ref: "acme/wf/.github/workflows/x.yml@refs/heads/main" };
    expect(() =>
      compilePolicy({ roles: { app: role }, rules: [{ ...rule, match, allowAnyWorkflowCaller: true }] }),
    ).not.toThrow();
  });

  it("accepts a session policy of exactly 2048 characters", () => {
    const base = JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "" }] }).length;
    const sessionPolicy = { Version: "2012-10-17", Statement: [{ Sid: "x".repeat(2048 - base) }] };
    expect(() => compilePolicy({ roles: { app: { ...role, sessionPolicy } }, rules: [rule] })).not.toThrow();
  });

  it("accepts ten managed policies, AWS-managed and the account's own", () => {
    const managedPolicyArns = [
      ...Array.from({ length: 9 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`),
      "arn:aws-us-gov:iam::111122223333:policy/path/Own",
    ];
    expect(() => compilePolicy({ roles: { app: { ...role, managedPolicyArns } }, rules: [rule] })).not.toThrow();
  });
});

describe("compilePolicy: issuers against the deployment's ISSUERS", () => {
  const policy = definePolicy({
    issuers: { github: "github", gitlab: "gitlab" },
    roles: { app: role },
    rules: [rule, { id: "gl", issuer: "gitlab", match: { project_path: "acme/app" }, roles: ["app"] }],
  });

  it("refuses a policy issuer configured with another kind", () => {
    const error = compileError(policy, {
      issuers: [
        { id: "github", kind: "github" },
        { id: "gitlab", kind: "github" },
      ],
    });
    expect({ location: error.location, code: error.code }).toEqual({
      location: "issuers.gitlab",
      code: "issuer_kind_mismatch",
    });
  });

  it("accepts a policy issuer the deployment does not configure: its rules simply never match", () => {
    expect(() => compilePolicy(policy, { issuers: [{ id: "github", kind: "github" }] })).not.toThrow();
  });
});
