// The GitHub facts the sandbox's fake GitHub API reports for the default token's commit, derived from the requirements
// of the policy it runs (docs/github-facts.md): the jobs of the token's own run, pinned workflows' runs with their
// jobs, third-party Apps' check runs, a merged pull request approved by enough writers, the branch's rulesets. The
// same facts in policy:test's words (offlineFacts) judge each example exactly as the broker will judge the seeded fake.
// Pure; no I/O; no clock. docs/sandbox.md.
import { evaluateOffline, type OfflineFacts } from "../src/policy/offline-facts.ts";
import { branchOfRef, type CompiledJobCheck, type CompiledRequirements } from "../src/policy/requirements.ts";
import { workflowFileOfRef } from "../src/policy/requirements-jobs.ts";
import type { CompiledRule } from "../src/policy/rule-index.ts";
import type { CheckConclusion, PinnedRunEvent } from "../src/policy/types.ts";
import { EXAMPLE_FACTS, EXAMPLE_USERS, GITHUB_ACTIONS_APP } from "./fakes/fake-github-api.ts";

type Claims = Record<string, string>;

/**
 * A job to seed: its display name (the requirement's `job`, which a matrix leg or a reusable workflow's job also
 * answers to) and a conclusion the rule accepts.
 */
export interface SandboxJob {
  name: string;
  conclusion: CheckConclusion;
}

/** The GitHub facts the sandbox's fake GitHub API reports for the default token's commit (docs/github-facts.md). */
export interface SandboxFacts {
  repository: string;
  repositoryId: number;
  sha: string;
  /**
   * The branch the token's ref names (`main` for refs/heads/main): pinned runs are on it, the pull request merged into
   * it.
   */
  branch: string;
  /**
   * The token's own run (`run_id`, of its `workflow_ref`'s file) with the jobs rules require of it; undefined when none
   * does.
   */
  run: { id: number; workflow: string; event: string; jobs: SandboxJob[] } | undefined;
  /**
   * Per pinned workflow: one run on the commit and branch, of an event its requirements accept, with every job they
   * name.
   */
  runs: Array<{ workflow: string; event: PinnedRunEvent; jobs: SandboxJob[] }>;
  /** One completed check run per third-party App check any rule requires, with a conclusion that rule accepts. */
  checks: Array<{ name: string; app: string | number; conclusion: CheckConclusion }>;
  /** Writers approving the merged pull request: the most any rule requires (0 when none does). */
  approvals: number;
  /** The branch's ruleset pull_request rule, as strict as the strictest rule requires; undefined when none does. */
  rulesets: { approvals: number; lastPushApproval: boolean; dismissStaleReviews: boolean } | undefined;
  /**
   * The job `github scan` sets: the first job requirement (a pinned workflow's, or the token's own run's); undefined
   * when no rule has one.
   */
  scan: { job: string; workflow: string | undefined } | undefined;
  /**
   * The first rule that requires facts (the default token's, when it does), for the banner's hint; undefined when none
   * does.
   */
  requiredBy: string | undefined;
  /** A `github` command after which that rule's next exchange is denied (the banner's hint). */
  hint: string;
}

/** A user the sandbox's fake knows, with their role on the sandbox repository. */
export interface SandboxUser {
  id: number;
  login: string;
  role: "admin" | "maintain" | "write" | "read" | "none";
}

/** Ids of the writers approving beside the example's reviewer when a rule requires several approvals. */
const EXTRA_WRITER_FIRST_ID = 100;

/** The writers approving the seeded pull request: as many as the facts need (the example's reviewer, bob, first). */
export function sandboxReviewers(approvals: number): SandboxUser[] {
  return Array.from({ length: approvals }, (_, index) =>
    index === 0
      ? EXAMPLE_USERS.reviewer
      : { id: EXTRA_WRITER_FIRST_ID + index, login: `writer${index + 1}`, role: "write" as const },
  );
}

/** The id the fake GitHub API gives a check-run app a rule names by slug only. */
const OTHER_APP_ID = 777;

/** A check requirement's app as the fake GitHub API names it: a slug and an id. */
export function factApp(app: string | number): { slug: string; id: number } {
  if (typeof app === "number")
    return app === GITHUB_ACTIONS_APP.id ? GITHUB_ACTIONS_APP : { slug: `app-${app}`, id: app };
  // GitHub Actions' real id (forged check runs carry it); any other app slug gets a stand-in id.
  return app === GITHUB_ACTIONS_APP.slug ? GITHUB_ACTIONS_APP : { slug: app, id: OTHER_APP_ID };
}

/** A conclusion the requirement accepts: success when it does. */
const accepted = (conclusions: readonly CheckConclusion[]): CheckConclusion =>
  conclusions.includes("success") ? "success" : (conclusions[0] ?? "success");

function addJob(jobs: SandboxJob[], check: CompiledJobCheck): void {
  if (!jobs.some((job) => job.name === check.job))
    jobs.push({ name: check.job, conclusion: accepted(check.conclusions) });
}

