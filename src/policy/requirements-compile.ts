// Validates a rule's `require` (docs/github-facts.md) and compiles it. Pure; no I/O. Called from compile.ts.
import { MAX_REQUIRED_APPROVALS, MAX_REQUIRED_CHECKS } from "./constants.ts";
import { fail, isPlainObject } from "./compile-error.ts";
import {
  GITHUB_ACTIONS_APP,
  type CompiledCheck,
  type CompiledPullRequest,
  type CompiledRequirements,
  type CompiledRulesets,
} from "./requirements.ts";
import { WORKFLOW_FILE_PATTERN } from "./requirements-jobs.ts";
import type { CheckConclusion, PinnedRunEvent, RuleDefinition } from "./types.ts";

const CONCLUSIONS: readonly CheckConclusion[] = [
  "success",
  "failure",
  "neutral",
  "cancelled",
  "skipped",
  "timed_out",
  "action_required",
  "stale",
];
/** Events whose run executes the workflow file as it is on the run's branch (types.ts PinnedRunEvent). */
const PINNED_RUN_EVENTS: readonly PinnedRunEvent[] = ["push", "workflow_dispatch", "schedule"];
/** GitHub App slugs: lower-case letters, digits and dashes. */
const APP_SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,99}$/;

function onlyFields(where: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) fail(`${where}.${key}`, "unknown field");
}

/** A name as GitHub displays it: 1..200 characters, no surrounding spaces, no control characters. */
function displayName(value: unknown): value is string {
  return (
    typeof value === "string" &&
    value.length > 0 &&
    value.length <= 200 &&
    value.trim() === value &&
    !/\p{Cc}/u.test(value)
  );
}

function compileConclusions(where: string, conclusion: unknown): CheckConclusion[] {
  if (conclusion === undefined) return ["success"];
  if (
    !Array.isArray(conclusion) ||
    conclusion.length === 0 ||
    !conclusion.every((c) => (CONCLUSIONS as readonly unknown[]).includes(c))
  ) {
    fail(`${where}.conclusion`, `must be a non-empty list of ${CONCLUSIONS.join(", ")}`);
  }
  return [...new Set(conclusion as CheckConclusion[])].sort();
}

/** The two forms a check run of GitHub Actions must be written in instead, for the error message. */
function rewriteHint(name: string): string {
  const job = JSON.stringify(name);
  return `{ job: ${job} } (a job of the token's own workflow run: make the deploy job \`needs:\` it) or { workflow: ".github/workflows/<file>.yml", job: ${job} } (a job of that workflow's push run on the same commit and branch)`;
}

function compileJobCheck(where: string, check: Record<string, unknown>): CompiledCheck {
  onlyFields(where, check, ["job", "workflow", "events", "conclusion"]);
  const { job, workflow, events } = check;
  if (!displayName(job))
    fail(`${where}.job`, "must be the job's display name (1..200 characters; matrix legs match the bare name)");
  if (workflow !== undefined && (typeof workflow !== "string" || !WORKFLOW_FILE_PATTERN.test(workflow))) {
    fail(`${where}.workflow`, "must be a workflow file of the repository: .github/workflows/<name>.yml (or .yaml)");
  }
  let pinnedEvents: PinnedRunEvent[] = ["push"];
  if (events !== undefined) {
    if (workflow === undefined)
      fail(`${where}.events`, "applies to a pinned workflow only (the token's own run is the token's event)");
    if (
      !Array.isArray(events) ||
      events.length === 0 ||
      !events.every((event) => (PINNED_RUN_EVENTS as readonly unknown[]).includes(event))
    ) {
      fail(
        `${where}.events`,
        `must be a non-empty list of ${PINNED_RUN_EVENTS.join(", ")}: events that run the workflow file of the branch itself`,
      );
    }
    pinnedEvents = [...new Set(events as PinnedRunEvent[])].sort();
  }
  const conclusions = compileConclusions(where, check.conclusion);
  const file = workflow as string | undefined;
  return {
    kind: "job",
    job,
    workflow: file,
    events: file === undefined ? [] : pinnedEvents,
    conclusions,
    key: `job:${JSON.stringify([job, file ?? null, pinnedEvents, conclusions])}`,
  };
}

function compileAppCheck(where: string, check: Record<string, unknown>): CompiledCheck {
  onlyFields(where, check, ["name", "app", "conclusion"]);
  const { name, app } = check;
  if (!displayName(name)) fail(`${where}.name`, "must be the check run's exact name (1..200 characters)");
  // The app is mandatory: a name alone is anyone's to create.
  if (app === undefined)
    fail(
      `${where}.app`,
      `is required: a check name alone is spoofable; for a GitHub Actions job write ${rewriteHint(name)}`,
    );
  const appOk =
    typeof app === "string"
      ? APP_SLUG_PATTERN.test(app)
      : typeof app === "number" && Number.isSafeInteger(app) && app > 0;
  if (!appOk) fail(`${where}.app`, "must be a third-party App's slug (lower-case) or its positive integer id");
  if (app === GITHUB_ACTIONS_APP.slug || app === GITHUB_ACTIONS_APP.id) {
    // Every workflow's GITHUB_TOKEN is an installation token of this App: a job with `checks: write` (or any action in
    // it) creates check runs of any name, head sha and conclusion as GitHub Actions.
    fail(
      `${where}.app`,
      `GitHub Actions check runs are forgeable by any workflow with checks: write; rewrite it as ${rewriteHint(name)}`,
      "check_forgeable",
    );
  }
  const conclusions = compileConclusions(where, check.conclusion);
  return {
    kind: "app",
    name,
    app: app as string | number,
    conclusions,
    key: `check:${JSON.stringify([name, app, conclusions])}`,
  };
}

