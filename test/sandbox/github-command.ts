// `npm run -s sandbox -- github <action> [args]`: set the facts the sandbox's fake GitHub API reports for the sandbox
// token's commit (acme/app, the default sha, main), e.g. a failed dependency scan, a forged check run, an approval by
// someone who can only read, a standing change request (docs/github-facts.md "Sandbox").
// The CLI side posts the words to the sandbox (POST /sandbox/github); the sandbox applies them to its fake.
import { SANDBOX_PORT } from "../../src/constants.ts";
import { EXAMPLE_FACTS, EXAMPLE_USERS, GITHUB_ACTIONS_APP, SCAN_WORKFLOW, type FakeGitHub } from "../support/fake-github-api.ts";
import { SAMPLE_SHA } from "../support/fake-issuer.ts";

export const GITHUB_USAGE = [
  "github scan <success|failure|cancelled|skipped|timed_out|pending|absent>",
  "                              a new push run of .github/workflows/dependency-review.yml on main (the newest decides);",
  "                              its dependency-review job so (absent: a run without that job)",
  "github check <name> <success|failure|…|pending> [--app <slug>]",
  "                              a check run created through the API, as any workflow with checks: write can",
  "                              (default app github-actions): never a job, never counted",
  "github approve [--stale | --reader | --bot]",
  "                              an approval by bob (maintain); on an earlier head; by dave (read); by github-actions[bot]",
  "github request-changes        carol (admin) requests changes: blocks, whatever the approvals",
  "github dismiss                carol's change request is dismissed",
  "github unapprove              remove every review",
  "github install | uninstall    install or remove the App on acme/app",
  "github outage <on|off>        every GitHub API call answers 500",
  "github rate-limit             the next API call is rate limited (secondary limit, Retry-After 30)",
  "github widen <on|off>         the token App's tokens come back wider than asked (administration: write): the broker refuses them",
].join("\n  ");

const CONCLUSIONS = ["success", "failure", "cancelled", "neutral", "skipped", "timed_out"];

/** The review ids of carol's change requests, per fake (to dismiss them). */
const changeRequests = new WeakMap<FakeGitHub, number[]>();

function approve(github: FakeGitHub, flag: string | undefined): string {
  const { repository, pullNumber, headSha } = EXAMPLE_FACTS;
  const by = flag === "--reader" ? EXAMPLE_USERS.reader : flag === "--bot" ? EXAMPLE_USERS.bot : EXAMPLE_USERS.reviewer;
  github.addReview(repository, pullNumber, { userId: by.id, state: "APPROVED", commitId: flag === "--stale" ? "0".repeat(40) : headSha });
  const how = flag === "--stale" ? " on an earlier head (stale)" : flag === "--reader" ? " (read access only)" : flag === "--bot" ? " (a bot)" : "";
  return `pull request #${pullNumber}: approved by ${by.login}${how}`;
}

/** Applies one command to the sandbox's fake; returns what to print, or throws an Error (usage). */
export function applyGitHubCommand(github: FakeGitHub, args: readonly string[]): string {
  const { repository, pullNumber } = EXAMPLE_FACTS;
  const [action, ...rest] = args;
  switch (action) {
    case "scan": {
      const [result] = rest;
      if (rest.length !== 1 || result === undefined || !(result === "pending" || result === "absent" || CONCLUSIONS.includes(result))) {
        throw new Error("expected github scan <success|failure|cancelled|neutral|skipped|timed_out|pending|absent>");
      }
      const jobs = result === "absent" ? [{ name: "build" }] : [{ name: "dependency-review", status: result === "pending" ? ("in_progress" as const) : ("completed" as const), conclusion: result === "pending" ? null : result }];
      const id = github.addWorkflowRun({ repository, event: "push", headSha: SAMPLE_SHA, headBranch: "main", path: SCAN_WORKFLOW, jobs });
      return `workflow run ${id} of ${SCAN_WORKFLOW} (push, main, ${SAMPLE_SHA.slice(0, 12)}): ${result === "absent" ? "no dependency-review job" : `dependency-review ${result}`}`;
    }
    case "check": {
      const [name, result, flag, app] = rest;
      if (name === undefined || result === undefined || !(result === "pending" || CONCLUSIONS.includes(result)) || (flag !== undefined && (flag !== "--app" || app === undefined || !/^[a-z0-9-]+$/.test(app)))) {
        throw new Error("expected github check <name> <conclusion|pending> [--app <slug>]");
      }
      const by = app === undefined || app === GITHUB_ACTIONS_APP.slug ? GITHUB_ACTIONS_APP : { slug: app, id: 777 };
      github.addCheckRun({ repository, sha: SAMPLE_SHA, name, app: by, status: result === "pending" ? "in_progress" : "completed", conclusion: result === "pending" ? null : result });
      return `check run "${name}" created through the API as ${by.slug}: ${result} (on ${repository}@${SAMPLE_SHA.slice(0, 12)})`;
    }
    case "approve":
      if (rest.length > 1 || (rest.length === 1 && !["--stale", "--reader", "--bot"].includes(rest[0] as string))) throw new Error("expected github approve [--stale | --reader | --bot]");
      return approve(github, rest[0]);
    case "request-changes": {
      if (rest.length > 0) throw new Error("expected github request-changes");
      const id = github.addReview(repository, pullNumber, { userId: EXAMPLE_USERS.writer.id, state: "CHANGES_REQUESTED", commitId: EXAMPLE_FACTS.headSha });
      changeRequests.set(github, [...(changeRequests.get(github) ?? []), id]);
      return `pull request #${pullNumber}: ${EXAMPLE_USERS.writer.login} requests changes`;
    }
    case "dismiss": {
      const ids = changeRequests.get(github) ?? [];
      if (rest.length > 0 || ids.length === 0) throw new Error("expected github dismiss, after github request-changes");
      for (const id of ids) github.dismissReview(repository, pullNumber, id);
      changeRequests.set(github, []);
      return `pull request #${pullNumber}: ${EXAMPLE_USERS.writer.login}'s change request dismissed`;
    }
    case "unapprove":
      github.clearReviews(repository, pullNumber);
      changeRequests.set(github, []);
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
    case "widen":
      if (rest[0] !== "on" && rest[0] !== "off") throw new Error("expected github widen <on|off>");
      github.widenTokens(rest[0] === "on" ? { permissions: { administration: "write" } } : null);
      return `token App answers ${rest[0] === "on" ? "wider than asked (administration: write added)" : "as asked"}`;
    default:
      throw new Error(`expected one of:\n  ${GITHUB_USAGE}`);
  }
}

/** The sandbox CLI's `github` subcommand (test/sandbox/cli.ts). */
export const githubCommand = {
  usage: "github <scan|check|approve|request-changes|dismiss|unapprove|install|uninstall|outage|rate-limit|widen> ...",
  summary: "set what the fake GitHub API reports for acme/app (scan runs, forged check runs, reviews, installation, outages)",
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
