// buildAssumeRoleInput for GitLab tokens and for the grant fields of issue #4 (managed policies, transitive operator
// tags, external id), beside test/aws/session.test.ts (GitHub behaviour, unchanged).
import { describe, expect, it } from "vitest";
import { BROKER_SESSION_TAG_KEYS, buildAssumeRoleInput, GITLAB_SESSION_TAG_KEYS, sessionArgsFor } from "../../src/aws/session.ts";
import { BrokerError } from "../../src/errors.ts";
import { parseClaims, type GitLabClaims } from "../../src/oidc/claims.ts";
import type { RoleGrant } from "../../src/aws/session.ts";
import { githubClaims } from "../support/fake-issuer.ts";
import { gitlabClaims } from "../support/gitlab-claims.ts";

const grant: RoleGrant = { alias: "deploy", arn: "arn:aws:iam::123456789012:role/deploy", maxDurationSeconds: 3600, sessionPolicyJson: undefined, sessionTags: [] };
const gitlab = (overrides: Record<string, unknown> = {}) => parseClaims("gitlab", gitlabClaims(overrides)) as GitLabClaims;

function thrown(run: () => unknown): BrokerError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(BrokerError);
    return error as BrokerError;
  }
  throw new Error("expected a BrokerError");
}

describe("buildAssumeRoleInput: GitLab", () => {
  it("names the session gl-<pipeline>-<job>-<project> and the source identity gl-<user>, with GitLab's own tag keys", () => {
    const input = buildAssumeRoleInput({ kind: "gitlab", claims: gitlab({ environment: "production" }), grant, durationSeconds: 900 });
    expect(input.roleSessionName).toBe("gl-574-302-acme.app");
    expect(input.sourceIdentity).toBe("gl-sample-user");
    expect(Object.fromEntries(input.tags.map((tag) => [tag.key, tag.value]))).toEqual({
      Project: "acme/app",
      ProjectId: "4242",
      Namespace: "acme",
      NamespaceId: "72",
      Ref: "main",
      RefType: "branch",
      RefProtected: "true",
      Sha: "714a629c0b401fdce83e847fc9589983fc6f46bc",
      PipelineSource: "push",
      PipelineId: "574",
      JobId: "302",
      User: "sample-user",
      UserId: "1",
      Environment: "production",
      RunnerEnvironment: "gitlab-hosted",
    });
    expect(input.transitiveTagKeys).toEqual(input.tags.map((tag) => tag.key));
  });

  it("never tags the user's email, and never a GitHub identity key (a GitHub trust policy cannot be satisfied)", () => {
    const input = buildAssumeRoleInput({ kind: "gitlab", claims: gitlab(), grant, durationSeconds: 900 });
    expect(JSON.stringify(input)).not.toContain("@example.com");
    const keys = input.tags.map((tag) => tag.key);
    for (const key of ["Repository", "RepositoryId", "RepositoryOwner", "RepositoryOwnerId", "Actor", "ActorId"]) expect(keys).not.toContain(key);
  });

  it("sanitises and bounds hostile GitLab values like GitHub ones", () => {
    const input = buildAssumeRoleInput({ kind: "gitlab", claims: gitlab({ project_path: `acme/${"x*".repeat(100)}`, user_login: "a b\u202e" }), grant, durationSeconds: 900 });
    expect(input.roleSessionName).toMatch(/^gl-574-302-acme\.[\w+=,.@-]+$/);
    expect(input.roleSessionName.length).toBeLessThanOrEqual(64);
    expect(input.sourceIdentity).toBe("gl-a_b_");
  });

  it("sessionArgsFor picks by issuer kind", () => {
    expect(buildAssumeRoleInput(sessionArgsFor("gitlab", gitlab(), grant, 900)).roleSessionName).toMatch(/^gl-/);
    expect(buildAssumeRoleInput(sessionArgsFor("github", parseClaims("github", githubClaims()), grant, 900)).roleSessionName).toMatch(/^gh-/);
  });

  it("the two tag tables share no identity key and both fit STS beside operator tags", () => {
    expect(GITLAB_SESSION_TAG_KEYS.length).toBeLessThanOrEqual(20);
    expect(BROKER_SESSION_TAG_KEYS).not.toContain("Project");
  });
});

describe("buildAssumeRoleInput: grant fields (issue #4)", () => {
  const full: RoleGrant = {
    ...grant,
    sessionTags: [["CostCenter", "infra"], ["Team", "platform"]],
    policyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
    transitiveTagKeys: ["CostCenter"],
    externalId: "acme-ci-broker",
  };

  it("passes managed policy ARNs, the external id, and makes the named operator tags transitive too", () => {
    const input = buildAssumeRoleInput({ claims: parseClaims("github", githubClaims()) as never, grant: full, durationSeconds: 900 });
    expect(input.policyArns).toEqual(["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
    expect(input.externalId).toBe("acme-ci-broker");
    expect(input.transitiveTagKeys).toContain("CostCenter");
    expect(input.transitiveTagKeys).not.toContain("Team");
    expect(input.transitiveTagKeys.at(-1)).toBe("CostCenter");
  });

  it("refuses a transitive key that is not an operator tag, and more than 10 managed policies (config_invalid)", () => {
    const claims = parseClaims("github", githubClaims()) as never;
    expect(thrown(() => buildAssumeRoleInput({ claims, grant: { ...full, transitiveTagKeys: ["Repository"] }, durationSeconds: 900 })).reason).toBe("transitive_tag_invalid");
    const eleven = Array.from({ length: 11 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`);
    expect(thrown(() => buildAssumeRoleInput({ claims, grant: { ...full, policyArns: eleven }, durationSeconds: 900 })).reason).toBe("policy_arns_invalid");
  });

  it("a grant without the new fields sends none of them (GitHub behaviour unchanged)", () => {
    const input = buildAssumeRoleInput({ claims: parseClaims("github", githubClaims()) as never, grant, durationSeconds: 900 });
    expect(input).toMatchObject({ policyArns: [], externalId: undefined });
  });
});
