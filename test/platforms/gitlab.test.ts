// The GitLab platform module: the guards' facts, session identity, kill-switch owners and subject, read from claims
// as GitLab issues them (test/support/gitlab-claims.ts).
import { describe, expect, it } from "vitest";
import { KILL_SWITCH_MAX_NAMESPACE_DEPTH } from "../../src/platforms/constants.ts";
import { parseClaims } from "../../src/oidc/claims.ts";
import { gitlab } from "../../src/platforms/gitlab.ts";
import { gitlabClaims } from "../support/gitlab-claims.ts";

describe("gitlab: issuer defaults", () => {
  it("is not on GitHub: no GitHub API, so no requirements and no api_url", () => {
    expect(gitlab.githubApi).toBeUndefined();
  });
});

describe("gitlab: guard facts", () => {
  const { guards } = gitlab;
  it("has no pull_request_target: merge request pipelines are pull request runs instead", () => {
    expect(guards.runsForkCodeWithSecrets(gitlabClaims({ pipeline_source: "merge_request_event" }))).toBe(false);
    expect(guards.pullRequestRun(gitlabClaims({ pipeline_source: "merge_request_event" }))).toBe(true);
    expect(guards.pullRequestRun(gitlabClaims({ pipeline_source: "external_pull_request_event" }))).toBe(true);
    expect(guards.pullRequestRun(gitlabClaims({ pipeline_source: "push" }))).toBe(false);
  });

  it("only gitlab-hosted runners are hosted", () => {
    expect(guards.hostedRunner(gitlabClaims({ runner_environment: "gitlab-hosted" }))).toBe(true);
    expect(guards.hostedRunner(gitlabClaims({ runner_environment: "self-hosted" }))).toBe(false);
  });

  it("protected: a protected ref or a protected environment, as GitLab says; naming it in the rule is not enough", () => {
    const unprotected = { ref_protected: "false", environment: "production", environment_protected: "false" };
    expect(guards.protectedRef(gitlabClaims({ ref_protected: "true" }), false)).toBe(true);
    expect(guards.protectedRef(gitlabClaims({ ...unprotected, environment_protected: "true" }), false)).toBe(true);
    expect(guards.protectedRef(gitlabClaims(unprotected), true)).toBe(false);
  });
});

describe("gitlab: session identity, kill switch, subject", () => {
  it("gitlab.com is the SaaS issuer; a self-managed instance is not", () => {
    expect(gitlab.identity.isSaasIssuer("https://gitlab.com")).toBe(true);
    expect(gitlab.identity.isSaasIssuer("https://gitlab.acme.example")).toBe(false);
  });

  it("usernames stand as they are (with _ and .); anything else is hashed (undefined)", () => {
    expect(gitlab.identity.plainLogin("jane.doe_2")).toBe("jane.doe_2");
    expect(gitlab.identity.plainLogin("jane doe")).toBeUndefined();
  });

  it("a namespace's ancestors are its owners, most general first, to GitLab's depth", () => {
    expect(gitlab.killSwitch.owners("acme/platform/infra")).toEqual(["acme", "acme/platform", "acme/platform/infra"]);
    const deep = Array.from({ length: KILL_SWITCH_MAX_NAMESPACE_DEPTH + 5 }, (_, index) => `g${index}`).join("/");
    expect(gitlab.killSwitch.owners(deep)).toHaveLength(KILL_SWITCH_MAX_NAMESPACE_DEPTH);
  });

  it("names sessions by pipeline and job; the subject's ref is ref_path when sent", () => {
    const raw = gitlabClaims({ ref: "main", ref_path: "refs/heads/main" });
    const claims = parseClaims("gitlab", raw);
    expect(gitlab.identity.nameIds(raw)).toEqual([claims.pipeline_id, claims.job_id]);
    const subject = gitlab.subject(claims);
    expect(subject.ref).toBe("refs/heads/main");
    expect(subject.repository).toBe(claims.project_path);
    expect(subject.owner).toBe(claims.namespace_path);
    expect(subject.actor).toBe(claims.user_login);
    expect(gitlab.subject({ ...claims, ref_path: undefined }).ref).toBe("main");
  });

  it("every web-identity subject names its issuer", () => {
    expect(gitlab.webIdentity.unprefixedIssuer("https://gitlab.com")).toBe(false);
    expect(gitlab.webIdentity.noun).toBe("project");
  });
});
