// The cores of policy:check and policy:test (src/cli/policy-run.ts): loaded policies in, text and
// exit codes out. The Node entries (src/cli/policy-*.ts) only find files and import them; `npm test` runs them.
import { describe, expect, it } from "vitest";
import candidatePolicy from "../fixtures/policies/candidate.ts";
import testPolicy from "../fixtures/policies/index.ts";
import candidateFixtures from "../fixtures/policies/tests/candidate.fixtures.ts";
import indexFixtures from "../fixtures/policies/tests/index.fixtures.ts";
import { issuerSetsFromWranglerToml, runPolicyCheck, runPolicyTest } from "../../src/cli/policy-run.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";

const roles = { app: { arn: "arn:aws:iam::111122223333:role/app" } };

describe("runPolicyCheck", () => {
  it("passes the shipped policies, summarising each", () => {
    const result = runPolicyCheck([
      { file: "policies/index.ts", policy: testPolicy },
      { file: "policies/candidate.ts", policy: candidatePolicy },
    ]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(
      "policies/index.ts: ok (11 rules, 4 roles, 2 GitHub token grants, issuers github, ghes, gitlab)",
    );
    expect(result.stdout).toMatch(/policy:check: 2 policies, 0 error\(s\), \d+ warning\(s\)\n$/);
  });

  const broken: Array<[string, PolicyDefinition, RegExp]> = [
    [
      "undefined role",
      { roles, rules: [{ id: "r", match: { repository: "acme/app" }, roles: ["nope"] }] },
      /error role_undefined at rules\[0\] \(r\)/,
    ],
    [
      "malformed ARN",
      { roles: { app: { arn: "arn:aws:iam::role/app" } }, rules: [] },
      /error arn_invalid at roles\.app/,
    ],
    [
      "every repository of every owner",
      { roles, rules: [{ id: "r", match: { repository: "*/*" }, roles: ["app"] }] },
      /error pattern_too_broad at rules\[0\] \(r\)\.match\.repository/,
    ],
    [
      "shadowed rule",
      {
        roles,
        rules: [
          { id: "a", match: { repository: "acme/*" }, roles: ["app"] },
          { id: "b", match: { repository: "acme/app" }, roles: ["app"] },
        ],
      },
      /error rule_shadowed at rules\[1\] \(b\): shadowed by rules\[0\] \(a\)/,
    ],
    [
      "alias granted as two roles",
      {
        roles: { ...roles, other: { arn: "arn:aws:iam::111122223333:role/other" } },
        rules: [
          { id: "a", match: { repository: "acme/app" }, roles: { deploy: "app" } },
          { id: "b", match: { repository: "acme/app", ref: "refs/heads/main" }, roles: { deploy: "other" } },
        ],
      },
      /error alias_conflict at rules\[1\] \(b\)/,
    ],
    [
      "session policy too large",
      {
        roles: { app: { ...roles.app, sessionPolicy: { Statement: "x".repeat(2100) } } },
        rules: [{ id: "r", match: { repository: "acme/app" }, roles: ["app"] }],
      },
      /error session_policy_too_large at roles\.app\.sessionPolicy: sessionPolicy is 2116 characters; STS allows 2048/,
    ],
  ];
  it.each(broken)("fails (exit 1) on: %s, pointing at the rule", (_name, policy, line) => {
    const result = runPolicyCheck([{ file: "policies/bad.ts", policy }]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^policies/bad\\.ts: ${line.source}`, "m"));
  });

  it("checks each policy against each wrangler environment's ISSUERS (kind mismatch fails)", () => {
    const toml = [
      "[vars]",
      `ISSUERS = '[{"kind":"github","issuer":"https://token.actions.githubusercontent.com","audiences":["a"]}]'`,
      "[env.prod.vars]",
      `ISSUERS = '[{"id":"gitlab","kind":"github","issuer":"https://gitlab.example.com","audiences":["a"]}]'`,
    ].join("\n");
    const { sets, problems } = issuerSetsFromWranglerToml(toml);
    expect(problems).toEqual([]);
    expect(sets.map((set) => set.name)).toEqual(["top level", "env.prod"]);
    const result = runPolicyCheck([{ file: "policies/index.ts", policy: testPolicy }], sets);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(
      "error issuer_kind_mismatch at issuers.gitlab: against ISSUERS of wrangler.toml env.prod",
    );
  });

  it("policy:check says a role with an externalId cannot be used in an environment with STS_AUTH = web-identity", () => {
    const toml = [
      "[vars]",
      `ISSUERS = '[{"kind":"github","issuer":"https://token.actions.githubusercontent.com","audiences":["a"]}]'`,
      "[env.webid.vars]",
      `STS_AUTH = "web-identity"`,
      `ISSUERS = '[{"kind":"github","issuer":"https://token.actions.githubusercontent.com","audiences":["a"]}]'`,
    ].join("\n");
    const { sets, problems } = issuerSetsFromWranglerToml(toml);
    expect(problems).toEqual([]);
    expect(sets.map((set) => [set.name, set.stsAuth])).toEqual([
      ["top level", "sigv4"],
      ["env.webid", "web-identity"],
    ]);
    const withExternalId = {
      ...testPolicy,
      roles: {
        ...testPolicy.roles,
        "infra-deploy": { ...testPolicy.roles["infra-deploy"], externalId: "acme-ci-broker" },
      },
    } as typeof testPolicy;
    const result = runPolicyCheck([{ file: "policies/index.ts", policy: withExternalId }], sets);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain("error external_id_unsupported at roles.infra-deploy.externalId");
    expect(result.stdout).toContain("env.webid");
    expect(runPolicyCheck([{ file: "policies/index.ts", policy: testPolicy }], sets).exitCode).toBe(0);
    expect(issuerSetsFromWranglerToml(`STS_AUTH = "sigv5"`).problems).toEqual([
      'wrangler.toml (top level): STS_AUTH must be "sigv4" or "web-identity"',
    ]);
  });

  it("reports an unreadable ISSUERS in wrangler.toml", () => {
    expect(issuerSetsFromWranglerToml(`ISSUERS = '[{"kind":"github"'`).problems).toEqual([
      "wrangler.toml (top level): ISSUERS is not valid JSON",
    ]);
  });
});

describe("runPolicyTest", () => {
  it("runs the shipped fixtures: exit 0 and a summary per file", () => {
    const result = runPolicyTest([
      { file: "policies/tests/index.fixtures.ts", suite: indexFixtures },
      { file: "policies/tests/candidate.fixtures.ts", suite: candidateFixtures },
    ]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^policies\/tests\/index\.fixtures\.ts: (\d+)\/\1 passed$/m);
    expect(result.stdout).not.toContain("FAIL");
  });

  it("a failing case fails the run with expected and actual", () => {
    const result = runPolicyTest([
      {
        file: "f.ts",
        suite: {
          ...indexFixtures,
          cases: [{ name: "wrong", claims: { ref_protected: "false" }, expect: { allow: "deploy" } }],
        },
      },
    ]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(
      "  FAIL  wrong\n          expected allow deploy\n          got      deny guard_unprotected_ref (rule acme-app-main-deploy)\n",
    );
  });

  it("nothing to run is a failure, not a silent pass", () => {
    expect(runPolicyTest([]).exitCode).toBe(1);
  });
});
