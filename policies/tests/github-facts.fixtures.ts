// GitHub facts (docs/github-facts.md): what acme-app-main-deploy requires of the commit, the scan job of a pinned
// workflow's run and a merged pull request approved by a writer, and every way that evidence falls short.
import { defineFixtures } from "../../src/policy/fixtures.ts";
import { BASELINE } from "./baseline.ts";

/**
 * The example policy's pinned scan workflow, its passing push run on the default commit, and an approved pull request.
 */
const SCAN = ".github/workflows/dependency-review.yml";
const SCAN_PASSED = [{ workflow: SCAN, jobs: [{ name: "dependency-review" }] }];
const APPROVED = { number: 12, author: 1, reviews: [{ user: 2, state: "APPROVED" as const }] };

export default defineFixtures({
  ...BASELINE,
  cases: [
    {
      name: "a failed dependency scan denies",
      github: {
        runs: [{ workflow: SCAN, jobs: [{ name: "dependency-review", conclusion: "failure" }] }],
        pullRequest: APPROVED,
      },
      expect: { deny: "context_check_failed", rule: "acme-app-main-deploy" },
    },
    {
      name: "a scan still running denies",
      github: {
        runs: [
          {
            workflow: SCAN,
            status: "in_progress",
            jobs: [{ name: "dependency-review", status: "in_progress", conclusion: null }],
          },
        ],
        pullRequest: APPROVED,
      },
      expect: { deny: "context_check_pending", rule: "acme-app-main-deploy" },
    },
    {
      name: "no scan run at all denies",
      github: { runs: [], pullRequest: APPROVED },
      expect: { deny: "context_workflow_not_run", rule: "acme-app-main-deploy" },
    },
    {
      name: "a forged check run (a workflow with checks: write, as GitHub Actions) does not stand in for the failed job",
      github: {
        runs: [{ workflow: SCAN, jobs: [{ name: "dependency-review", conclusion: "failure" }] }],
        checks: [{ name: "dependency-review", app: "github-actions", appId: 15368 }],
        pullRequest: APPROVED,
      },
      expect: { deny: "context_check_failed", rule: "acme-app-main-deploy" },
    },
    {
      name: "a forged check run is no job of the scan's run",
      github: {
        runs: [{ workflow: SCAN, jobs: [{ name: "build" }] }],
        checks: [{ name: "dependency-review", app: "github-actions", appId: 15368 }],
        pullRequest: APPROVED,
      },
      expect: { deny: "context_check_not_a_job", rule: "acme-app-main-deploy" },
    },
    {
      name: "the scan's run from a fork's pull request (its branch also named main) does not count",
      github: {
        runs: [{ workflow: SCAN, event: "pull_request", fork: true, jobs: [{ name: "dependency-review" }] }],
        pullRequest: APPROVED,
      },
      expect: { deny: "context_workflow_not_run", rule: "acme-app-main-deploy" },
    },
    {
      name: "the newest run decides: a passing run, then a failing one",
      github: {
        runs: [
          { workflow: SCAN, jobs: [{ name: "dependency-review" }] },
          { workflow: SCAN, event: "workflow_dispatch", jobs: [{ name: "dependency-review", conclusion: "failure" }] },
          { workflow: SCAN, jobs: [{ name: "dependency-review", conclusion: "failure" }] },
        ],
        pullRequest: APPROVED,
      },
      expect: { deny: "context_check_failed", rule: "acme-app-main-deploy" },
    },
    {
      name: "a commit pushed without a merged pull request denies",
      github: { runs: SCAN_PASSED, pullRequest: { number: 12, merged: false } },
      expect: { deny: "context_pr_not_merged", rule: "acme-app-main-deploy" },
    },
    {
      name: "an approval only by the author denies",
      github: { runs: SCAN_PASSED, pullRequest: { number: 12, author: 1, reviews: [{ user: 1, state: "APPROVED" }] } },
      expect: { deny: "context_pr_not_approved", rule: "acme-app-main-deploy" },
    },
    {
      name: "an approval on an earlier head (stale) denies",
      github: {
        runs: SCAN_PASSED,
        pullRequest: { number: 12, reviews: [{ user: 2, state: "APPROVED", stale: true }] },
      },
      expect: { deny: "context_pr_not_approved", rule: "acme-app-main-deploy" },
    },
    {
      name: "an approval later withdrawn (changes requested) denies",
      github: {
        runs: SCAN_PASSED,
        pullRequest: {
          number: 12,
          reviews: [
            { user: 2, state: "APPROVED" },
            { user: 2, state: "CHANGES_REQUESTED" },
          ],
        },
      },
      expect: { deny: "context_changes_requested", rule: "acme-app-main-deploy" },
    },
    {
      name: "an approval by someone who can only read denies",
      github: {
        runs: SCAN_PASSED,
        pullRequest: { number: 12, reviews: [{ user: 5, state: "APPROVED", permission: "read" }] },
      },
      expect: { deny: "context_approval_not_writer", rule: "acme-app-main-deploy" },
    },
    {
      name: "an approval by a bot (github-actions[bot]) denies",
      github: {
        runs: SCAN_PASSED,
        pullRequest: { number: 12, reviews: [{ user: 41898282, state: "APPROVED", bot: true }] },
      },
      expect: { deny: "context_approval_not_writer", rule: "acme-app-main-deploy" },
    },
    {
      name: "one writer's standing change request blocks another's approval",
      github: {
        runs: SCAN_PASSED,
        pullRequest: {
          number: 12,
          reviews: [
            { user: 2, state: "APPROVED" },
            { user: 3, state: "CHANGES_REQUESTED" },
          ],
        },
      },
      expect: { deny: "context_changes_requested", rule: "acme-app-main-deploy" },
    },
    {
      name: "a change request by someone who can only read does not block",
      github: {
        runs: SCAN_PASSED,
        pullRequest: {
          number: 12,
          reviews: [
            { user: 2, state: "APPROVED" },
            { user: 5, state: "CHANGES_REQUESTED", permission: "read" },
          ],
        },
      },
      expect: { allow: "deploy", rule: "acme-app-main-deploy" },
    },
    {
      name: "a dismissed change request no longer blocks",
      github: {
        runs: SCAN_PASSED,
        pullRequest: {
          number: 12,
          reviews: [
            { user: 2, state: "APPROVED" },
            { user: 3, state: "DISMISSED" },
          ],
        },
      },
      expect: { allow: "deploy", rule: "acme-app-main-deploy" },
    },
    {
      name: "GitHub reports another repository id for the name",
      github: { repositoryId: "1" },
      expect: { deny: "context_repository_mismatch", rule: "acme-app-main-deploy" },
    },
  ],
});
