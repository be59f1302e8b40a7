// compilePolicy (src/policy/compile.ts): the shipped policies compile, role grants as compiled, and the policy's
// issuers
// against the deployment's ISSUERS.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import candidatePolicy from "../fixtures/policies/candidate.ts";
import testPolicy from "../fixtures/policies/index.ts";
import { parseConfig } from "../../src/config.ts";
import { MATCH_KEYS } from "../../src/policy/claim-keys.ts";
import { compilePolicy, PolicyCompileError } from "../../src/policy/compile.ts";
import { definePolicy } from "../../src/policy/define.ts";
import type { GitHubMatch, GitLabMatch } from "../../src/policy/types.ts";
import { role, rule, compileError } from "./compile-helpers.ts";

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
