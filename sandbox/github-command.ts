// `npm run -s sandbox -- github <action> [args]`: set the facts the sandbox's fake GitHub API reports for the sandbox
// token's commit (the policy's default repository, sha and branch, sandbox-facts.ts), e.g. a failed scan job, a forged
// check run, an approval by someone who can only read, a standing change request (docs/github-facts.md "Sandbox").
// The CLI side posts the words to the sandbox (POST /sandbox/github); the sandbox applies them to its fake.
import { SANDBOX_PORT } from "../src/cli/constants.ts";
import { jobNameMatches } from "../src/policy/requirements-jobs.ts";
import {
  EXAMPLE_FACTS,
  EXAMPLE_USERS,
  GITHUB_ACTIONS_APP,
  type FakeGitHub,
  type JobInput,
} from "./fakes/fake-github-api.ts";
import { approve } from "./github-seed.ts";
import { factApp, type SandboxFacts, type SandboxJob } from "./sandbox-facts.ts";

export const GITHUB_USAGE = [
  "github scan <success|failure|cancelled|neutral|skipped|timed_out|pending|absent>",
  "                              the job of the policy's first job requirement: a new push run of its pinned workflow",
  "                              on the token's branch and commit (the newest decides), or a re-run of the token's own",
  "                              run; that job so (absent: a run without it)",
  "github check <name> <success|failure|…|pending> [--app <slug>]",
  "                              a check run created through the API (default app: the one the policy names for that",
  "                              check, else github-actions, which is never a job and never counted)",
  "github approve [--stale | --reader | --bot]",
  "                              approvals by as many writers as the policy requires (bob, maintain, first); on an",
  "                              earlier head; by dave (read); by github-actions[bot]",
  "github request-changes        carol (admin) requests changes: blocks, whatever the approvals",
  "github dismiss                carol's change request is dismissed",
  "github unapprove              remove every review",
  "github install | uninstall    install or remove the App on the sandbox token's repository",
  "github outage <on|off>        every GitHub API call answers 500",
  "github rate-limit             the next API call is rate limited (secondary limit, Retry-After 30)",
  "github widen <on|off>         the token App's tokens come back wider than asked (administration: write): the broker refuses them",
].join("\n  ");

const CONCLUSIONS = ["success", "failure", "cancelled", "neutral", "skipped", "timed_out"];

/** The scan job as `result` says: a job, or none for `absent`. */
function scanJob(name: string, result: string): JobInput[] {
  if (result === "absent") return [];
  return [
    {
      name,
      status: result === "pending" ? "in_progress" : "completed",
      conclusion: result === "pending" ? null : result,
    },
  ];
}

/**
 * `github scan <result>`: the policy's first job requirement's job, in a new pinned run or a re-run of the token's own.
 */
function scan(github: FakeGitHub, facts: SandboxFacts, rest: readonly string[]): string {
  const target = facts.scan;
  if (target === undefined)
    throw new Error(
      "github scan: the policy requires no job of a workflow run (no `checks: [{ job }]` in a rule's require); try github check, approve or unapprove",
    );
  const [result] = rest;
  if (
    rest.length !== 1 ||
    result === undefined ||
    !(result === "pending" || result === "absent" || CONCLUSIONS.includes(result))
  ) {
    throw new Error("expected github scan <success|failure|cancelled|neutral|skipped|timed_out|pending|absent>");
  }
  const { repository, sha, branch } = facts;
  const what = result === "absent" ? `no ${target.job} job` : `${target.job} ${result}`;
  const others = (jobs: readonly SandboxJob[]) => jobs.filter((job) => !jobNameMatches(target.job, job.name));
  if (target.workflow === undefined) {
    const own = facts.run;
    if (own === undefined)
      throw new Error(
        "github scan: the sandbox token's workflow_ref names no workflow of its repository, so it has no own run",
      );
    github.rerunWorkflowRun(own.id, [...others(own.jobs), ...scanJob(target.job, result)]);
    return `workflow run ${own.id} of ${own.workflow} (the token's own run) re-run: ${what}`;
  }
  const pinned = facts.runs.find((run) => run.workflow === target.workflow) ?? {
    workflow: target.workflow,
    event: "push" as const,
    jobs: [],
  };
  const jobs: JobInput[] = [...others(pinned.jobs), ...scanJob(target.job, result)];
  // A run with no job at all is still queued (pending); absent means a run that completed without the job.
  if (jobs.length === 0) jobs.push({ name: jobNameMatches(target.job, "build") ? "test" : "build" });
  const id = github.addWorkflowRun({
    repository,
    event: pinned.event,
    headSha: sha,
    headBranch: branch,
    path: pinned.workflow,
    jobs,
  });
  return `workflow run ${id} of ${pinned.workflow} (${pinned.event}, ${branch}, ${sha.slice(0, 12)}): ${what}`;
}

