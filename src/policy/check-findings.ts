// What `policy:check` reports (its findings) and what its checks share: which privileged things a rule grants.
// Pure; no I/O.
import type { CompiledPolicy, PolicyErrorCode } from "./compile.ts";
import type { CompiledRule } from "./rule-index.ts";

export type FindingCode =
  | PolicyErrorCode
  | "rule_shadowed"
  | "alias_conflict"
  | "name_without_id"
  | "role_unused"
  | "guard_opted_out"
  | "event_allowlist_widened"
  | "grant_unused"
  | "grant_push_starts_privileged";

export interface Finding {
  severity: "error" | "warning";
  code: FindingCode;
  /** `rules[3] (rule-id)` or `roles.deploy`: where to look. */
  location: string;
  message: string;
}

export interface CheckResult {
  compiled: CompiledPolicy | undefined;
  findings: Finding[];
}

/** "a privileged role", "a privileged GitHub token", both, or undefined when the rule grants nothing privileged. */
export function privilegedGrants(policy: CompiledPolicy, rule: CompiledRule): string | undefined {
  const role = [...rule.grants.values()].some((name) => policy.roles.get(name)?.privileged === true);
  const token = rule.githubTokens.some((name) => policy.githubTokens.get(name)?.privileged === true);
  if (role && token) return "a privileged role and GitHub token";
  if (role) return "a privileged role";
  return token ? "a privileged GitHub token" : undefined;
}
