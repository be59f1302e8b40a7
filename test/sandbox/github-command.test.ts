// `npm run -s sandbox -- github ...` (docs/github-facts.md "Sandbox"): each command, applied to the fake GitHub API
// behind a broker configured as the sandbox is (GITHUB_FACT_CACHE_SECONDS = "0"), decides the very next exchange,
// even right after a met requirement; usage mistakes are refused without touching the facts. The staged attacks
// (a forged check run, an approval by a reader or a bot, a standing change request) are denied with their reasons.
// The commands act on the facts derived from the policy (sandbox-facts.ts), for the test policy and for others. The
// staged attacks
// (a forged check run, an approval by a reader or a bot, a standing change request) are denied with their reasons.
import { describe, expect, it } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { compilePolicy } from "../../src/policy/compile.ts";
import { definePolicy } from "../../src/policy/define.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";
import { createHarness, type Harness } from "../support/broker-harness.ts";
import { SCAN_WORKFLOW } from "../../sandbox/fakes/fake-github-api.ts";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";
import { applyGitHubCommand } from "../../sandbox/github-command.ts";
import { seedSandboxFacts } from "../../sandbox/github-seed.ts";
import { deriveSandboxExamples, type SandboxExamples, type SandboxFacts } from "../../sandbox/policy-examples.ts";

/** [env.sandbox.vars] of wrangler.toml: the sandbox broker reuses no met fact. */
const SANDBOX_VARS = { GITHUB_FACT_CACHE_SECONDS: "0" };

/** The sandbox's examples for a policy, as `npm start` derives them. */
function examplesOf(policy: PolicyDefinition, claims: Record<string, string> = {}): SandboxExamples {
  const { jti: _jti, ...base } = githubClaims();
  return deriveSandboxExamples(compilePolicy(policy), "github", { ...base, ...claims });
}
/** The test policy's: acme/app, main, push; what the harness seeds (seedExampleFacts) meets its requirements. */
const testFacts = examplesOf(testPolicy).facts as SandboxFacts;

/** Status and internal reason of one exchange with a fresh sandbox-shaped token (by default acme/app, main, push). */
async function exchange(h: Harness, claims: Record<string, string> = {}): Promise<[number, unknown]> {
  const response = await h.request(await h.mint(claims));
  return [response.status, h.events().at(-1)?.reason];
}

