// `npm run -s sandbox -- github ...` (docs/github-facts.md "Sandbox"): each command, applied to the fake GitHub API
// behind a broker configured as the sandbox is (GITHUB_FACT_CACHE_SECONDS = "0"), decides the very next exchange,
// even right after a met requirement; usage mistakes are refused without touching the facts. The staged attacks
// (a forged check run, an approval by a reader or a bot, a standing change request) are denied with their reasons.
import { describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../support/broker-harness.ts";
import { applyGitHubCommand } from "./github-command.ts";

/** [env.sandbox.vars] of wrangler.toml: the sandbox broker reuses no met fact. */
const SANDBOX_VARS = { GITHUB_FACT_CACHE_SECONDS: "0" };

/** Status and internal reason of one exchange with a fresh sandbox-shaped token (acme/app, main, push). */
async function exchange(h: Harness): Promise<[number, unknown]> {
  const response = await h.request(await h.mint());
  return [response.status, h.events().at(-1)?.reason];
}

describe("sandbox github command", () => {
  it("each command shows on the next exchange, even right after the facts were met", async () => {
    const h = await createHarness({ env: SANDBOX_VARS });
    const run = (...args: string[]) => applyGitHubCommand(h.github, args);
    expect(await exchange(h)).toEqual([200, undefined]);

    run("scan", "failure");
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
    const run = (...args: string[]) => applyGitHubCommand(h.github, args);

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
    applyGitHubCommand(h.github, ["uninstall"]);
    expect(await exchange(h)).toEqual([403, "github_app_not_installed"]);
    applyGitHubCommand(h.github, ["install"]);
    expect(await exchange(h)).toEqual([200, undefined]);
  });

  it("refuses usage mistakes and leaves the facts as they were", async () => {
    const h = await createHarness({ env: SANDBOX_VARS });
    const mistakes = [[], ["check"], ["check", "dependency-review", "maybe"], ["check", "dependency-review", "failure", "--app"], ["scan"], ["scan", "maybe"], ["approve", "--fresh"], ["approve", "--bot", "--reader"], ["dismiss"], ["request-changes", "now"], ["outage"]];
    for (const args of mistakes) expect(() => applyGitHubCommand(h.github, args), args.join(" ")).toThrow();
    expect(await exchange(h)).toEqual([200, undefined]);
  });
});
