// What `npm run revoke` prints: the plan (rules, roles, cutoff, policy documents, limits, permissions) and the outcome
// per role. Pure; no I/O; no clock (times come in).
import { KILL_SWITCH_CACHE_MS } from "../../policy/constants.ts";
import {
  EXCHANGE_AFTER_KILL_SWITCH_MAX_MS,
  IAM_ROLE_INLINE_POLICIES_MAX_CHARS,
  KV_PROPAGATION_MAX_MS,
  REVOKE_CUTOFF_DELAY_MS,
} from "./constants.ts";
import { countedPolicyChars, formatCutoff, type DenyPolicy } from "./deny-policy.ts";
import type { RevokeArgs } from "./args.ts";
import type { RoleOutcome } from "./role-changes.ts";
import type { RevokeTargets, RoleTarget } from "./targets.ts";

/** The IAM actions --apply and --remove call, on each role. */
export const IAM_PERMISSIONS = [
  "iam:GetRole",
  "iam:ListRolePolicies",
  "iam:GetRolePolicy",
  "iam:PutRolePolicy",
  "iam:DeleteRolePolicy",
] as const;

export interface RevokePlan {
  args: RevokeArgs;
  /** `wrangler.toml (top level)` or `wrangler.toml (env.sandbox)`. */
  config: string;
  stsAuth: "sigv4" | "web-identity";
  targets: RevokeTargets;
  /** Issuer id -> its deny policy. */
  policies: ReadonlyMap<string, DenyPolicy>;
  /** The SourceIdentity the subject's sessions carry, per targeted issuer (`gh-<actor>` without --actor). */
  sourceIdentities: readonly string[];
  cutoffMs: number;
  nowMs: number;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

export function subjectLabel(args: Pick<RevokeArgs, "repository" | "actor">): string {
  return [
    args.repository === undefined ? "" : `repository ${args.repository}`,
    args.actor === undefined ? "" : `actor ${args.actor}`,
  ]
    .filter((part) => part !== "")
    .join(", ");
}

/** The command line that repeats this run in another mode (or for one account), for the operator to copy. */
export function commandFor(args: RevokeArgs, mode: "apply" | "remove", account?: string): string {
  const parts = ["npm run revoke --"];
  if (args.repository !== undefined) parts.push(`--repository ${args.repository}`);
  if (args.actor !== undefined) parts.push(`--actor '${args.actor}'`);
  for (const id of args.issuerIds ?? []) parts.push(`--issuer ${id}`);
  if (args.env !== undefined) parts.push(`--env ${args.env}`);
  if (args.policyFile !== "policies/index.ts") parts.push(`--policy ${args.policyFile}`);
  for (const role of args.extraRoles) parts.push(`--role ${role}`);
  if (mode === "apply" && args.cutoffMs !== undefined) parts.push(`--cutoff ${formatCutoff(args.cutoffMs)}`);
  if (args.iamEndpoint !== undefined) parts.push(`--iam-endpoint ${args.iamEndpoint}`);
  if (args.iamRegion !== undefined) parts.push(`--iam-region ${args.iamRegion}`);
  if (account !== undefined) parts.push(`--account ${account}`);
  parts.push(`--${mode}`);
  return parts.join(" ");
}

export function accountsOf(roles: readonly RoleTarget[]): string[] {
  return [...new Set(roles.map((role) => role.account))].sort();
}

function rulesSection(plan: RevokePlan): string[] {
  const out = ["Rules that can grant it (the policy as it is now):"];
  for (const issuer of plan.targets.issuers) {
    out.push(`  issuer ${issuer.id} (${issuer.kind}, ${issuer.url}):`);
    const width = Math.max(...issuer.rules.map((rule) => rule.ruleId.length));
    for (const rule of issuer.rules) {
      const grants = rule.grants.map(([alias, role]) => (alias === role ? role : `${alias} -> ${role}`)).join(", ");
      out.push(
        `    ${rule.ruleId.padEnd(width)}  grants ${grants}${rule.notes.length === 0 ? "" : `; matches on ${rule.notes.join(", ")}`}`,
      );
    }
  }
  for (const skipped of plan.targets.skipped) {
    const why =
      skipped.reason === "not_configured"
        ? `not in ISSUERS of ${plan.config}: no session of it can exist`
        : "left out (--issuer)";
    out.push(`  issuer ${skipped.id}: ${why} (rules ${skipped.ruleIds.join(", ")})`);
  }
  return out;
}

function cutoffSection(plan: RevokePlan): string[] {
  const cutoff = formatCutoff(plan.cutoffMs);
  const out = [`Cutoff ${cutoff}: every session issued before it is denied, whatever it does.`];
  if (plan.args.cutoffMs === undefined) {
    out.push(
      `  Default: now + ${seconds(REVOKE_CUTOFF_DELAY_MS)}, when the kill switch has taken effect everywhere: KV reaches every location within ${seconds(KV_PROPAGATION_MAX_MS)},`,
      `  an isolate trusts its last lookup ${seconds(KILL_SWITCH_CACHE_MS)}, and a request already past it finishes within ${seconds(EXCHANGE_AFTER_KILL_SWITCH_MAX_MS)}.`,
    );
  } else if (plan.args.cutoffMs < plan.nowMs + REVOKE_CUTOFF_DELAY_MS) {
    out.push(
      `  Earlier than the kill switch can have taken effect if it was set just now (now + ${seconds(REVOKE_CUTOFF_DELAY_MS)}): a session issued between the cutoff and then stays valid.`,
    );
  }
  out.push(
    '  Set the kill switch first (docs/operations.md, "Kill switch"): it stops new sessions; this stops the ones already out.',
  );
  return out;
}

function policySection(plan: RevokePlan): string[] {
  const out: string[] = [];
  for (const issuer of plan.targets.issuers) {
    const policy = plan.policies.get(issuer.id);
    if (policy === undefined) continue;
    out.push(
      `Deny policy for issuer ${issuer.id}: inline policy ${policy.name} (${countedPolicyChars(policy.document)} of a role's ${IAM_ROLE_INLINE_POLICIES_MAX_CHARS} inline-policy characters)`,
      JSON.stringify(JSON.parse(policy.document), null, 2),
      "",
    );
  }
  return out;
}

function rolesSection(plan: RevokePlan): string[] {
  const roles = plan.targets.roles;
  const accounts = accountsOf(roles);
  const out = [`Roles (${roles.length}, in ${accounts.length === 1 ? "account" : "accounts"} ${accounts.join(", ")}):`];
  const width = Math.max(...roles.map((role) => role.arn.length));
  for (const role of roles) {
    const duration =
      role.maxDurationSeconds === undefined ? "max session: the role's" : `max session ${role.maxDurationSeconds} s`;
    out.push(
      `  ${role.arn.padEnd(width)}  ${duration}; ${role.grantedBy.join(", ")}; issuers ${role.issuerIds.join(", ")}`,
    );
  }
  const longest = Math.max(0, ...roles.map((role) => role.maxDurationSeconds ?? 0));
  out.push("");
  if (plan.args.mode !== "remove") {
    out.push(
      `How long: a session lasts up to its role's maximum, not only the 15-minute default: here up to ${longest} s (maxDurationSeconds), so keep the deny`,
      `  until ${formatCutoff(plan.cutoffMs + longest * 1000)}; after that every session it denies has expired and --remove lifts it safely.`,
    );
  }
  out.push(
    "What it cannot reach: a session already chained into another role (sts:AssumeRole from one of these sessions) is that role's",
    "  session, and the deny does not follow it. The broker's session tags are transitive, so the same policy works there: add the",
    `  role with --role ARN. To find such sessions, search CloudTrail for their source identity (${plan.sourceIdentities.join(", ")}): chaining keeps it.`,
    `Both STS modes: the tags are the same whether the broker called AssumeRole (STS_AUTH sigv4) or AWS read them from its token (web-identity); this deployment: ${plan.stsAuth}.`,
    "IAM applies a change within seconds, at times a few minutes (it is eventually consistent).",
  );
  return out;
}

function permissionsSection(roles: readonly RoleTarget[]): string[] {
  const out = [
    "Permissions --apply and --remove need, in each account (run once per account, with that account's credentials):",
  ];
  for (const account of accountsOf(roles)) {
    out.push(`  ${account}: ${IAM_PERMISSIONS.join(", ")} on`);
    for (const role of roles.filter((entry) => entry.account === account)) out.push(`    ${role.arn}`);
  }
  return out;
}

/** Everything a run shows before it changes anything. */
export function renderPlan(plan: RevokePlan): string[] {
  const { args } = plan;
  const out = [
    `Revoking the sessions the broker issued for ${subjectLabel(args)}`,
    `  policy ${args.policyFile}; issuers and STS_AUTH of ${plan.config}`,
    "",
  ];
  out.push(...rulesSection(plan), "");
  if (args.mode !== "remove") out.push(...cutoffSection(plan), "", ...policySection(plan));
  else
    out.push(`Inline policies to delete: ${[...plan.policies.values()].map((policy) => policy.name).join(", ")}`, "");
  out.push(...rolesSection(plan), "", ...permissionsSection(plan.targets.roles));
  return out;
}

/** The footer of a run that only printed. */
export function renderPrintOnly(plan: RevokePlan): string[] {
  const accounts = accountsOf(plan.targets.roles);
  return [
    "",
    "Printed only: nothing changed. To attach it (AWS credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;",
    'from a profile: eval "$(aws configure export-credentials --format env)"):',
    ...accounts.map((account) => `  ${commandFor(plan.args, "apply", accounts.length > 1 ? account : undefined)}`),
  ];
}

function changeText(outcome: RoleOutcome, nowMs: number): string {
  return outcome.changes
    .map((change) => {
      switch (change.change) {
        case "created":
          return `${change.name} attached`;
        case "replaced":
          return `${change.name} replaced (its cutoff was ${change.previousCutoff ?? "unreadable"})`;
        case "kept":
          return `${change.name} kept: it already has a later cutoff, ${change.laterCutoff}`;
        case "absent":
          return `${change.name} was not attached`;
        case "removed": {
          const until =
            change.cutoff === undefined || outcome.role.maxDurationSeconds === undefined
              ? undefined
              : Date.parse(change.cutoff) + outcome.role.maxDurationSeconds * 1000;
          const live =
            until !== undefined && until > nowMs
              ? `; sessions it denied work again until they expire, at the latest ${formatCutoff(until)}`
              : "";
          return `${change.name} removed${live}`;
        }
        default:
          return change satisfies never;
      }
    })
    .join("; ");
}

/** One line per role, then what to do about failures and roles of other accounts. */
export function renderOutcomes(
  args: RevokeArgs,
  outcomes: readonly RoleOutcome[],
  otherRoles: readonly RoleTarget[],
  where: string,
  nowMs: number,
): string[] {
  const verb = args.mode === "remove" ? "Removing" : "Attaching";
  const out = ["", `${verb} through ${where}:`];
  const width = Math.max(...outcomes.map((outcome) => outcome.role.arn.length));
  for (const outcome of outcomes) {
    if (outcome.ok) {
      const size =
        outcome.inlineChars === undefined
          ? ""
          : ` (inline policies now ${outcome.inlineChars} of ${IAM_ROLE_INLINE_POLICIES_MAX_CHARS} characters)`;
      out.push(`  ok      ${outcome.role.arn.padEnd(width)}  ${changeText(outcome, nowMs)}${size}`);
    } else {
      const partly = outcome.changes.length === 0 ? "" : ` (already done: ${changeText(outcome, nowMs)})`;
      out.push(`  FAILED  ${outcome.role.arn.padEnd(width)}  ${outcome.code}: ${outcome.message}${partly}`);
    }
  }
  for (const account of accountsOf(otherRoles)) {
    out.push(
      `  not in this run (account ${account}): ${otherRoles
        .filter((role) => role.account === account)
        .map((role) => role.arn)
        .join(", ")}`,
    );
    out.push(
      `    with that account's credentials: ${commandFor(args, args.mode === "remove" ? "remove" : "apply", account)}`,
    );
  }
  const failures = outcomes.filter((outcome) => !outcome.ok).length;
  out.push("");
  if (failures === 0) out.push(`${outcomes.length} of ${outcomes.length} roles done.`);
  else {
    out.push(
      `${outcomes.length - failures} of ${outcomes.length} roles done, ${failures} FAILED. Fix the cause and run the same command again: it replaces what it`,
      `attached (one policy per issuer and subject, never a second copy) and keeps a later cutoff. ${commandFor(args, args.mode === "remove" ? "remove" : "apply", args.account)}`,
    );
  }
  return out;
}
