// The core of policy:explain (src/cli/policy-explain-run.ts): its arguments, and the decision for claims with every
// rule's reason, the issuer and claims checks, and requirements on offline facts.
import { describe, expect, it } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { parseExplainArgs, runPolicyExplain } from "../../src/cli/policy-explain-run.ts";
import { issuerSetsFromWranglerToml } from "../../src/cli/policy-run.ts";
import { githubClaims } from "../support/fake-issuer.ts";
import { gitlabClaims } from "../support/gitlab-claims.ts";

describe("policy:explain", () => {
  it("parses its arguments", () => {
    expect(parseExplainArgs(["c.json", "--role", "deploy", "--issuer=gitlab", "--duration", "1800"])).toEqual({
      claimsFile: "c.json",
      role: "deploy",
      issuer: "gitlab",
      durationSeconds: 1800,
      policyFile: "policies/index.ts",
    });
    expect(parseExplainArgs([])).toMatch(/^usage:/);
    expect(parseExplainArgs(["a.json", "--frobnicate"])).toMatch(/^unknown option --frobnicate/);
    expect(parseExplainArgs(["a.json", "--duration", "soon"])).toMatch(/^--duration needs whole seconds/);
  });

  it("explains a decoded GitHub token, picking the issuer by its iss from wrangler.toml", () => {
    const claims = {
      ...githubClaims({ event_name: "pull_request", ref: "refs/pull/7/merge" }),
      iss: "https://token.actions.githubusercontent.com",
      aud: "ci-credential-broker",
    };
    const { sets } = issuerSetsFromWranglerToml(
      `ISSUERS = '[{"kind":"github","issuer":"https://token.actions.githubusercontent.com","audiences":["a"]}]'`,
    );
    const result = runPolicyExplain({
      policy: testPolicy,
      claims,
      args: { role: "deploy", issuer: undefined, durationSeconds: undefined },
      issuerSets: sets,
    });
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe("DENY   role_not_granted");
    expect(lines[1]).toBe("issuer github, role requested: deploy");
    expect(result.stdout).toMatch(/^ {3}allow acme-app-pull-request-readonly +MATCHED, grants readonly$/m);
    expect(result.stdout).toMatch(
      /^ {3}allow acme-app-main-deploy +ref: "refs\/pull\/7\/merge" does not match "refs\/heads\/main"; event_name: "pull_request" does not match "push" \| "workflow_dispatch"$/m,
    );
  });

  it("parses --github-token, alone: a GitHub token request has no role and no duration", () => {
    expect(parseExplainArgs(["c.json", "--github-token", "homebrew-tap"])).toMatchObject({
      claimsFile: "c.json",
      githubToken: "homebrew-tap",
      role: undefined,
    });
    expect(parseExplainArgs(["c.json", "--github-token"])).toMatch(/^--github-token needs a grant name/);
    expect(parseExplainArgs(["c.json", "--github-token", "x", "--role", "deploy"])).toMatch(
      /^--github-token asks for a GitHub token/,
    );
    expect(parseExplainArgs(["c.json", "--github-token", "x", "--duration", "900"])).toMatch(
      /^--github-token asks for a GitHub token/,
    );
  });

  it("explains a GitHub token request: the grant allowed, or why not", () => {
    const result = runPolicyExplain({
      policy: testPolicy,
      claims: githubClaims({ ref: "refs/tags/v2.0.0", ref_type: "tag" }),
      args: { role: undefined, issuer: undefined, durationSeconds: undefined, githubToken: "homebrew-tap" },
    });
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(
      "ALLOW  rule acme-app-release-homebrew-tap grants GitHub token homebrew-tap -> acme: homebrew-tap (contents: write, pull_requests: write) (privileged)",
    );
    expect(lines[1]).toBe("issuer github, GitHub token requested: homebrew-tap");
    const denied = runPolicyExplain({
      policy: testPolicy,
      claims: githubClaims(),
      args: { role: undefined, issuer: undefined, durationSeconds: undefined, githubToken: "homebrew-tap" },
    });
    expect(denied.stdout.split("\n")[0]).toBe("DENY   grant_not_granted");
  });

  it("explains a GitLab token with --issuer gitlab", () => {
    const result = runPolicyExplain({
      policy: testPolicy,
      claims: gitlabClaims({ ref_protected: "false" }),
      args: { role: undefined, issuer: "gitlab", durationSeconds: undefined },
    });
    expect(result.stdout.split("\n")[0]).toBe("DENY   guard_unprotected_ref (rule gitlab-acme-app-deploy)");
  });

  it("says the token would be refused before the policy when the claims fail the schema", () => {
    const result = runPolicyExplain({
      policy: testPolicy,
      claims: { ...githubClaims(), repository: ["acme/app"] },
      args: { role: undefined, issuer: undefined, durationSeconds: undefined },
    });
    expect(result.stdout).toContain("DENY   claims_invalid");
    expect(result.stdout).toContain("  repository: invalid_type");
  });

  it("refuses an issuer the policy does not know", () => {
    const result = runPolicyExplain({
      policy: testPolicy,
      claims: githubClaims(),
      args: { role: undefined, issuer: "bitbucket", durationSeconds: undefined },
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('issuer "bitbucket" is not in the policy');
  });
});
