// buildAssumeRoleInput for GitLab tokens and for the grant fields (managed policies, transitive operator
// tags, external id), beside test/aws/session.test.ts (GitHub behaviour, unchanged).
import { describe, expect, it } from "vitest";
import {
  BROKER_SESSION_TAG_KEYS,
  buildAssumeRoleInput,
  GITLAB_SESSION_TAG_KEYS,
  sessionArgsFor,
} from "../../src/aws/session.ts";
import { brokerFailure } from "../support/broker-failure.ts";
import { parseClaims, type GitLabClaims } from "../../src/oidc/claims.ts";
import type { RoleGrant } from "../../src/aws/session.ts";
import { githubClaims } from "../support/fake-issuer.ts";
import { gitlabClaims } from "../support/gitlab-claims.ts";

const grant: RoleGrant = {
  alias: "deploy",
  arn: "arn:aws:iam::123456789012:role/deploy",
  maxDurationSeconds: 3600,
  sessionPolicyJson: undefined,
  sessionTags: [],
};
const GITLAB_COM = { id: "gitlab", kind: "gitlab" as const, issuer: "https://gitlab.com" };
const GITHUB_COM = { id: "github", kind: "github" as const, issuer: "https://token.actions.githubusercontent.com" };
const gitlab = (overrides: Record<string, unknown> = {}) =>
  parseClaims("gitlab", gitlabClaims(overrides)) as GitLabClaims;
/** The token's SHA-256 prefix, as the exchange passes it (the audit event's token_sha256). */
const tokenSha256 = "0123456789abcdef";

describe("buildAssumeRoleInput: GitLab", () => {
  it("names the session gl-<pipeline>-<job>-<token hash>-<project> and the source identity gl-<user>, with GitLab's own tag keys", async () => {
    const input = await buildAssumeRoleInput({
      kind: "gitlab",
      issuer: GITLAB_COM,
      claims: gitlab({ environment: "production" }),
      grant,
      durationSeconds: 900,
      tokenSha256,
    });
    expect(input.roleSessionName).toBe("gl-574-302-0123456789abcdef-acme.app");
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
      Issuer: "https://gitlab.com",
    });
    expect(input.transitiveTagKeys).toEqual(input.tags.map((tag) => tag.key));
  });

  it("never tags the user's email, and never a GitHub identity key (a GitHub trust policy cannot be satisfied)", async () => {
    const input = await buildAssumeRoleInput({
      kind: "gitlab",
      issuer: GITLAB_COM,
      claims: gitlab(),
      grant,
      durationSeconds: 900,
      tokenSha256,
    });
    expect(JSON.stringify(input)).not.toContain("@example.com");
    const keys = input.tags.map((tag) => tag.key);
    for (const key of ["Repository", "RepositoryId", "RepositoryOwner", "RepositoryOwnerId", "Actor", "ActorId"])
      expect(keys).not.toContain(key);
  });

  it("sanitises and bounds hostile GitLab names; tags them losslessly", async () => {
    const input = await buildAssumeRoleInput({
      kind: "gitlab",
      issuer: GITLAB_COM,
      claims: gitlab({ project_path: `acme/${"x*".repeat(30)}`, user_login: "a b\u202e" }),
      grant,
      durationSeconds: 900,
      tokenSha256,
    });
    expect(input.roleSessionName).toMatch(/^gl-574-302-0123456789abcdef-acme\.[\w+=,.@-]+$/);
    expect(input.roleSessionName.length).toBeLessThanOrEqual(64);
    expect(input.sourceIdentity).toMatch(/^gl-a_b_=[0-9a-f]{32}$/); // not a GitLab username: hashed, never confused with `a_b_`
    expect(input.tags.find((tag) => tag.key === "User")?.value).toBe("a b=E2=80=AE");
    const long = buildAssumeRoleInput({
      kind: "gitlab",
      issuer: GITLAB_COM,
      claims: gitlab({ project_path: `acme/${"x*".repeat(100)}` }),
      grant,
      durationSeconds: 900,
      tokenSha256,
    });
    expect(await brokerFailure(long)).toMatchObject({ code: "forbidden", reason: "session_tag_unrepresentable" });
  });

  it("gitlab.com keeps gl-; a self-managed GitLab gets gl.<id>.", async () => {
    const selfManaged = { id: "gitlab-internal", kind: "gitlab" as const, issuer: "https://gitlab.acme.example" };
    const input = await buildAssumeRoleInput({
      kind: "gitlab",
      issuer: selfManaged,
      claims: gitlab(),
      grant,
      durationSeconds: 900,
      tokenSha256,
    });
    expect(input).toMatchObject({
      roleSessionName: "gl.gitlab-internal.574-302-0123456789abcdef-acme.app",
      sourceIdentity: "gl.gitlab-internal.sample-user",
    });
    expect(input.tags.find((tag) => tag.key === "Issuer")?.value).toBe("https://gitlab.acme.example");
  });

  it("sessionArgsFor picks by issuer kind", async () => {
    expect(
      (await buildAssumeRoleInput(sessionArgsFor(GITLAB_COM, gitlab(), grant, 900, tokenSha256))).roleSessionName,
    ).toMatch(/^gl-/);
    expect(
      (
        await buildAssumeRoleInput(
          sessionArgsFor(GITHUB_COM, parseClaims("github", githubClaims()), grant, 900, tokenSha256),
        )
      ).roleSessionName,
    ).toMatch(/^gh-/);
  });

  it("the two tag tables share no identity key and both fit STS beside operator tags", async () => {
    expect(GITLAB_SESSION_TAG_KEYS.length).toBeLessThanOrEqual(20);
    expect(BROKER_SESSION_TAG_KEYS).not.toContain("Project");
  });
});

