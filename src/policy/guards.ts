// The built-in guards: checks every allow rule gets unless it names the guard's opt-out. Each has a stable reason code.
// Pure; no I/O; no clock. A guard runs only on a rule whose matchers (and `when`) all held. What a claim means on a
// platform (which event, which runner, which ref) comes from the token's platform module (src/platforms/).
import { byKind, platformOf, type IssuerKind } from "../platforms/index.ts";
import { claimString } from "../platforms/claim-shapes.ts";
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

/**
 * The events (GitHub `event_name`) and pipeline sources (GitLab `pipeline_source`) a privileged role may be granted
 * for: those only the repository's writers (or maintainers' schedules) can start. Everything else (issue_comment,
 * workflow_run, repository_dispatch, pull_request_review, ...) can be started by outsiders or by code the writers do
 * not control, while running the default branch's workflow with its secrets. docs/security.md has the table.
 */
export const TRUSTED_EVENTS: Readonly<Record<IssuerKind, ReadonlySet<string>>> = byKind(
  (platform) => platform.guards.trustedEvents,
);

/** The claim that names what started the run: GitHub `event_name`, GitLab `pipeline_source`. */
export const EVENT_CLAIM: Readonly<Record<IssuerKind, string>> = byKind((platform) => platform.guards.eventClaim);

/**
 * Runtime guards, in evaluation order: the first failing one is the reason. What each means: GUARD_DESCRIPTIONS
 * (explain.ts).
 */
export const GUARDS: readonly Guard[] = [
  {
    reason: "guard_pull_request_target",
    optOut: "allowPullRequestTarget",
    scope: "rule",
    passes: (kind, claims) => !platformOf(kind).guards.runsForkCodeWithSecrets(claims),
  },
  {
    reason: "guard_self_hosted_runner",
    optOut: "allowSelfHostedRunners",
    scope: "rule",
    passes: (kind, claims) => platformOf(kind).guards.hostedRunner(claims),
  },
  {
    reason: "guard_pull_request_ref",
    optOut: "allowPullRequestRefs",
    scope: "privileged-role",
    passes: (kind, claims) => !platformOf(kind).guards.pullRequestRun(claims),
  },
  {
    reason: "guard_unprotected_ref",
    optOut: "allowUnprotectedRefs",
    scope: "privileged-role",
    passes: (kind, claims, rule) => platformOf(kind).guards.protectedRef(claims, rule.namesEnvironment),
  },
  {
    reason: "guard_untrusted_event",
    optOut: undefined,
    scope: "privileged-role",
    passes: (kind, claims, rule) => {
      const event = claimString(claims, EVENT_CLAIM[kind]);
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
