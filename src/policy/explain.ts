// Why a decision came out as it did: the decision itself (from `decide`), and for every rule why it did or did not
// apply. Pure; no I/O; no clock. For operators (policy:explain, policy:test); the broker never says this on the wire.
import type { CompiledPolicy } from "./compile.ts";
import type { CompiledRule } from "./rule-index.ts";
import {
  conditionHolds,
  decide,
  decideGithubToken,
  guardFailure,
  type Decision,
  type DecisionInput,
  type GithubTokenDecision,
  type GithubTokenDecisionInput,
} from "./decide.ts";
import type { GithubTokenGrant } from "./github-tokens.ts";
import { GUARDS, TRUSTED_EVENTS, type GuardReason } from "./guards.ts";

/**
 * One line per guard for `policy:explain` and docs/policy.md. Kept here, not in GUARDS, so the Worker bundle (which
 * never explains) does not carry the text (docs/performance.md).
 */
export const GUARD_DESCRIPTIONS: Readonly<Record<GuardReason, string>> = {
  guard_pull_request_target:
    "deny pull_request_target events: they run the base repository's workflow with its secrets for fork PRs",
  guard_self_hosted_runner:
    "require a provider-hosted runner (runner_environment github-hosted / gitlab-hosted): self-hosted runners persist state between jobs",
  guard_pull_request_ref: "privileged roles: refuse refs/pull/* (GitHub) and merge-request pipelines (GitLab)",
  guard_unprotected_ref:
    'privileged roles: require a protected ref (ref_protected "true"), or a deployment environment named by the rule (GitHub) / protected (GitLab)',
  guard_untrusted_event: `privileged roles: only events the repository's writers start (GitHub ${[...TRUSTED_EVENTS.github].join(", ")}; GitLab ${[...TRUSTED_EVENTS.gitlab].join(", ")}), plus those the rule names in allowEvents`,
};

/** A role alias or a GitHub token grant a guard refused, and the guard. */
export interface Blocked {
  alias: string;
  reason: GuardReason;
  /** Absent for a role alias. */
  kind?: "github_token";
}

export type RuleOutcome =
  /** Deny rule whose conditions held: it decided. */
  | { kind: "denied" }
  /**
   * Allow rule that granted these aliases and GitHub token grants (others may be listed as blocked by a privileged
   * guard).
   */
  | { kind: "granted"; aliases: string[]; githubTokens: string[]; blocked: Blocked[] }
  /** Allow rule whose conditions held but a guard refused every alias and grant. */
  | { kind: "guarded"; blocked: Blocked[] }
  | { kind: "other_issuer"; issuer: string }
  /** Every condition that failed, in the rule's order. */
  | { kind: "condition_failed"; failures: Array<{ claim: string; value: unknown; patterns: readonly string[] }> }
  | { kind: "when_false" }
  | { kind: "when_threw" };

export interface RuleTrace {
  rule: CompiledRule;
  outcome: RuleOutcome;
}

export interface Explanation {
  decision: Decision | GithubTokenDecision;
  /** Every rule, in declaration order. */
  rules: RuleTrace[];
}

/** What policy:explain is asked: a role request (/v1/credentials) or a GitHub token request (/v1/github-token). */
export type ExplainRequest = DecisionInput | GithubTokenDecisionInput;

function traceRule(policy: CompiledPolicy, rule: CompiledRule, input: ExplainRequest): RuleOutcome {
  if (rule.issuer !== input.issuerId) return { kind: "other_issuer", issuer: rule.issuer };
  const failures = rule.conditions
    .filter((condition) => !conditionHolds(condition, input.claims))
    .map((condition) => ({
      claim: condition.claim,
      value: Object.hasOwn(input.claims, condition.claim) ? input.claims[condition.claim] : undefined,
      patterns: condition.patterns,
    }));
  if (failures.length > 0) return { kind: "condition_failed", failures };
  if (rule.when !== undefined) {
    let result: boolean;
    try {
      result = rule.when(input.claims) === true;
    } catch {
      // Fail closed, as decide does: a throwing deny predicate denies.
      return rule.effect === "deny" ? { kind: "denied" } : { kind: "when_threw" };
    }
    if (!result) return { kind: "when_false" };
  }
  if (rule.effect === "deny") return { kind: "denied" };
  const aliases: string[] = [];
  const githubTokens: string[] = [];
  const blocked: Blocked[] = [];
  for (const [alias, role] of rule.grants) {
    const reason = guardFailure(rule, rule.kind, policy.roles.get(role)?.privileged === true, input.claims);
    if (reason === undefined) aliases.push(alias);
    else blocked.push({ alias, reason });
  }
  for (const name of rule.githubTokens) {
    const reason = guardFailure(rule, rule.kind, policy.githubTokens.get(name)?.privileged === true, input.claims);
    if (reason === undefined) githubTokens.push(name);
    else blocked.push({ alias: name, reason, kind: "github_token" });
  }
  return aliases.length === 0 && githubTokens.length === 0
    ? { kind: "guarded", blocked }
    : { kind: "granted", aliases, githubTokens, blocked };
}

