// Validates a rule's `require` (docs/github-facts.md) and compiles it. Pure; no I/O. Called from compile.ts.
import { MAX_REQUIRED_APPROVALS, MAX_REQUIRED_CHECKS } from "../constants.ts";
import { fail, isPlainObject } from "./compile-error.ts";
import type { CompiledCheck, CompiledRequirements } from "./requirements.ts";
import type { CheckConclusion, RuleDefinition } from "./types.ts";

const CONCLUSIONS: readonly CheckConclusion[] = ["success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required", "stale"];
/** GitHub App slugs: lower-case letters, digits and dashes. */
const APP_SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,99}$/;

function onlyFields(where: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) fail(`${where}.${key}`, "unknown field");
}

function compileCheck(where: string, check: unknown): CompiledCheck {
  if (!isPlainObject(check)) fail(where, "must be { name, app, conclusion? }");
  onlyFields(where, check, ["name", "app", "conclusion"]);
  const { name, app, conclusion } = check;
  if (typeof name !== "string" || name.length === 0 || name.length > 200 || name.trim() !== name) fail(`${where}.name`, "must be the check run's exact name (1..200 characters)");
  // The app is mandatory: any workflow token with `checks: write` can create a run with any name.
  if (app === undefined) fail(`${where}.app`, "is required: a check name alone is spoofable (name the app's slug or numeric id)");
  const appOk = typeof app === "string" ? APP_SLUG_PATTERN.test(app) : typeof app === "number" && Number.isSafeInteger(app) && app > 0;
  if (!appOk) fail(`${where}.app`, "must be an app slug (lower-case, e.g. github-actions) or a positive integer app id");
  let conclusions: CheckConclusion[] = ["success"];
  if (conclusion !== undefined) {
    if (!Array.isArray(conclusion) || conclusion.length === 0 || !conclusion.every((c) => (CONCLUSIONS as readonly unknown[]).includes(c))) {
      fail(`${where}.conclusion`, `must be a non-empty list of ${CONCLUSIONS.join(", ")}`);
    }
    conclusions = [...new Set(conclusion as CheckConclusion[])].sort();
  }
  return { name, app: app as string | number, conclusions, key: `check:${JSON.stringify([name, app, conclusions])}` };
}

/** The compiled requirements of one rule, or undefined when it has none. Throws PolicyCompileError naming the field. */
export function compileRequirements(where: string, rule: RuleDefinition, kind: string, effect: "allow" | "deny"): CompiledRequirements | undefined {
  const require = rule.require as unknown;
  if (require === undefined) return undefined;
  const at = `${where}.require`;
  if (effect === "deny") fail(at, "deny rules take no requirements");
  if (kind !== "github") fail(at, "requirements need a GitHub issuer (GitHub's API is their source)");
  if (!isPlainObject(require)) fail(at, "must be { checks?, pullRequest? }");
  onlyFields(at, require, ["checks", "pullRequest"]);
  const checks: CompiledCheck[] = [];
  if (require.checks !== undefined) {
    if (!Array.isArray(require.checks) || require.checks.length === 0 || require.checks.length > MAX_REQUIRED_CHECKS) fail(`${at}.checks`, `must be a list of 1..${MAX_REQUIRED_CHECKS} checks`);
    require.checks.forEach((check, index) => checks.push(compileCheck(`${at}.checks[${index}]`, check)));
    if (new Set(checks.map((check) => check.key)).size !== checks.length) fail(`${at}.checks`, "lists the same check twice");
  }
  let pullRequest: CompiledRequirements["pullRequest"];
  if (require.pullRequest !== undefined) {
    const pr = require.pullRequest;
    if (!isPlainObject(pr)) fail(`${at}.pullRequest`, "must be { approvals, allowStaleApprovals? }");
    onlyFields(`${at}.pullRequest`, pr, ["approvals", "allowStaleApprovals"]);
    if (!Number.isInteger(pr.approvals) || (pr.approvals as number) < 1 || (pr.approvals as number) > MAX_REQUIRED_APPROVALS) fail(`${at}.pullRequest.approvals`, `must be an integer 1..${MAX_REQUIRED_APPROVALS}`);
    if (pr.allowStaleApprovals !== undefined && pr.allowStaleApprovals !== true) fail(`${at}.pullRequest.allowStaleApprovals`, "is `true` or absent");
    const approvals = pr.approvals as number;
    const allowStaleApprovals = pr.allowStaleApprovals === true;
    pullRequest = { approvals, allowStaleApprovals, key: `pr:${approvals}:${allowStaleApprovals ? "stale" : "head"}` };
  }
  if (checks.length === 0 && pullRequest === undefined) fail(at, "names no requirement (checks or pullRequest)");
  return { checks, pullRequest };
}