function compileCheck(where: string, check: unknown): CompiledCheck {
  if (!isPlainObject(check))
    fail(where, "must be { job, workflow?, events?, conclusion? } or { name, app, conclusion? }");
  return "job" in check ? compileJobCheck(where, check) : compileAppCheck(where, check);
}

function compilePullRequest(where: string, pr: unknown): CompiledPullRequest {
  if (!isPlainObject(pr)) fail(where, "must be { approvals, allowStaleApprovals? }");
  onlyFields(where, pr, ["approvals", "allowStaleApprovals"]);
  if (
    !Number.isInteger(pr.approvals) ||
    (pr.approvals as number) < 1 ||
    (pr.approvals as number) > MAX_REQUIRED_APPROVALS
  )
    fail(`${where}.approvals`, `must be an integer 1..${MAX_REQUIRED_APPROVALS}`);
  if (pr.allowStaleApprovals !== undefined && pr.allowStaleApprovals !== true)
    fail(`${where}.allowStaleApprovals`, "is `true` or absent");
  const approvals = pr.approvals as number;
  const allowStaleApprovals = pr.allowStaleApprovals === true;
  return { approvals, allowStaleApprovals, key: `pr:${approvals}:${allowStaleApprovals ? "stale" : "head"}` };
}

function compileRulesets(where: string, rulesets: unknown): CompiledRulesets {
  if (!isPlainObject(rulesets)) fail(where, "must be { approvals, lastPushApproval?, dismissStaleReviews? }");
  onlyFields(where, rulesets, ["approvals", "lastPushApproval", "dismissStaleReviews"]);
  const { approvals, lastPushApproval, dismissStaleReviews } = rulesets;
  if (!Number.isInteger(approvals) || (approvals as number) < 1 || (approvals as number) > MAX_REQUIRED_APPROVALS)
    fail(`${where}.approvals`, `must be an integer 1..${MAX_REQUIRED_APPROVALS}`);
  if (lastPushApproval !== undefined && lastPushApproval !== true)
    fail(`${where}.lastPushApproval`, "is `true` or absent");
  if (dismissStaleReviews !== undefined && dismissStaleReviews !== true)
    fail(`${where}.dismissStaleReviews`, "is `true` or absent");
  const compiled = {
    approvals: approvals as number,
    lastPushApproval: lastPushApproval === true,
    dismissStaleReviews: dismissStaleReviews === true,
  };
  return { ...compiled, key: `rulesets:${JSON.stringify(compiled)}` };
}

/** The compiled requirements of one rule, or undefined when it has none. Throws PolicyCompileError naming the field. */
export function compileRequirements(
  where: string,
  rule: RuleDefinition,
  kind: string,
  effect: "allow" | "deny",
): CompiledRequirements | undefined {
  const require = rule.require as unknown;
  if (require === undefined) return undefined;
  const at = `${where}.require`;
  if (effect === "deny") fail(at, "deny rules take no requirements");
  if (kind !== "github") fail(at, "requirements need a GitHub issuer (GitHub's API is their source)");
  if (!isPlainObject(require)) fail(at, "must be { checks?, pullRequest?, rulesets? }");
  onlyFields(at, require, ["checks", "pullRequest", "rulesets"]);
  const checks: CompiledCheck[] = [];
  if (require.checks !== undefined) {
    if (!Array.isArray(require.checks) || require.checks.length === 0 || require.checks.length > MAX_REQUIRED_CHECKS)
      fail(`${at}.checks`, `must be a list of 1..${MAX_REQUIRED_CHECKS} checks`);
    for (const [index, check] of require.checks.entries()) checks.push(compileCheck(`${at}.checks[${index}]`, check));
    if (new Set(checks.map((check) => check.key)).size !== checks.length)
      fail(`${at}.checks`, "lists the same check twice");
  }
  const pullRequest =
    require.pullRequest === undefined ? undefined : compilePullRequest(`${at}.pullRequest`, require.pullRequest);
  const rulesets = require.rulesets === undefined ? undefined : compileRulesets(`${at}.rulesets`, require.rulesets);
  if (checks.length === 0 && pullRequest === undefined && rulesets === undefined)
    fail(at, "names no requirement (checks, pullRequest or rulesets)");
  return { checks, pullRequest, rulesets };
}