/** The review ids of carol's change requests, per fake (to dismiss them). */
const changeRequests = new WeakMap<FakeGitHub, number[]>();

/**
 * Applies one command to the sandbox's fake, on the facts' repository and commit; returns what to print, or throws an
 * Error (usage).
 */
export function applyGitHubCommand(github: FakeGitHub, facts: SandboxFacts, args: readonly string[]): string {
  const { pullNumber } = EXAMPLE_FACTS;
  const { repository, sha } = facts;
  const [action, ...rest] = args;
  switch (action) {
    case "scan":
      return scan(github, facts, rest);
    case "check": {
      const [name, result, flag, app] = rest;
      if (
        name === undefined ||
        result === undefined ||
        !(result === "pending" || CONCLUSIONS.includes(result)) ||
        (flag !== undefined && (flag !== "--app" || app === undefined || !/^[a-z0-9-]+$/.test(app)))
      ) {
        throw new Error("expected github check <name> <conclusion|pending> [--app <slug>]");
      }
      // The App the policy names for a check of this name (a run that counts), else GitHub Actions (one that never
      // does).
      const by = factApp(app ?? facts.checks.find((check) => check.name === name)?.app ?? GITHUB_ACTIONS_APP.slug);
      github.addCheckRun({
        repository,
        sha,
        name,
        app: by,
        status: result === "pending" ? "in_progress" : "completed",
        conclusion: result === "pending" ? null : result,
      });
      return `check run "${name}" created through the API as ${by.slug}: ${result} (on ${repository}@${sha.slice(0, 12)})`;
    }
    case "approve":
      if (rest.length > 1 || (rest.length === 1 && !["--stale", "--reader", "--bot"].includes(rest[0] as string)))
        throw new Error("expected github approve [--stale | --reader | --bot]");
      return approve(github, facts, rest[0]);
    case "request-changes": {
      if (rest.length > 0) throw new Error("expected github request-changes");
      const id = github.addReview(repository, pullNumber, {
        userId: EXAMPLE_USERS.writer.id,
        state: "CHANGES_REQUESTED",
        commitId: EXAMPLE_FACTS.headSha,
      });
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

/** The sandbox CLI's `github` subcommand (sandbox/cli.ts). */
export const githubCommand = {
  usage: "github <scan|check|approve|request-changes|dismiss|unapprove|install|uninstall|outage|rate-limit|widen> ...",
  summary:
    "set what the fake GitHub API reports for the sandbox token's commit (scan jobs, forged check runs, reviews, installation, outages, widened tokens)",
  needsSandbox: true,
  async run(args: string[]): Promise<number> {
    const origin = process.env.SANDBOX_URL ?? `http://127.0.0.1:${SANDBOX_PORT}`;
    const response = await fetch(`${origin}/sandbox/github`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ args }),
    });
    const body = (await response.json()) as { message?: string; error?: string };
    if (!response.ok) throw new Error(body.error ?? `sandbox answered ${response.status}`);
    console.log(body.message);
    // The sandbox broker reuses no fact (GITHUB_FACT_CACHE_SECONDS = "0" in [env.sandbox.vars]): a deployed broker
    // would
    // keep a met requirement up to 60 s, the sandbox's shows the change on the very next request
    // (github-command.test.ts).
    console.log(
      "The sandbox broker reuses no GitHub fact (GITHUB_FACT_CACHE_SECONDS = 0): the next request sees this.",
    );
    return 0;
  },
};
