// GitHub facts written by hand (policy:test fixtures, policy:explain --facts), and the requirements judged on them
// offline, with the same pure functions the broker uses on the API's answers. Pure; no I/O; no clock.
import {
  evaluateApprovals,
  evaluateCheck,
  mergedPullRequestFor,
  pullRequestTarget,
  type CompiledRequirements,
  type ContextReason,
  type PullRequestFact,
  type ReviewFact,
} from "./requirements.ts";
import type { CheckConclusion } from "./types.ts";

/** What GitHub would report for the token's commit, in a fixture's words. */
export interface OfflineFacts {
  /** Repository id as the API reports it; default: the token's `repository_id`. */
  repositoryId?: string;
  /** Check runs on the token's commit, oldest first. */
  checks?: ReadonlyArray<{ name: string; app: string; appId?: number; status?: "queued" | "in_progress" | "completed"; conclusion?: CheckConclusion | null }>;
  /**
   * The pull request: on a branch ref, the one merged into it as the token's commit (`merged: false` for a commit
   * pushed without one); on `refs/pull/N/merge`, pull request N, open.
   */
  pullRequest?: {
    number: number;
    merged?: boolean;
    /** Author's user id; default 1. */
    author?: number;
    /** Reviews in order: each reviewer's latest decisive one counts; `stale` ones were given on an earlier head. */
    reviews?: ReadonlyArray<{ user: number; state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED"; stale?: true }>;
  };
}

export type OfflineVerdict = { met: true; facts: string[] } | { met: false; reason: ContextReason; facts: string[] };

const HEAD = "head";

/** Judges `requirements` for these claims on offline facts, in the broker's order (repository, checks, pull request). */
export function evaluateOffline(requirements: CompiledRequirements, claims: Readonly<Record<string, unknown>>, facts: OfflineFacts): OfflineVerdict {
  const text = (name: string) => (typeof claims[name] === "string" ? (claims[name] as string) : "");
  const repositoryId = text("repository_id");
  const sha = text("sha");
  const ref = text("ref");
  const seen: string[] = [];
  if (facts.repositoryId !== undefined && facts.repositoryId !== repositoryId) {
    return { met: false, reason: "context_repository_mismatch", facts: [`repository id ${facts.repositoryId} != claim ${repositoryId}`] };
  }
  for (const check of requirements.checks) {
    const runs = (facts.checks ?? []).map((run, index) => ({
      id: index + 1,
      name: run.name,
      appSlug: run.app,
      appId: run.appId ?? 0,
      status: run.status ?? "completed",
      conclusion: run.conclusion === undefined ? "success" : run.conclusion,
    }));
    const outcome = evaluateCheck(check, runs);
    seen.push(outcome.fact);
    if (!outcome.met) return { met: false, reason: outcome.reason, facts: seen };
  }
  const requirement = requirements.pullRequest;
  if (requirement === undefined) return { met: true, facts: seen };
  const target = pullRequestTarget(text("event_name"), ref);
  const given = facts.pullRequest;
  const number = given?.number ?? 0;
  const pull: PullRequestFact = {
    number,
    state: target.kind === "merged" ? "closed" : "open",
    authorId: given?.author ?? 1,
    headSha: HEAD,
    baseRef: ref.replace(/^refs\/heads\//, ""),
    baseRepositoryId: Number(repositoryId),
    mergedAt: given?.merged === false ? null : "merged",
    mergeCommitSha: given?.merged === false ? null : sha,
  };
  if (target.kind === "none" || (target.kind === "open" && (given === undefined || target.number !== number))) {
    return { met: false, reason: "context_pr_not_found", facts: [...seen, `no pull request for ${text("event_name")} on ${ref}`] };
  }
  if (target.kind === "merged" && (given === undefined || mergedPullRequestFor([pull], sha, ref, Number(repositoryId)) === undefined)) {
    return { met: false, reason: "context_pr_not_merged", facts: [...seen, `commit: no merged pull request into ${ref}`] };
  }
  const reviews: ReviewFact[] = (given?.reviews ?? []).map((review) => ({ userId: review.user, state: review.state, commitId: review.stale === true ? "earlier" : HEAD }));
  const outcome = evaluateApprovals(requirement, pull, reviews);
  seen.push(outcome.fact);
  return outcome.met ? { met: true, facts: seen } : { met: false, reason: outcome.reason, facts: seen };
}

/** One line per requirement, for policy:explain without facts. */
export function describeRequirements(requirements: CompiledRequirements): string[] {
  const lines = requirements.checks.map((check) => `check "${check.name}" by app ${check.app} concluded ${check.conclusions.join(" | ")}`);
  const pr = requirements.pullRequest;
  if (pr !== undefined) lines.push(`pull request with ${pr.approvals} approval(s) from others than the author${pr.allowStaleApprovals ? " (stale approvals count)" : " on its final head"}`);
  return lines;
}