export function explain(policy: CompiledPolicy, input: ExplainRequest): Explanation {
  const decision = "githubToken" in input ? decideGithubToken(policy, input) : decide(policy, input);
  return { decision, rules: policy.rules.map((rule) => ({ rule, outcome: traceRule(policy, rule, input) })) };
}

/** Invisible and reordering characters (bidi overrides, zero-width, line separators) JSON leaves raw. */
const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}\u{7f}-\u{9f}]/gu;

/**
 * A claim value as explain prints it: JSON with invisible characters escaped (a homoglyph or a bidi override shows
 * as `\u202e`, not as reordered text), cut short so a hostile claim cannot flood a terminal.
 */
function show(value: unknown): string {
  if (value === undefined) return "absent";
  const text = (JSON.stringify(value) ?? String(value)).replace(
    INVISIBLE,
    (char) => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
  );
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

const blockedName = (blocked: Blocked) =>
  blocked.kind === "github_token" ? `GitHub token ${blocked.alias}` : blocked.alias;

/** A grant in one line: `acme: homebrew-tap (contents: write, pull_requests: write)`. */
export function describeGithubTokenGrant(grant: GithubTokenGrant): string {
  const permissions = Object.entries(grant.permissions).map(([name, level]) => `${name}: ${level}`);
  return `${grant.owner}: ${grant.repositories.join(", ")} (${permissions.join(", ")})`;
}

/** One line per rule: why it applied or not. */
export function describeOutcome(outcome: RuleOutcome): string {
  switch (outcome.kind) {
    case "denied":
      return "MATCHED (deny rule: denies)";
    case "granted": {
      const extra = outcome.blocked.map((b) => `; ${blockedName(b)} blocked by ${b.reason}`).join("");
      const tokens = outcome.githubTokens.length === 0 ? [] : [`GitHub token ${outcome.githubTokens.join(", ")}`];
      return `MATCHED, grants ${[...outcome.aliases, ...tokens].join(", ")}${extra}`;
    }
    case "guarded":
      return `matched, but ${outcome.blocked.map((b) => `${blockedName(b)} blocked by ${b.reason}`).join("; ")}`;
    case "other_issuer":
      return `not for this issuer (rule is for "${outcome.issuer}")`;
    case "condition_failed":
      return outcome.failures
        .map(
          (f) => `${f.claim}: ${show(f.value)} does not match ${f.patterns.map((p) => JSON.stringify(p)).join(" | ")}`,
        )
        .join("; ");
    case "when_false":
      return "when(): returned false";
    case "when_threw":
      return "when(): threw (an allow rule then does not match)";
  }
}

/** The decision in one line: `allow: rule r grants deploy (arn..., 900 s)` or `deny: reason (rule r)`. */
export function describeDecision(decision: Decision | GithubTokenDecision): string {
  if (decision.allowed && !("alias" in decision)) {
    const { grant } = decision;
    return `ALLOW  rule ${decision.ruleId} grants GitHub token ${grant.name} -> ${describeGithubTokenGrant(grant)}${grant.privileged ? " (privileged)" : ""}`;
  }
  if (decision.allowed) {
    const { grant } = decision;
    return `ALLOW  rule ${decision.ruleId} grants ${decision.alias} -> ${grant.arn} for ${decision.durationSeconds} s${grant.privileged === true ? " (privileged)" : ""}`;
  }
  return `DENY   ${decision.reason}${decision.ruleId === undefined ? "" : ` (rule ${decision.ruleId})`}`;
}

/** The whole explanation as text lines (what policy:explain prints). */
export function formatExplanation(
  explanation: Explanation,
  input: Pick<DecisionInput, "issuerId" | "role"> | Pick<GithubTokenDecisionInput, "issuerId" | "githubToken">,
): string[] {
  const asked =
    "githubToken" in input
      ? `, GitHub token requested: ${input.githubToken}`
      : input.role === undefined
        ? ""
        : `, role requested: ${input.role}`;
  const lines = [describeDecision(explanation.decision), `issuer ${input.issuerId}${asked}`, "rules:"];
  const width = Math.max(0, ...explanation.rules.map((trace) => trace.rule.id.length));
  const guards = new Set<GuardReason>();
  for (const trace of explanation.rules) {
    const decisive = trace.rule.id === explanation.decision.ruleId ? "=>" : "  ";
    lines.push(
      `${decisive} ${trace.rule.effect.padEnd(5)} ${trace.rule.id.padEnd(width)}  ${describeOutcome(trace.outcome)}`,
    );
    if (trace.outcome.kind === "granted" || trace.outcome.kind === "guarded")
      for (const block of trace.outcome.blocked) guards.add(block.reason);
  }
  for (const guard of GUARDS)
    if (guards.has(guard.reason))
      lines.push(
        `${guard.reason}: ${GUARD_DESCRIPTIONS[guard.reason]} (${guard.optOut === undefined ? "widen with: allowEvents" : `opt-out: ${guard.optOut}`})`,
      );
  return lines;
}