describe("sandbox github command", () => {
  it("each command shows on the next exchange, even right after the facts were met", async () => {
    const h = await createHarness({ env: SANDBOX_VARS });
    const run = (...args: string[]) => applyGitHubCommand(h.github, testFacts, args);
    expect(await exchange(h)).toEqual([200, undefined]);

    expect(run("scan", "failure")).toContain(`of ${SCAN_WORKFLOW} (push, main, `);
    expect(await exchange(h)).toEqual([403, "context_check_failed"]);
    run("scan", "pending");
    expect(await exchange(h)).toEqual([403, "context_check_pending"]);
    run("scan", "success");
    expect(await exchange(h)).toEqual([200, undefined]);

    run("unapprove");
    expect(await exchange(h)).toEqual([403, "context_pr_not_approved"]);
    run("approve");
    expect(await exchange(h)).toEqual([200, undefined]);
    run("approve", "--stale");
    expect(await exchange(h)).toEqual([403, "context_pr_not_approved"]);
    run("approve");
    expect(await exchange(h)).toEqual([200, undefined]);

    run("outage", "on");
    expect(await exchange(h)).toEqual([503, "github_api_unavailable"]);
    run("outage", "off");
    expect(await exchange(h)).toEqual([200, undefined]);

    run("rate-limit");
    expect(await exchange(h)).toEqual([503, "github_api_rate_limited"]);
    h.advance(31_000);
    expect(await exchange(h)).toEqual([200, undefined]);
  });

  it("stages the attacks: a forged check run, approvals by a reader and a bot, a standing change request", async () => {
    const h = await createHarness({ env: SANDBOX_VARS });
    const run = (...args: string[]) => applyGitHubCommand(h.github, testFacts, args);

    // A check run created through the API as GitHub Actions never stands in for the scan job.
    run("scan", "failure");
    expect(run("check", "dependency-review", "success")).toContain("created through the API as github-actions");
    expect(await exchange(h)).toEqual([403, "context_check_failed"]);
    run("scan", "absent");
    expect(await exchange(h)).toEqual([403, "context_check_not_a_job"]);
    run("scan", "success");
    expect(await exchange(h)).toEqual([200, undefined]);

    run("unapprove");
    run("approve", "--reader");
    expect(await exchange(h)).toEqual([403, "context_approval_not_writer"]);
    run("approve", "--bot");
    expect(await exchange(h)).toEqual([403, "context_approval_not_writer"]);
    run("approve");
    expect(await exchange(h)).toEqual([200, undefined]);

    run("request-changes");
    expect(await exchange(h)).toEqual([403, "context_changes_requested"]);
    run("dismiss");
    expect(await exchange(h)).toEqual([200, undefined]);
  });

  it("uninstall denies (github_app_not_installed), also right after an exchange that used the installation; install lets it through again", async () => {
    const h = await createHarness({ env: SANDBOX_VARS });
    expect(await exchange(h)).toEqual([200, undefined]);
    applyGitHubCommand(h.github, testFacts, ["uninstall"]);
    expect(await exchange(h)).toEqual([403, "github_app_not_installed"]);
    applyGitHubCommand(h.github, testFacts, ["install"]);
    expect(await exchange(h)).toEqual([200, undefined]);
  });

  it("refuses usage mistakes and leaves the facts as they were", async () => {
    const h = await createHarness({ env: SANDBOX_VARS });
    const mistakes = [
      [],
      ["check"],
      ["check", "dependency-review", "maybe"],
      ["check", "dependency-review", "failure", "--app"],
      ["scan"],
      ["scan", "maybe"],
      ["approve", "--fresh"],
      ["approve", "--bot", "--reader"],
      ["dismiss"],
      ["request-changes", "now"],
      ["outage"],
    ];
    for (const args of mistakes) expect(() => applyGitHubCommand(h.github, testFacts, args), args.join(" ")).toThrow();
    expect(await exchange(h)).toEqual([200, undefined]);
  });

  it("the banner's GitHub facts hint denies the default token's next exchange", async () => {
    const h = await createHarness({ env: SANDBOX_VARS });
    expect(testFacts.hint).toBe("github scan failure");
    applyGitHubCommand(h.github, testFacts, testFacts.hint.split(" ").slice(1));
    expect(await exchange(h)).toEqual([403, "context_check_failed"]);
  });
});

const globexRoles = { deploy: { arn: "arn:aws:iam::222233334444:role/globex-deploy", privileged: true } };
const trunk = { repository: "globex/api", repository_id: "5550001", ref: "refs/heads/trunk" };

/** The token's own run: another than the one the harness seeds for acme/app (run ids are unique across GitHub). */
const OWN_RUN = { run_id: "22233344455" };

/** A harness running `policy`, its fake seeded as `npm start` seeds the sandbox's, and the default token's claims. */
async function sandboxFor(policy: PolicyDefinition) {
  const examples = examplesOf(policy, OWN_RUN);
  const facts = examples.facts as SandboxFacts;
  const h = await createHarness({ policy, env: SANDBOX_VARS });
  seedSandboxFacts(h.github, facts);
  const token = { ...examples.defaultClaims, ...OWN_RUN };
  const run = (...args: string[]) => applyGitHubCommand(h.github, facts, args);
  return { h, facts, run, exchange: () => exchange(h, token) };
}