/** A shell word, quoted only when it must be. */
const word = (text: string) => (/^[\w.-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`);

/** A `github` command after which a token of a rule with these requirements is denied. */
function failingCommand(requirements: CompiledRequirements | undefined): string {
  const checks = requirements?.checks ?? [];
  if (checks.some((check) => check.kind === "job")) return "github scan failure";
  const app = checks.find((check) => check.kind === "app");
  if (app !== undefined) return `github check ${word(app.name)} failure`;
  // Rulesets alone: the sandbox's commands change no ruleset, but without the App no fact can be read.
  return requirements?.pullRequest !== undefined ? "github unapprove" : "github uninstall";
}

/**
 * Facts satisfying every requirement of the issuer's rules, for a push of `claims.sha` to `claims.ref`. `rule` (the
 * token's) comes first: `github scan` and the hint act on its requirements when it has any.
 */
export function factsFor(rules: readonly CompiledRule[], claims: Claims, rule: CompiledRule): SandboxFacts {
  const requiring = [rule, ...rules.filter((other) => other !== rule)].filter(
    (candidate): candidate is CompiledRule & { requirements: CompiledRequirements } =>
      candidate.requirements !== undefined,
  );
  const repository = claims.repository ?? "";
  const ref = claims.ref ?? "";
  const ownWorkflow = workflowFileOfRef(claims.workflow_ref ?? "", repository, ref);
  const ownJobs: SandboxJob[] = [];
  const pinned = new Map<string, { events: PinnedRunEvent[][]; jobs: SandboxJob[] }>();
  const checks = new Map<string, SandboxFacts["checks"][number]>();
  let approvals = 0;
  let rulesets: SandboxFacts["rulesets"];
  let scan: SandboxFacts["scan"];
  for (const { requirements } of requiring) {
    for (const check of requirements.checks) {
      if (check.kind === "app") {
        const key = JSON.stringify([check.name, check.app]);
        if (!checks.has(key))
          checks.set(key, { name: check.name, app: check.app, conclusion: accepted(check.conclusions) });
        continue;
      }
      scan ??= { job: check.job, workflow: check.workflow };
      if (check.workflow === undefined) {
        addJob(ownJobs, check);
        continue;
      }
      const run = pinned.get(check.workflow) ?? { events: [], jobs: [] };
      run.events.push([...check.events]);
      addJob(run.jobs, check);
      pinned.set(check.workflow, run);
    }
    approvals = Math.max(approvals, requirements.pullRequest?.approvals ?? 0);
    const wanted = requirements.rulesets;
    if (wanted !== undefined) {
      rulesets = {
        approvals: Math.max(rulesets?.approvals ?? 0, wanted.approvals),
        lastPushApproval: rulesets?.lastPushApproval === true || wanted.lastPushApproval,
        dismissStaleReviews: rulesets?.dismissStaleReviews === true || wanted.dismissStaleReviews,
      };
    }
  }
  return {
    repository,
    repositoryId: Number(claims.repository_id),
    sha: claims.sha ?? "",
    branch: branchOfRef(ref) ?? "",
    run:
      ownJobs.length === 0 || ownWorkflow === undefined
        ? undefined
        : { id: Number(claims.run_id), workflow: ownWorkflow, event: claims.event_name ?? "push", jobs: ownJobs },
    runs: [...pinned].map(([workflow, run]) => ({ workflow, event: runEvent(run.events), jobs: run.jobs })),
    checks: [...checks.values()],
    approvals,
    rulesets,
    scan,
    requiredBy: requiring[0]?.id,
    hint: failingCommand(requiring[0]?.requirements),
  };
}

/** An event every requirement on the workflow accepts (push when it can), so its one run serves them all. */
function runEvent(accepting: readonly (readonly PinnedRunEvent[])[]): PinnedRunEvent {
  const all = (accepting[0] ?? ["push"]).filter((event) => accepting.every((events) => events.includes(event)));
  const candidates = all.length > 0 ? all : (accepting[0] ?? ["push"]);
  return candidates.includes("push") ? "push" : (candidates[0] ?? "push");
}

/** The seeded facts in policy:test's words, to judge requirements offline exactly as the broker will. */
export function offlineFacts(facts: SandboxFacts): OfflineFacts {
  return {
    repositoryId: String(facts.repositoryId),
    checks: facts.checks.map((check) => ({
      name: check.name,
      app: factApp(check.app).slug,
      appId: factApp(check.app).id,
      conclusion: check.conclusion,
    })),
    ...(facts.run === undefined ? {} : { run: { workflow: facts.run.workflow, jobs: facts.run.jobs } }),
    runs: facts.runs.map((run) => ({ workflow: run.workflow, event: run.event, branch: facts.branch, jobs: run.jobs })),
    pullRequest: {
      number: EXAMPLE_FACTS.pullNumber,
      author: EXAMPLE_FACTS.authorId,
      reviews: sandboxReviewers(facts.approvals).map((user) => ({
        user: user.id,
        state: "APPROVED" as const,
        permission: "write" as const,
      })),
    },
    ...(facts.rulesets === undefined
      ? {}
      : {
          rulesets: [
            {
              approvals: facts.rulesets.approvals,
              ...(facts.rulesets.lastPushApproval ? { lastPushApproval: true as const } : {}),
              ...(facts.rulesets.dismissStaleReviews ? { dismissStaleReviews: true as const } : {}),
            },
          ],
        }),
  };
}

/** Whether the seeded facts meet `requirements` for these claims (judged as the broker will). */
export function factsMeet(requirements: CompiledRequirements, claims: Claims, facts: SandboxFacts): boolean {
  return evaluateOffline(requirements, claims, offlineFacts(facts)).met;
}
