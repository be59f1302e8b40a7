// The test policy's fixtures (test/fixtures/policies/tests/) run here in workerd, where the Worker runs (the operator's
// own
// fixtures in policies/tests/ run through `npm run policy:test` in `npm test`). This file also checks that the
// fixtures exercise every guard and every reason.
import { describe, expect, it } from "vitest";
import { BASELINE } from "../fixtures/policies/tests/baseline.ts";
import candidateFixtures from "../fixtures/policies/tests/candidate.fixtures.ts";
import ghesFixtures from "../fixtures/policies/tests/ghes.fixtures.ts";
import githubFactsFixtures from "../fixtures/policies/tests/github-facts.fixtures.ts";
import githubTokensFixtures from "../fixtures/policies/tests/github-tokens.fixtures.ts";
import gitlabFixtures from "../fixtures/policies/tests/gitlab.fixtures.ts";
import guardsFixtures from "../fixtures/policies/tests/guards.fixtures.ts";
import rolesFixtures from "../fixtures/policies/tests/roles.fixtures.ts";
import { runFixtures, type FixtureSuite } from "../../src/policy/fixtures.ts";
import { GUARD_REASONS, OPT_OUTS } from "../../src/policy/guards.ts";

/** Every fixture file of the test policy, by name: the live policy's, split by concern, and the candidate's. */
const FILES = [
  ["roles.fixtures.ts", rolesFixtures],
  ["github-facts.fixtures.ts", githubFactsFixtures],
  ["guards.fixtures.ts", guardsFixtures],
  ["github-tokens.fixtures.ts", githubTokensFixtures],
  ["ghes.fixtures.ts", ghesFixtures],
  ["gitlab.fixtures.ts", gitlabFixtures],
  ["candidate.fixtures.ts", candidateFixtures],
] as const;

/** The live policy's fixtures as one suite: what the coverage checks below read. */
const liveFixtures: FixtureSuite = {
  ...BASELINE,
  cases: FILES.filter(([file]) => file !== "candidate.fixtures.ts").flatMap(([, suite]) => suite.cases),
};

describe.each(FILES)("test/fixtures/policies/tests/%s", (_file, suite) => {
  it.each(runFixtures(suite).map((result) => [result.name, result] as const))("%s", (_name, result) => {
    expect(result.pass, `expected ${result.expected}, got ${result.actual}`).toBe(true);
  });
});

describe("fixture coverage", () => {
  const reasons = new Set(
    liveFixtures.cases.map((fixture) => ("deny" in fixture.expect ? fixture.expect.deny : "allow")),
  );

  it("the example policy's fixtures exercise every guard", () => {
    for (const reason of GUARD_REASONS) expect(reasons).toContain(reason);
  });

  it("and explicit deny, no match, role and duration refusals, schema refusals", () => {
    for (const reason of [
      "explicit_deny",
      "no_matching_rule",
      "role_not_granted",
      "duration_exceeds_role",
      "claims_invalid",
      "allow",
    ])
      expect(reasons).toContain(reason);
  });

  it("and every GitHub token grant: an allow for each, the privileged guard, a name not granted", () => {
    const tokenCases = liveFixtures.cases.filter((fixture) => fixture.githubToken !== undefined);
    for (const name of Object.keys(liveFixtures.policy.githubTokens ?? {}))
      expect(tokenCases.some((fixture) => "allow" in fixture.expect && fixture.expect.allow === name)).toBe(true);
    const denials = new Set(tokenCases.map((fixture) => ("deny" in fixture.expect ? fixture.expect.deny : "allow")));
    for (const reason of [
      "grant_not_granted",
      "guard_unprotected_ref",
      "guard_self_hosted_runner",
      "no_matching_rule",
      "explicit_deny",
    ])
      expect(denials).toContain(reason);
  });

  it("and every runtime opt-out the example policy uses is covered by an allow case", () => {
    const used = new Set(
      liveFixtures.policy.rules.flatMap((rule) =>
        OPT_OUTS.filter((optOut) => (rule as unknown as Record<string, unknown>)[optOut] === true),
      ),
    );
    expect([...used]).toEqual(["allowSelfHostedRunners"]);
    expect(
      liveFixtures.cases.some(
        (fixture) =>
          fixture.issuer === "ghes" &&
          "allow" in fixture.expect &&
          fixture.claims?.runner_environment === "self-hosted",
      ),
    ).toBe(true);
  });
});

describe("runFixtures reports failures precisely", () => {
  const suite: FixtureSuite = {
    policy: liveFixtures.policy,
    ...(liveFixtures.defaults === undefined ? {} : { defaults: liveFixtures.defaults }),
    ...(liveFixtures.github === undefined ? {} : { github: liveFixtures.github }),
    cases: [
      { name: "wrong alias", expect: { allow: "readonly" } },
      { name: "wrong rule", expect: { allow: "deploy", rule: "acme-app-pull-request-readonly" } },
      { name: "wrong reason", claims: { ref: "refs/heads/dev" }, expect: { deny: "explicit_deny" } },
      { name: "unknown issuer", issuer: "bitbucket", expect: { deny: "no_matching_rule" } },
      { name: "claims_invalid expected but allowed", expect: { deny: "claims_invalid" } },
    ],
  };
  it("every one of these fails, with expected and actual", () => {
    const results = runFixtures(suite);
    expect(results.map((result) => result.pass)).toEqual([false, false, false, false, false]);
    expect(results[0]).toMatchObject({
      expected: "allow readonly",
      actual: "allow deploy (rule acme-app-main-deploy)",
    });
    expect(results[2]).toMatchObject({ expected: "deny explicit_deny", actual: "deny no_matching_rule" });
    expect(results[3]?.actual).toBe('issuer "bitbucket" is not in the policy');
  });

  it("a case reaching a rule with requirements fails without GitHub facts, and is judged on them when given", () => {
    const { github: _facts, ...withoutFacts } = suite;
    const [unevaluated] = runFixtures({ ...withoutFacts, cases: [{ name: "no facts", expect: { allow: "deploy" } }] });
    expect(unevaluated).toMatchObject({ pass: false, actual: expect.stringContaining("requires GitHub facts") });
    const [failed] = runFixtures({
      ...withoutFacts,
      cases: [
        {
          name: "failed scan",
          github: {
            runs: [
              {
                workflow: ".github/workflows/dependency-review.yml",
                jobs: [{ name: "dependency-review", conclusion: "failure" }],
              },
            ],
          },
          expect: { allow: "deploy" },
        },
      ],
    });
    expect(failed).toMatchObject({ pass: false, actual: "deny context_check_failed (rule acme-app-main-deploy)" });
  });
});

describe("GitHub facts coverage", () => {
  it("the example policy's fixtures exercise every job, pull request, review and repository reason its rule can meet", () => {
    const reasons = new Set(
      liveFixtures.cases.map((fixture) => ("deny" in fixture.expect ? fixture.expect.deny : "allow")),
    );
    const reachable = [
      "context_check_not_a_job",
      "context_workflow_not_run",
      "context_check_pending",
      "context_check_failed",
      "context_pr_not_merged",
      "context_pr_not_approved",
      "context_approval_not_writer",
      "context_changes_requested",
      "context_repository_mismatch",
    ];
    for (const reason of reachable) expect(reasons).toContain(reason);
  });
});
