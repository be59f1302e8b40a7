// What `policy:check` reports about GitHub token grants beyond compilation: grants no rule grants, and grants whose
// `contents: write` pushes to a repository where the same policy grants something privileged on push. Pure; no I/O.
//
// Why the second: a push made with an installation token starts the target repository's `push` workflows (a push
// made with a workflow's GITHUB_TOKEN starts none), and those workflows run with whatever the policy grants that
// repository on push. The grant is then a path to the target's privileged roles and grants (docs/security.md). Only
// rules of platforms whose repositories live on GitHub (platform.ts, `githubApi`) can be started that way.
import { platformOf } from "../platforms/index.ts";
import { privilegedGrants, type Finding } from "./check-findings.ts";
import type { CompiledPolicy } from "./compile.ts";
import { compilePattern, isGlob } from "./glob.ts";
import type { GithubTokenGrant } from "./github-tokens.ts";
import type { CompiledRule } from "./rule-index.ts";

/** A pattern condition on a name claim, compared without case (GitHub's names are case-insensitive). */
function holdsIgnoringCase(patterns: readonly string[], value: string): boolean {
  const lower = value.toLowerCase();
  return patterns.some((pattern) =>
    isGlob(pattern) ? compilePattern(pattern.toLowerCase()).test(lower) : pattern.toLowerCase() === lower,
  );
}

/**
 * Whether `rule` (a GitHub allow rule) may match a token of a push to `owner/name`: its conditions on the repository,
 * the owner and the event are judged; every other one (ids, refs, `when`) may hold.
 */
function mayMatchPush(rule: CompiledRule, owner: string, name: string): boolean {
  const values: Readonly<Record<string, string>> = {
    repository: `${owner}/${name}`,
    repository_owner: owner,
    event_name: "push",
  };
  return rule.conditions.every((condition) => {
    const value = values[condition.claim];
    return value === undefined || holdsIgnoringCase(condition.patterns, value);
  });
}

function lintPushes(policy: CompiledPolicy, grant: GithubTokenGrant, findings: Finding[]): void {
  if (grant.permissions.contents !== "write") return;
  for (const repository of grant.repositories) {
    for (const rule of policy.allowRules) {
      const what = platformOf(rule.kind).githubApi !== undefined ? privilegedGrants(policy, rule) : undefined;
      if (what === undefined || !mayMatchPush(rule, grant.owner, repository)) continue;
      findings.push({
        severity: "warning",
        code: "grant_push_starts_privileged",
        location: `githubTokens.${grant.name}`,
        message:
          `gives contents: write on ${grant.owner}/${repository}, where rules[${rule.index}] (${rule.id}) may grant ${what} on push: ` +
          "a push made with an installation token starts that repository's push workflows (a GITHUB_TOKEN push starts none), " +
          "so this grant is a path to what they obtain (docs/security.md); narrow that rule (ref, environment, reviews) or this grant",
      });
    }
  }
}

export function lintGithubTokens(policy: CompiledPolicy, findings: Finding[]): void {
  const used = new Set(policy.allowRules.flatMap((rule) => rule.githubTokens));
  for (const grant of policy.githubTokens.values()) {
    if (!used.has(grant.name))
      findings.push({
        severity: "warning",
        code: "grant_unused",
        location: `githubTokens.${grant.name}`,
        message: "no rule grants this GitHub token",
      });
    lintPushes(policy, grant, findings);
  }
}
