// A rule's compiled requirements as text, one line each, for policy:explain when no GitHub facts are given. Pure.
import type { CompiledRequirements } from "./requirements.ts";

/** One line per requirement, for policy:explain without facts. */
export function describeRequirements(requirements: CompiledRequirements): string[] {
  const lines = requirements.checks.map((check) => {
    const conclusions = check.conclusions.join(" | ");
    if (check.kind === "app") return `check "${check.name}" by app ${check.app} concluded ${conclusions}`;
    const where =
      check.workflow === undefined
        ? "the token's own workflow run"
        : `the newest ${check.events.join("/")} run of ${check.workflow} on the token's branch and commit`;
    return `job "${check.job}" of ${where} concluded ${conclusions}`;
  });
  const pr = requirements.pullRequest;
  if (pr !== undefined)
    lines.push(
      `pull request with ${pr.approvals} approval(s) from writers other than the author${pr.allowStaleApprovals ? " (stale approvals count)" : " on its final head"}, and no writer's standing change request`,
    );
  const rulesets = requirements.rulesets;
  if (rulesets !== undefined) {
    lines.push(
      `the branch's rulesets require ${rulesets.approvals} approval(s)${rulesets.lastPushApproval ? ", approval of the last push" : ""}${rulesets.dismissStaleReviews ? ", dismissal of stale approvals" : ""}`,
    );
  }
  return lines;
}