describe("buildAssumeRoleInput: grant fields", () => {
  const full: RoleGrant = {
    ...grant,
    sessionTags: [
      ["CostCenter", "infra"],
      ["Team", "platform"],
    ],
    policyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
    transitiveTagKeys: ["CostCenter"],
    externalId: "acme-ci-broker",
  };

  it("passes managed policy ARNs, the external id, and makes the named operator tags transitive too", async () => {
    const input = await buildAssumeRoleInput({
      issuer: GITHUB_COM,
      claims: parseClaims("github", githubClaims()) as never,
      grant: full,
      durationSeconds: 900,
      tokenSha256,
    });
    expect(input.policyArns).toEqual(["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
    expect(input.externalId).toBe("acme-ci-broker");
    expect(input.transitiveTagKeys).toContain("CostCenter");
    expect(input.transitiveTagKeys).not.toContain("Team");
    expect(input.transitiveTagKeys.at(-1)).toBe("CostCenter");
  });

  it("refuses a transitive key that is not an operator tag, and more than 10 managed policies (config_invalid)", async () => {
    const claims = parseClaims("github", githubClaims()) as never;
    expect(
      (
        await brokerFailure(
          buildAssumeRoleInput({
            issuer: GITHUB_COM,
            claims,
            grant: { ...full, transitiveTagKeys: ["Repository"] },
            durationSeconds: 900,
            tokenSha256,
          }),
        )
      ).reason,
    ).toBe("transitive_tag_invalid");
    const eleven = Array.from({ length: 11 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`);
    expect(
      (
        await brokerFailure(
          buildAssumeRoleInput({
            issuer: GITHUB_COM,
            claims,
            grant: { ...full, policyArns: eleven },
            durationSeconds: 900,
            tokenSha256,
          }),
        )
      ).reason,
    ).toBe("policy_arns_invalid");
  });

  it("a grant without the new fields sends none of them (GitHub behaviour unchanged)", async () => {
    const input = await buildAssumeRoleInput({
      issuer: GITHUB_COM,
      claims: parseClaims("github", githubClaims()) as never,
      grant,
      durationSeconds: 900,
      tokenSha256,
    });
    expect(input).toMatchObject({ policyArns: [], externalId: undefined });
  });
});
