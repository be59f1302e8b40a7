// `npm run -s sandbox -- github ...` (docs/github-facts.md "Sandbox"): each command, applied to the fake GitHub API
// behind a broker configured as the sandbox is (GITHUB_FACT_CACHE_SECONDS = "0"), decides the very next exchange,
// even right after a met requirement; usage mistakes are refused without touching the facts.
import { describe, expect, it } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { compilePolicy } from "../../src/policy/compile.ts";
import { definePolicy } from "../../src/policy/define.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";
import { createHarness, type Harness } from "../support/broker-harness.ts";
import { githubClaims } from "../support/fake-issuer.ts";
import { applyGitHubCommand, seedSandboxFacts } from "./github-command.ts";
import { deriveSandboxExamples, type SandboxExamples, type SandboxFacts } from "./policy-examples.ts";

/** [env.sandbox.vars] of wrangler.toml: the sandbox broker reuses no met fact. */
const SANDBOX_VARS = { GITHUB_FACT_CACHE_SECONDS: "0" };

/** The sandbox's examples for a policy, as `npm start` derives them. */
function examplesOf(policy: PolicyDefinition): SandboxExamples {
  const { jti: _jti, ...base } = githubClaims();
  return deriveSandboxExamples(compilePolicy(policy), "github", base);
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

    run("check", "dependency-review", "failure");
    expect(await exchange(h)).toEqual([403, "context_check_failed"]);
    run("check", "dependency-review", "success");
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
    for (const args of [[], ["check"], ["check", "dependency-review", "maybe"], ["check", "dependency-review", "failure", "--app"], ["approve", "--fresh"], ["outage"]]) {
      expect(() => applyGitHubCommand(h.github, testFacts, args), args.join(" ")).toThrow();
    }
    expect(await exchange(h)).toEqual([200, undefined]);
  });

  it("seeds what another organisation's policy requires: its default token gets credentials, and the commands act on its repository", async () => {
    const policy = definePolicy({
      roles: { deploy: { arn: "arn:aws:iam::222233334444:role/globex-deploy", privileged: true } },
      rules: [
        {
          id: "globex-api-trunk",
          match: { repository: "globex/api", repository_id: "5550001", ref: "refs/heads/trunk" },
          roles: ["deploy"],
          require: { checks: [{ name: "build", app: 4242 }], pullRequest: { approvals: 2 } },
        },
      ],
    });
    const examples = examplesOf(policy);
    const facts = examples.facts as SandboxFacts;
    const h = await createHarness({ policy, env: SANDBOX_VARS });
    seedSandboxFacts(h.github, facts);
    const token = examples.defaultClaims;
    expect(await exchange(h, token)).toEqual([200, undefined]);
    expect(h.events().at(-1)).toMatchObject({ repository: "globex/api", rule_id: "globex-api-trunk" });

    applyGitHubCommand(h.github, facts, ["check", "build", "failure"]);
    expect(await exchange(h, token)).toEqual([403, "context_check_failed"]);
    applyGitHubCommand(h.github, facts, ["check", "build", "success"]);
    applyGitHubCommand(h.github, facts, ["unapprove"]);
    expect(await exchange(h, token)).toEqual([403, "context_pr_not_approved"]);
    expect(applyGitHubCommand(h.github, facts, ["approve"])).toContain("approved by users 2, 3");
    expect(await exchange(h, token)).toEqual([200, undefined]);
  });
});
