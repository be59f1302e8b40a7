// The GitHub platform module: issuer defaults, the guards' facts, session identity and subject, read from claims as
// GitHub Actions issues them (sandbox/fakes/fake-issuer.ts).
import { describe, expect, it } from "vitest";
import { defaultGitHubApiUrl, github } from "../../src/platforms/github.ts";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";

const DOT_COM = "https://token.actions.githubusercontent.com";

describe("github: issuer defaults", () => {
  it.each([
    [DOT_COM, "https://api.github.com"],
    [`${DOT_COM}/acme-enterprise`, "https://api.github.com"],
    ["https://token.actions.acme.ghe.com", "https://api.acme.ghe.com"],
    ["https://github.acme.example/_services/token", "https://github.acme.example/api/v3"],
    ["https://github.acme.example", undefined],
    ["https://token.actions.githubusercontent.com.evil.example", undefined],
  ])("derives the REST API of %s", (issuer, api) => {
    expect(defaultGitHubApiUrl(issuer)).toBe(api);
    expect(github.githubApi?.defaultUrl(issuer)).toBe(api);
  });
});

describe("github: guard facts", () => {
  const { guards } = github;
  it("pull_request_target runs fork code with the base repository's secrets; nothing else does", () => {
    expect(guards.runsForkCodeWithSecrets(githubClaims({ event_name: "pull_request_target" }))).toBe(true);
    expect(guards.runsForkCodeWithSecrets(githubClaims({ event_name: "pull_request" }))).toBe(false);
  });

  it("only github-hosted runners are hosted", () => {
    expect(guards.hostedRunner(githubClaims())).toBe(true);
    expect(guards.hostedRunner(githubClaims({ runner_environment: "self-hosted" }))).toBe(false);
    expect(guards.hostedRunner(githubClaims({ runner_environment: undefined }))).toBe(false);
  });

  it("a refs/pull/ ref is a pull request run", () => {
    expect(guards.pullRequestRun(githubClaims({ ref: "refs/pull/7/merge" }))).toBe(true);
    expect(guards.pullRequestRun(githubClaims())).toBe(false);
  });

  it("protected: a protected ref, or an environment the rule names; never an environment it does not", () => {
    const unprotected = { ref_protected: "false", environment: "production" };
    expect(guards.protectedRef(githubClaims(), false)).toBe(true);
    expect(guards.protectedRef(githubClaims(unprotected), true)).toBe(true);
    expect(guards.protectedRef(githubClaims(unprotected), false)).toBe(false);
    expect(guards.protectedRef(githubClaims({ ...unprotected, environment: "" }), true)).toBe(false);
  });

  it("reads own string claims only: an inherited or non-string value is no fact", () => {
    const inherited = Object.create({ event_name: "pull_request_target", runner_environment: "github-hosted" });
    expect(guards.runsForkCodeWithSecrets(inherited)).toBe(false);
    expect(guards.hostedRunner(inherited)).toBe(false);
    expect(guards.protectedRef(githubClaims({ ref_protected: true }), false)).toBe(false);
  });
});

describe("github: session identity and subject", () => {
  const { identity } = github;
  it("github.com and its enterprise-slug issuers are the SaaS issuer; GHES and GHE.com are not", () => {
    expect(identity.isSaasIssuer(DOT_COM)).toBe(true);
    expect(identity.isSaasIssuer(`${DOT_COM}/acme`)).toBe(true);
    expect(identity.isSaasIssuer(`${DOT_COM}.evil.example`)).toBe(false);
    expect(identity.isSaasIssuer("https://github.acme.example/_services/token")).toBe(false);
  });

  it("logins stand as they are, an App's bot as <slug>_bot_, anything else is hashed (undefined)", () => {
    expect(identity.plainLogin("octo-cat")).toBe("octo-cat");
    expect(identity.plainLogin("dependabot[bot]")).toBe("dependabot_bot_");
    expect(identity.plainLogin("octo_cat")).toBeUndefined();
    expect(identity.plainLogin("[bot]")).toBeUndefined();
  });

  it("names sessions by run and attempt (the subject: claimSubject's tests, test/oidc/gitlab-claims.test.ts)", () => {
    expect(identity.nameIds(githubClaims({ run_id: "9", run_attempt: "2" }))).toEqual(["9", "2"]);
    expect(identity.repositoryClaim).toBe("repository");
    expect(identity.actorClaim).toBe("actor");
  });

  it("only github.com itself gets an unprefixed web-identity subject", () => {
    expect(github.webIdentity.unprefixedIssuer(DOT_COM)).toBe(true);
    expect(github.webIdentity.unprefixedIssuer(`${DOT_COM}/acme`)).toBe(false);
    expect(github.webIdentity.noun).toBe("repo");
  });
});
