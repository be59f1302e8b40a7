// `npm run -s sandbox -- github <action> [args]`: set the facts the sandbox's fake GitHub API reports for the sandbox
// token's commit (the policy's default repository and sha, policy-examples.ts), e.g. a failed check, then an approval
// (docs/github-facts.md). The CLI side posts the words to the sandbox (POST /sandbox/github); the sandbox applies them.
import { SANDBOX_PORT } from "../../src/constants.ts";
import { EXAMPLE_FACTS, type FakeGitHub } from "../support/fake-github-api.ts";
import { factApp, sandboxReviewers, type SandboxFacts } from "./policy-examples.ts";

export const GITHUB_USAGE = [
  "github check <name> <success|failure|cancelled|neutral|skipped|timed_out|pending> [--app <slug>]",
  "github approve [--stale]      an approval by a reviewer (on an earlier head with --stale)",
  "github unapprove              remove every review",
  "github install | uninstall    install or remove the App on the sandbox token's repository",
  "github outage <on|off>        every GitHub API call answers 500",
  "github rate-limit             the next API call is rate limited (secondary limit, Retry-After 30)",
].join("\n  ");

/**
 * What the fake reports at start: the App installed on the repository, every required check run completed with an
 * accepted conclusion on the commit, and the pull request merged as that commit with the approvals required.
 */
export function seedSandboxFacts(github: FakeGitHub, facts: SandboxFacts): void {
  const { pullNumber, authorId, headSha } = EXAMPLE_FACTS;
  const { repository, sha } = facts;
  github.addRepository(repository, facts.repositoryId);
  for (const check of facts.checks) github.addCheckRun({ repository, sha, name: check.name, app: factApp(check.app), status: "completed", conclusion: check.conclusion });
  github.addPullRequest({ repository, number: pullNumber, authorId, headSha, baseRef: facts.baseRef, state: "closed", mergedAt: "2026-11-25T11:30:00Z", mergeCommitSha: sha, commits: [headSha] });
  approve(github, facts, headSha);
}

/** As many approvals as the facts need (at least one), on `commitId`. */
function approve(github: FakeGitHub, facts: SandboxFacts, commitId: string): number[] {
  const reviewers = sandboxReviewers(Math.max(1, facts.approvals));
  for (const userId of reviewers) github.addReview(facts.repository, EXAMPLE_FACTS.pullNumber, { userId, state: "APPROVED", commitId });
  return reviewers;
}

/** Applies one command to the sandbox's fake, on the facts' repository and commit; returns what to print, or throws an Error (usage). */
export function applyGitHubCommand(github: FakeGitHub, facts: SandboxFacts, args: readonly string[]): string {
  const { pullNumber, headSha } = EXAMPLE_FACTS;
  const { repository, sha } = facts;
  const [action, ...rest] = args;
  switch (action) {
    case "check": {
      const [name, result, flag, app] = rest;
      const conclusions = ["success", "failure", "cancelled", "neutral", "skipped", "timed_out"];
      if (name === undefined || result === undefined || !(result === "pending" || conclusions.includes(result)) || (flag !== undefined && (flag !== "--app" || app === undefined || !/^[a-z0-9-]+$/.test(app)))) {
        throw new Error("expected github check <name> <conclusion|pending> [--app <slug>]");
      }
      // The app the policy names for this check (else GitHub Actions), unless --app says otherwise.
      const by = factApp(app ?? facts.checks.find((check) => check.name === name)?.app ?? "github-actions");
      // A new run: the latest run of the app decides, as on GitHub.
      github.addCheckRun({ repository, sha, name, app: by, status: result === "pending" ? "in_progress" : "completed", conclusion: result === "pending" ? null : result });
      return `check run "${name}" by ${by.slug}: ${result} (on ${repository}@${sha.slice(0, 12)})`;
    }
    case "approve": {
      if (rest.length > 1 || (rest.length === 1 && rest[0] !== "--stale")) throw new Error("expected github approve [--stale]");
      const reviewers = approve(github, facts, rest[0] === "--stale" ? "0".repeat(40) : headSha);
      return `pull request #${pullNumber}: approved by user${reviewers.length === 1 ? "" : "s"} ${reviewers.join(", ")}${rest[0] === "--stale" ? " on an earlier head (stale)" : ""}`;
    }
    case "unapprove":
      github.clearReviews(repository, pullNumber);
      return `pull request #${pullNumber}: no reviews`;
    case "install":
    case "uninstall":
      github.setInstalled(repository, action === "install");
      return `the App is ${action === "install" ? "installed on" : "not installed on"} ${repository}`;
    case "outage":
      if (rest[0] !== "on" && rest[0] !== "off") throw new Error("expected github outage <on|off>");
      github.fail(rest[0] === "on" ? { kind: "status", status: 500 } : null);
      return `GitHub API outage ${rest[0]}`;
    case "rate-limit":
      github.fail({ kind: "rate_limited", secondary: true, retryAfterSeconds: 30 }, { times: 1 });
      return "the next GitHub API call is rate limited (Retry-After: 30)";
    default:
      throw new Error(`expected one of:\n  ${GITHUB_USAGE}`);
  }
}

/** The sandbox CLI's `github` subcommand (test/sandbox/cli.ts). */
export const githubCommand = {
  usage: "github <check|approve|unapprove|install|uninstall|outage|rate-limit> ...",
  summary: "set what the fake GitHub API reports for the sandbox token's commit (checks, approvals, installation, outages)",
  needsSandbox: true,
  async run(args: string[]): Promise<number> {
    const origin = process.env.SANDBOX_URL ?? `http://127.0.0.1:${SANDBOX_PORT}`;
    const response = await fetch(`${origin}/sandbox/github`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ args }) });
    const body = (await response.json()) as { message?: string; error?: string };
    if (!response.ok) throw new Error(body.error ?? `sandbox answered ${response.status}`);
    console.log(body.message);
    // The sandbox broker reuses no fact (GITHUB_FACT_CACHE_SECONDS = "0" in [env.sandbox.vars]): a deployed broker would
    // keep a met requirement up to 60 s, the sandbox's shows the change on the very next request (github-command.test.ts).
    console.log("The sandbox broker reuses no GitHub fact (GITHUB_FACT_CACHE_SECONDS = 0): the next request sees this.");
    return 0;
  },
};
