// The GitLab CI/CD ID token claim schema and the kind-neutral subject, beside test/oidc/claims.test.ts.
import { describe, expect, it } from "vitest";
import { claimSubject, parseClaims } from "../../src/oidc/claims.ts";
import { IssuerListSchema } from "../../src/oidc/issuers.ts";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";
import { gitlabClaims } from "../support/gitlab-claims.ts";
import { invalidToken, rejection } from "./helpers.ts";

const parse = (payload: unknown) => rejection(Promise.resolve().then(() => parseClaims("gitlab", payload)));

describe("parseClaims (gitlab)", () => {
  it("keeps GitLab's claims with their types (runner_id a number) and drops unknown ones", () => {
    const claims = parseClaims("gitlab", {
      ...gitlabClaims(),
      iss: "https://gitlab.example.com",
      aud: "x",
      exp: 1,
      custom: "z",
      user_identities: [{ provider: "github" }],
    });
    expect(claims).toMatchObject({
      project_path: "acme/app",
      project_id: "4242",
      namespace_path: "acme",
      ref_protected: "true",
      runner_id: 1,
    });
    for (const dropped of ["custom", "iss", "jti", "user_identities"]) expect(claims).not.toHaveProperty(dropped);
  });

  it("accepts GitLab's documented sample payload (null ci_config_*, groups_direct, environment claims)", () => {
    const sample = {
      namespace_id: "72",
      namespace_path: "my-group",
      project_id: "20",
      project_path: "my-group/my-project",
      user_id: "1",
      user_login: "sample-user",
      user_email: "sample-user@example.com",
      pipeline_id: "574",
      pipeline_source: "push",
      job_id: "302",
      ref: "feature-branch-1",
      ref_type: "branch",
      ref_path: "refs/heads/feature-branch-1",
      ref_protected: "false",
      groups_direct: ["mygroup/mysubgroup", "myothergroup/myothersubgroup"],
      environment: "test-environment2",
      environment_protected: "false",
      deployment_tier: "testing",
      environment_action: "start",
      runner_id: 1,
      runner_environment: "self-hosted",
      sha: "714a629c0b401fdce83e847fc9589983fc6f46bc",
      project_visibility: "public",
      ci_config_ref_uri: null,
      ci_config_sha: null,
      sub: "project_path:my-group/my-project:ref_type:branch:ref:feature-branch-1",
    };
    expect(parseClaims("gitlab", sample)).toMatchObject({
      environment_protected: "false",
      ci_config_ref_uri: null,
      groups_direct: ["mygroup/mysubgroup", "myothergroup/myothersubgroup"],
    });
  });

  it.each([
    ["project_path as an array", { project_path: ["acme/app"] }],
    ["project_id as a number", { project_id: 4242 }],
    ["namespace_id not digits", { namespace_id: "7a" }],
    ["runner_id as a string", { runner_id: "1" }],
    ["runner_id negative", { runner_id: -1 }],
    ["runner_id fractional", { runner_id: 1.5 }],
    ["ref_protected as a boolean", { ref_protected: true }],
    ["ref_protected not true/false", { ref_protected: "yes" }],
    ["environment_protected as a boolean", { environment_protected: false }],
    ["groups_direct not strings", { groups_direct: [1] }],
    ["user_email as an array", { user_email: ["a@b"] }],
  ])("rejects %s as claims_invalid", async (_name, override) => {
    expect(await parse(gitlabClaims(override))).toEqual(invalidToken("claims_invalid"));
  });

  it.each([
    "project_path",
    "project_id",
    "namespace_id",
    "user_login",
    "pipeline_source",
    "ref_protected",
    "runner_environment",
    "runner_id",
    "sha",
  ])("rejects a token without %s", async (name) => {
    const claims = gitlabClaims();
    delete claims[name];
    expect(await parse(claims)).toEqual(invalidToken("claims_invalid"));
  });

  it("a GitHub token is not a GitLab token, nor the reverse", async () => {
    expect(await parse(githubClaims())).toEqual(invalidToken("claims_invalid"));
    expect(await rejection(Promise.resolve().then(() => parseClaims("github", gitlabClaims())))).toEqual(
      invalidToken("claims_invalid"),
    );
  });
});

describe("claimSubject", () => {
  it("reads GitHub repository/owner/actor", () => {
    expect(claimSubject("github", parseClaims("github", githubClaims()))).toEqual({
      repository: "acme/app",
      repositoryId: "874563210",
      owner: "acme",
      ownerId: "51234567",
      actor: "octocat",
      actorId: "583231",
      ref: "refs/heads/main",
      event: "push",
    });
  });

  it("reads GitLab project/namespace/user, preferring the full ref_path", () => {
    expect(claimSubject("gitlab", parseClaims("gitlab", gitlabClaims()))).toEqual({
      repository: "acme/app",
      repositoryId: "4242",
      owner: "acme",
      ownerId: "72",
      actor: "sample-user",
      actorId: "1",
      ref: "refs/heads/main",
      event: "push",
    });
    expect(claimSubject("gitlab", parseClaims("gitlab", gitlabClaims({ ref_path: undefined }))).ref).toBe("main");
  });
});

describe("ISSUERS: GitHub.com, enterprise slug, GHES and GitLab side by side", () => {
  it("parses one of each with their own ids, audiences and RS256 by default", () => {
    const issuers = IssuerListSchema.parse([
      { kind: "github", issuer: "https://token.actions.githubusercontent.com", audiences: ["ci-credential-broker"] },
      {
        id: "acme-enterprise",
        kind: "github",
        issuer: "https://token.actions.githubusercontent.com/acme",
        audiences: ["ci-credential-broker"],
      },
      {
        id: "ghes",
        kind: "github",
        issuer: "https://github.acme.internal/_services/token",
        audiences: ["https://github.acme.internal/acme"],
      },
      { kind: "gitlab", issuer: "https://gitlab.com", audiences: ["https://broker.acme.example"] },
    ]);
    expect(issuers.map(({ id, kind, algorithms }) => ({ id, kind, algorithms }))).toEqual([
      { id: "github", kind: "github", algorithms: ["RS256"] },
      { id: "acme-enterprise", kind: "github", algorithms: ["RS256"] },
      { id: "ghes", kind: "github", algorithms: ["RS256"] },
      { id: "gitlab", kind: "gitlab", algorithms: ["RS256"] },
    ]);
  });

  it("refuses two issuers under one id (a second GitHub issuer must name itself)", () => {
    expect(
      IssuerListSchema.safeParse([
        { kind: "github", issuer: "https://token.actions.githubusercontent.com", audiences: ["a"] },
        { kind: "github", issuer: "https://github.acme.internal/_services/token", audiences: ["a"] },
      ]).success,
    ).toBe(false);
  });
});