describe("sandbox github command on another organisation's policy", () => {
  it("seeds a pinned workflow's job, an App's check, writers' approvals and rulesets; the commands act on its repository and branch", async () => {
    const policy = definePolicy({
      roles: globexRoles,
      rules: [
        {
          id: "globex-api-trunk",
          match: trunk,
          roles: ["deploy"],
          require: {
            checks: [
              { workflow: ".github/workflows/build.yml", job: "build", events: ["push", "workflow_dispatch"] },
              { name: "license-scan", app: 4242 },
            ],
            pullRequest: { approvals: 2 },
            rulesets: { approvals: 2, dismissStaleReviews: true },
          },
        },
      ],
    });
    const sandbox = await sandboxFor(policy);
    expect(await sandbox.exchange()).toEqual([200, undefined]);
    expect(sandbox.h.events().at(-1)).toMatchObject({ repository: "globex/api", rule_id: "globex-api-trunk" });
    expect(sandbox.facts.hint).toBe("github scan failure");

    expect(sandbox.run("scan", "failure")).toContain("of .github/workflows/build.yml (push, trunk, ");
    expect(await sandbox.exchange()).toEqual([403, "context_check_failed"]);
    // The earlier runs' build jobs are check runs on the commit too: none of them is a job of the newest run.
    sandbox.run("scan", "absent");
    expect(await sandbox.exchange()).toEqual([403, "context_check_not_a_job"]);
    sandbox.run("scan", "success");
    expect(await sandbox.exchange()).toEqual([200, undefined]);

    // The App the policy names for the check is the default: its run counts.
    expect(sandbox.run("check", "license-scan", "failure")).toContain("as app-4242");
    expect(await sandbox.exchange()).toEqual([403, "context_check_failed"]);
    sandbox.run("check", "license-scan", "success");
    expect(await sandbox.exchange()).toEqual([200, undefined]);

    sandbox.run("unapprove");
    expect(await sandbox.exchange()).toEqual([403, "context_pr_not_approved"]);
    expect(sandbox.run("approve")).toContain("approved by bob, writer2");
    expect(await sandbox.exchange()).toEqual([200, undefined]);
    sandbox.run("request-changes");
    expect(await sandbox.exchange()).toEqual([403, "context_changes_requested"]);
    sandbox.run("dismiss");
    expect(await sandbox.exchange()).toEqual([200, undefined]);
  });

  it("scan re-runs the token's own run when the first job requirement is of its own workflow", async () => {
    const policy = definePolicy({
      roles: globexRoles,
      rules: [{ id: "globex-api-trunk", match: trunk, roles: ["deploy"], require: { checks: [{ job: "test" }] } }],
    });
    const sandbox = await sandboxFor(policy);
    expect(sandbox.facts.run).toMatchObject({
      workflow: ".github/workflows/ci.yml",
      jobs: [{ name: "test", conclusion: "success" }],
    });
    expect(await sandbox.exchange()).toEqual([200, undefined]);
    expect(sandbox.run("scan", "failure")).toContain("(the token's own run) re-run: test failure");
    expect(await sandbox.exchange()).toEqual([403, "context_check_failed"]);
    sandbox.run("scan", "pending");
    expect(await sandbox.exchange()).toEqual([403, "context_check_pending"]);
    // The earlier attempts' test jobs (check runs on the commit still) and a forged one are no job of the latest
    // attempt.
    sandbox.run("scan", "absent");
    expect(await sandbox.exchange()).toEqual([403, "context_check_not_a_job"]);
    sandbox.run("check", "test", "success");
    expect(await sandbox.exchange()).toEqual([403, "context_check_not_a_job"]);
    sandbox.run("scan", "success");
    expect(await sandbox.exchange()).toEqual([200, undefined]);
  });

  it("without a job requirement, scan is a usage error; the hint is then the App's check", async () => {
    const policy = definePolicy({
      roles: globexRoles,
      rules: [
        {
          id: "globex-api-trunk",
          match: trunk,
          roles: ["deploy"],
          require: { checks: [{ name: "build", app: "globex-ci" }] },
        },
      ],
    });
    const sandbox = await sandboxFor(policy);
    expect(await sandbox.exchange()).toEqual([200, undefined]);
    expect(() => sandbox.run("scan", "failure")).toThrow(/requires no job/);
    expect(sandbox.facts.hint).toBe("github check build failure");
    sandbox.run(...sandbox.facts.hint.split(" ").slice(1));
    expect(await sandbox.exchange()).toEqual([403, "context_check_failed"]);
  });
});
