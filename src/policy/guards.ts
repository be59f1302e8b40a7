// The built-in guards: checks every allow rule gets unless it names the guard's opt-out. Each has a stable reason code.
// Pure; no I/O; no clock. A guard runs only on a rule whose matchers (and `when`) all held.
import type { IssuerKind } from "../oidc/issuers.ts";
import type { GuardOptOuts } from "./types.ts";

/** Stable internal reason codes of the runtime guards (logged and audited, never sent to the caller). */
export type GuardReason =
  | "guard_pull_request_target"
  | "guard_self_hosted_runner"
  | "guard_pull_request_ref"
  | "guard_unprotected_ref"
  | "guard_untrusted_event";

export type OptOut = keyof GuardOptOuts;

/** What a guard may look at besides the claims: facts about the rule fixed at compile time. */
export interface GuardRuleFacts {
  /** The rule matches on `environment` by name: GitHub creates an unknown environment on first use, unprotected. */
  readonly namesEnvironment: boolean;
  /** Events the rule names in `allowEvents`, beyond the trusted ones (TRUSTED_EVENTS), for privileged grants. */
  readonly extraEvents: ReadonlySet<string>;
}

export interface Guard {
  readonly reason: GuardReason;
  /** The rule field that turns the guard off; undefined when a rule can only widen it (`allowEvents`). */
  readonly optOut: OptOut | undefined;
  /** Rule guards apply to every grant of the rule; role guards only to grants of privileged roles. */
  readonly scope: "rule" | "privileged-role";
  /** True when the claims pass. Claims are verified and schema-checked; read as own string properties. */
  passes(kind: IssuerKind, claims: Readonly<Record<string, unknown>>, rule: GuardRuleFacts): boolean;
}

function text(claims: Readonly<Record<string, unknown>>, name: string): string | undefined {
  if (!Object.hasOwn(claims, name)) return undefined;
  const value = claims[name];
  return typeof value === "string" ? value : undefined;
}

/** GitLab pipeline sources that run merge/pull request code (https://docs.gitlab.com/ci/jobs/job_rules/). */
const GITLAB_REQUEST_SOURCES = new Set(["merge_request_event", "external_pull_request_event"]);

/**
 * The events (GitHub `event_name`) and pipeline sources (GitLab `pipeline_source`) a privileged role may be granted
 * for: those only the repository's writers (or maintainers' schedules) can start. Everything else (issue_comment,
 * workflow_run, repository_dispatch, pull_request_review, ...) can be started by outsiders or by code the writers do
 * not control, while running the default branch's workflow with its secrets. docs/security.md has the table.
 */
export const TRUSTED_EVENTS: Readonly<Record<IssuerKind, ReadonlySet<string>>> = {
  github: new Set(["push", "workflow_dispatch", "schedule", "release", "merge_group", "deployment"]),
  // web: "Run pipeline" button; api: pipelines API. Both need Developer role and, for a protected branch, permission
  // to merge or push to it. Triggers (shared trigger tokens), other projects' pipelines and child pipelines are not.
  gitlab: new Set(["push", "web", "api", "schedule"]),
};

/** The claim that names what started the run: GitHub `event_name`, GitLab `pipeline_source`. */
export const EVENT_CLAIM: Readonly<Record<IssuerKind, string>> = { github: "event_name", gitlab: "pipeline_source" };

/** Runtime guards, in evaluation order: the first failing one is the reason. What each means: GUARD_DESCRIPTIONS (explain.ts). */
export const GUARDS: readonly Guard[] = [
  {
    reason: "guard_pull_request_target",
    optOut: "allowPullRequestTarget",
    scope: "rule",
    // GitLab has no such event; its merge-request pipelines are held by guard_pull_request_ref below.
    passes: (kind, claims) => kind !== "github" || text(claims, "event_name") !== "pull_request_target",
  },
  {
    reason: "guard_self_hosted_runner",
    optOut: "allowSelfHostedRunners",
    scope: "rule",
    passes: (kind, claims) =>
      text(claims, "runner_environment") === (kind === "github" ? "github-hosted" : "gitlab-hosted"),
  },
  {
    reason: "guard_pull_request_ref",
    optOut: "allowPullRequestRefs",
    scope: "privileged-role",
    passes: (kind, claims) => {
      if (kind === "github") return !(text(claims, "ref") ?? "").startsWith("refs/pull/");
      const source = text(claims, "pipeline_source");
      return source === undefined || !GITLAB_REQUEST_SOURCES.has(source);
    },
  },
  {
    reason: "guard_unprotected_ref",
    optOut: "allowUnprotectedRefs",
    scope: "privileged-role",
    passes: (kind, claims, rule) => {
      if (text(claims, "ref_protected") === "true") return true;
      // GitHub: the environment must be one the rule names (and so the operator protected); any workflow can
      // name a new environment, which GitHub then creates without protection rules.
      if (kind === "github") return rule.namesEnvironment && (text(claims, "environment") ?? "") !== "";
      // GitLab says whether the environment is protected.
      return text(claims, "environment_protected") === "true";
    },
  },
  {
    reason: "guard_untrusted_event",
    optOut: undefined,
    scope: "privileged-role",
    passes: (kind, claims, rule) => {
      const event = text(claims, EVENT_CLAIM[kind]);
      return event !== undefined && (TRUSTED_EVENTS[kind].has(event) || rule.extraEvents.has(event));
    },
  },
];

export const GUARD_REASONS: readonly GuardReason[] = GUARDS.map((guard) => guard.reason);

/** Every opt-out a rule may name, the compile-time one included. */
export const OPT_OUTS: readonly OptOut[] = [
  ...GUARDS.flatMap((guard) => (guard.optOut === undefined ? [] : [guard.optOut])),
  "allowAnyWorkflowCaller",
];
