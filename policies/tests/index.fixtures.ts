// Fixtures for policies/index.ts, run by `npm run policy:test` (and inside `npm test`): each case is a token's claims
// (the defaults below, varied) plus a requested role, and the decision and reason the policy must reach.
// Every built-in guard is exercised here, and so is every opt-out the policy uses.
import { defineFixtures } from "../../src/policy/fixtures.ts";
import policy from "../index.ts";

const SHA = "9f2c1e4d7b3a6058c1d2e3f4a5b6c7d8e9f0a1b2";
/** The example policy's pinned scan workflow, its passing push run on the default commit, and an approved pull request. */
const SCAN = ".github/workflows/dependency-review.yml";
const SCAN_PASSED = [{ workflow: SCAN, jobs: [{ name: "dependency-review" }] }];
const APPROVED = { number: 12, author: 1, reviews: [{ user: 2, state: "APPROVED" as const }] };

export default defineFixtures({
  policy,
  defaults: {
    // A push to acme/app main on a GitHub-hosted runner (github.com and GHES share this schema).
    github: {
      sub: "repo:acme/app:ref:refs/heads/main",
      repository: "acme/app",
      repository_id: "874563210",
      repository_owner: "acme",
      repository_owner_id: "51234567",
      repository_visibility: "private",
      ref: "refs/heads/main",
      ref_type: "branch",
      ref_protected: "true",
      sha: SHA,
      workflow: "CI",
      workflow_ref: "acme/app/.github/workflows/ci.yml@refs/heads/main",
      job_workflow_ref: "acme/app/.github/workflows/ci.yml@refs/heads/main",
      event_name: "push",
      actor: "octocat",
      actor_id: "583231",
      run_id: "11122233344",
      run_number: "42",
      run_attempt: "1",
      runner_environment: "github-hosted",
    },
    // A push to acme/app main on a GitLab-hosted runner.
    gitlab: {
      sub: "project_path:acme/app:ref_type:branch:ref:main",
      namespace_id: "72",
      namespace_path: "acme",
      project_id: "4242",
      project_path: "acme/app",
      user_id: "1",
      user_login: "sample-user",
      pipeline_id: "574",
      pipeline_source: "push",
      job_id: "302",
      ref: "main",
      ref_type: "branch",
      ref_protected: "true",
      runner_id: 1,
      runner_environment: "gitlab-hosted",
      sha: SHA,
    },
  },
  // What GitHub reports for the default commit (docs/github-facts.md): acme-app-main-deploy requires the
  // dependency-review job of .github/workflows/dependency-review.yml's push run on it to have passed, and a merged
  // pull request approved by a writer. Cases may replace it.
  github: {
    runs: [
      {
        workflow: ".github/workflows/dependency-review.yml",
        jobs: [{ name: "dependency-review", conclusion: "success" }],
      },
    ],
    pullRequest: { number: 12, author: 1, reviews: [{ user: 2, state: "APPROVED" }] },
  },
  cases: [
    // --- acme/app on github.com: the sandbox behaviour ---------------------------------------------------
    { name: "push to main gets deploy", expect: { allow: "deploy", rule: "acme-app-main-deploy" } },
    {
      name: "workflow_dispatch on main gets deploy",
      claims: { event_name: "workflow_dispatch" },
      expect: { allow: "deploy", rule: "acme-app-main-deploy" },
    },
    {
      name: "a pull request gets readonly (not privileged: refs/pull/* is fine)",
      claims: { event_name: "pull_request", ref: "refs/pull/7/merge", ref_protected: "false" },
      expect: { allow: "readonly", rule: "acme-app-pull-request-readonly" },
    },
    {
      name: "a pull request asking for deploy",
      claims: { event_name: "pull_request", ref: "refs/pull/7/merge" },
      role: "deploy",
      expect: { deny: "role_not_granted" },
    },
    { name: "another branch", claims: { ref: "refs/heads/dev" }, expect: { deny: "no_matching_rule" } },
    { name: "deploy up to the role's 3600 s", durationSeconds: 3600, expect: { allow: "deploy" } },
    {
      name: "deploy beyond the role's 3600 s",
      durationSeconds: 3601,
      expect: { deny: "duration_exceeds_role", rule: "acme-app-main-deploy" },
    },
    { name: "__proto__ as the role is just an unknown alias", role: "__proto__", expect: { deny: "role_not_granted" } },

    // --- GitHub facts (acme-app-main-deploy's requirements; docs/github-facts.md) ----------------------------
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

    // --- Names are exact values; ids pin them ---------------------------------------------------------------
    {
      name: "look-alike repository acme/app-evil",
      claims: { repository: "acme/app-evil" },
      expect: { deny: "no_matching_rule" },
    },
    { name: "case variant ACME/APP", claims: { repository: "ACME/APP" }, expect: { deny: "no_matching_rule" } },
    {
      name: "homoglyph: dotless i is not i (acme/\u0131nfra)",
      claims: { repository: "acme/\u0131nfra", repository_id: "874563300", environment: "production" },
      expect: { deny: "no_matching_rule" },
    },
    {
      name: "the right name with a recycled repository_id",
      claims: { repository_id: "999999999" },
      expect: { deny: "no_matching_rule" },
    },
    {
      name: "repository given as an array is refused by the claim schema",
      claims: { repository: ["acme/app"] },
      expect: { deny: "claims_invalid" },
    },

    // --- Explicit deny wins ----------------------------------------------------------------------------------
    {
      name: "an archived repository is denied first",
      claims: { repository: "acme/legacy-billing", repository_id: "11" },
      expect: { deny: "explicit_deny", rule: "deny-archived-repositories" },
    },

    // --- Guards ------------------------------------------------------------------------------------------------
    {
      name: "guard: self-hosted runner",
      claims: { runner_environment: "self-hosted" },
      expect: { deny: "guard_self_hosted_runner", rule: "acme-app-main-deploy" },
    },
    {
      name: "guard: no runner_environment claim at all",
      claims: { runner_environment: undefined },
      expect: { deny: "guard_self_hosted_runner" },
    },
    {
      name: "guard: privileged role from an unprotected main",
      claims: { ref_protected: "false" },
      expect: { deny: "guard_unprotected_ref", rule: "acme-app-main-deploy" },
    },
    {
      name: "guard: pull_request_target (acme/docs would otherwise match)",
      claims: {
        repository: "acme/docs",
        repository_id: "874563299",
        event_name: "pull_request_target",
        job_workflow_ref: "acme/docs/.github/workflows/pr.yml@refs/heads/main",
      },
      expect: { deny: "guard_pull_request_target", rule: "acme-docs-readonly" },
    },
    {
      name: "acme/docs pull_request from its own workflow gets readonly (the `when` holds)",
      claims: {
        repository: "acme/docs",
        repository_id: "874563299",
        event_name: "pull_request",
        ref: "refs/pull/3/merge",
        job_workflow_ref: "acme/docs/.github/workflows/pr.yml@refs/pull/3/merge",
      },
      expect: { allow: "readonly", rule: "acme-docs-readonly" },
    },
    {
      name: "acme/docs running another repository's workflow: `when` is false",
      claims: {
        repository: "acme/docs",
        repository_id: "874563299",
        job_workflow_ref: "evil/x/.github/workflows/steal.yml@refs/heads/main",
      },
      expect: { deny: "no_matching_rule" },
    },
    {
      name: "acme/infra deploys from an unprotected branch through its named production environment",
      claims: {
        repository: "acme/infra",
        repository_id: "874563300",
        ref: "refs/heads/hotfix",
        ref_protected: "false",
        environment: "production",
      },
      expect: { allow: "deploy", rule: "acme-infra-production" },
    },
    {
      name: "guard: privileged role from refs/pull/* even with the named environment",
      claims: {
        repository: "acme/infra",
        repository_id: "874563300",
        event_name: "pull_request",
        ref: "refs/pull/3/merge",
        ref_protected: "false",
        environment: "production",
      },
      expect: { deny: "guard_pull_request_ref", rule: "acme-infra-production" },
    },
    // Privileged roles only for events the repository's writers start (docs/security.md, "Events that reach privileged roles").
    {
      name: "guard: issue_comment (anyone can comment on a public repository) never reaches infra-deploy",
      claims: {
        repository: "acme/infra",
        repository_id: "874563300",
        environment: "production",
        event_name: "issue_comment",
      },
      expect: { deny: "guard_untrusted_event", rule: "acme-infra-production" },
    },
    {
      name: "guard: workflow_run (started by another workflow's completion, fork PRs included) never reaches infra-deploy",
      claims: {
        repository: "acme/infra",
        repository_id: "874563300",
        environment: "production",
        event_name: "workflow_run",
      },
      expect: { deny: "guard_untrusted_event", rule: "acme-infra-production" },
    },
    {
      name: "acme/infra: release, schedule and deployment are writers' events",
      claims: {
        repository: "acme/infra",
        repository_id: "874563300",
        environment: "production",
        event_name: "release",
        ref: "refs/tags/v1.2.0",
      },
      expect: { allow: "deploy", rule: "acme-infra-production" },
    },
    {
      name: "acme/infra: a deployment event",
      claims: {
        repository: "acme/infra",
        repository_id: "874563300",
        environment: "production",
        event_name: "deployment",
      },
      expect: { allow: "deploy", rule: "acme-infra-production" },
    },
    {
      name: "the guard holds privileged roles only: acme/docs reads on issue_comment",
      claims: {
        repository: "acme/docs",
        repository_id: "874563299",
        event_name: "issue_comment",
        job_workflow_ref: "acme/docs/.github/workflows/bot.yml@refs/heads/main",
      },
      expect: { allow: "readonly", rule: "acme-docs-readonly" },
    },
    {
      name: "acme/infra without the production environment",
      claims: { repository: "acme/infra", repository_id: "874563300", environment: "staging" },
      expect: { deny: "no_matching_rule" },
    },

    // --- Reusable workflow pinned with its caller's owner id --------------------------------------------
    {
      name: "an acme repository calling the release workflow gets publish",
      claims: {
        repository: "acme/tools",
        repository_id: "5",
        job_workflow_ref: "acme/shared-workflows/.github/workflows/release.yml@refs/heads/main",
      },
      expect: { allow: "publish", rule: "acme-release-publish" },
    },
    {
      name: "another owner (same name, other id) calling the release workflow",
      claims: {
        repository: "acme/tools",
        repository_id: "5",
        repository_owner_id: "666",
        job_workflow_ref: "acme/shared-workflows/.github/workflows/release.yml@refs/heads/main",
      },
      expect: { deny: "no_matching_rule" },
    },
    {
      name: "the release workflow from another branch",
      claims: {
        repository: "acme/tools",
        repository_id: "5",
        job_workflow_ref: "acme/shared-workflows/.github/workflows/release.yml@refs/heads/dev",
      },
      expect: { deny: "no_matching_rule" },
    },

    // --- GitHub token grants (docs/github-tokens.md) ---------------------------------------------------------
    {
      name: "a protected release tag v* gets the homebrew-tap token",
      claims: { ref: "refs/tags/v1.2.3", ref_type: "tag", sub: "repo:acme/app:ref:refs/tags/v1.2.3" },
      githubToken: "homebrew-tap",
      expect: { allow: "homebrew-tap", rule: "acme-app-release-homebrew-tap" },
    },
    {
      name: "guard: an unprotected tag v* never gets homebrew-tap (it writes: privileged)",
      claims: { ref: "refs/tags/v1.2.3", ref_type: "tag", ref_protected: "false" },
      githubToken: "homebrew-tap",
      expect: { deny: "guard_unprotected_ref", rule: "acme-app-release-homebrew-tap" },
    },
    {
      name: "guard: a release tag built on a self-hosted runner",
      claims: { ref: "refs/tags/v1.2.3", ref_type: "tag", runner_environment: "self-hosted" },
      githubToken: "homebrew-tap",
      expect: { deny: "guard_self_hosted_runner", rule: "acme-app-release-homebrew-tap" },
    },
    {
      name: "a push to main (no release tag) asking for homebrew-tap",
      githubToken: "homebrew-tap",
      expect: { deny: "grant_not_granted" },
    },
    {
      name: "a pull request asking for homebrew-tap",
      claims: { event_name: "pull_request", ref: "refs/pull/7/merge", ref_protected: "false" },
      githubToken: "homebrew-tap",
      expect: { deny: "grant_not_granted" },
    },
    {
      name: "another acme repository pushing a v* tag asking for homebrew-tap",
      claims: { repository: "acme/tools", repository_id: "5", ref: "refs/tags/v1.0.0", ref_type: "tag" },
      githubToken: "homebrew-tap",
      expect: { deny: "grant_not_granted" },
    },
    { name: "an unknown grant name", githubToken: "no-such-grant", expect: { deny: "grant_not_granted" } },
    { name: "a role alias is no GitHub token grant", githubToken: "deploy", expect: { deny: "grant_not_granted" } },
    {
      name: "a push to main gets private-deps",
      githubToken: "private-deps",
      expect: { allow: "private-deps", rule: "acme-private-deps" },
    },
    {
      name: "a pull request gets private-deps (read-only: refs/pull/* and an unprotected ref are fine)",
      claims: { event_name: "pull_request", ref: "refs/pull/7/merge", ref_protected: "false" },
      githubToken: "private-deps",
      expect: { allow: "private-deps", rule: "acme-private-deps" },
    },
    {
      name: "any acme repository's unprotected branch gets private-deps",
      claims: { repository: "acme/tools", repository_id: "5", ref: "refs/heads/feature", ref_protected: "false" },
      githubToken: "private-deps",
      expect: { allow: "private-deps", rule: "acme-private-deps" },
    },
    {
      name: "guard: private-deps on a self-hosted runner",
      claims: { runner_environment: "self-hosted" },
      githubToken: "private-deps",
      expect: { deny: "guard_self_hosted_runner", rule: "acme-private-deps" },
    },
    {
      name: "pull_request_target is not a listed event for private-deps",
      claims: { event_name: "pull_request_target", ref: "refs/heads/main" },
      githubToken: "private-deps",
      expect: { deny: "no_matching_rule" },
    },
    {
      name: "issue_comment is not a listed event for private-deps",
      claims: { event_name: "issue_comment" },
      githubToken: "private-deps",
      expect: { deny: "no_matching_rule" },
    },
    {
      name: "another owner's repository asking for private-deps",
      claims: { repository: "evil/app", repository_id: "9", repository_owner: "evil", repository_owner_id: "666" },
      githubToken: "private-deps",
      expect: { deny: "no_matching_rule" },
    },
    {
      name: "the acme owner name with another owner id",
      claims: { repository_owner_id: "666" },
      githubToken: "private-deps",
      expect: { deny: "no_matching_rule" },
    },
    {
      name: "an archived repository is denied a GitHub token first",
      claims: { repository: "acme/legacy-billing", repository_id: "11" },
      githubToken: "private-deps",
      expect: { deny: "explicit_deny", rule: "deny-archived-repositories" },
    },

    // --- GitHub Enterprise Server: its own rules only ---------------------------------------------------
    {
      name: "GHES platform/infra on a self-hosted runner (opted out) gets deploy as infra-deploy",
      issuer: "ghes",
      claims: {
        repository: "platform/infra",
        repository_id: "1042",
        repository_owner: "platform",
        repository_owner_id: "7",
        runner_environment: "self-hosted",
      },
      expect: { allow: "deploy", rule: "ghes-platform-infra-deploy" },
    },
    {
      name: "a GHES token for acme/app matches no github.com rule",
      issuer: "ghes",
      expect: { deny: "no_matching_rule" },
    },
    {
      name: "a github.com token for platform/infra matches no GHES rule",
      claims: {
        repository: "platform/infra",
        repository_id: "1042",
        repository_owner: "platform",
        repository_owner_id: "7",
      },
      expect: { deny: "no_matching_rule" },
    },

    // --- GitLab ------------------------------------------------------------------------------------------------
    {
      name: "GitLab push to protected main gets deploy",
      issuer: "gitlab",
      expect: { allow: "deploy", rule: "gitlab-acme-app-deploy" },
    },
    {
      name: "GitLab guard: main not protected",
      issuer: "gitlab",
      claims: { ref_protected: "false" },
      expect: { deny: "guard_unprotected_ref", rule: "gitlab-acme-app-deploy" },
    },
    {
      name: "GitLab: unprotected ref but a protected environment passes the privileged guard",
      issuer: "gitlab",
      claims: { ref_protected: "false", environment: "production", environment_protected: "true" },
      expect: { allow: "deploy", rule: "gitlab-acme-app-deploy" },
    },
    {
      name: "GitLab guard: self-hosted runner",
      issuer: "gitlab",
      claims: { runner_environment: "self-hosted" },
      expect: { deny: "guard_self_hosted_runner" },
    },
    {
      name: "GitLab merge request pipeline gets readonly",
      issuer: "gitlab",
      claims: { pipeline_source: "merge_request_event", ref: "feature", ref_protected: "false" },
      expect: { allow: "readonly", rule: "gitlab-acme-app-merge-request-readonly" },
    },
    {
      name: "GitLab guard: a merge request pipeline on main asking for deploy",
      issuer: "gitlab",
      claims: { pipeline_source: "merge_request_event" },
      role: "deploy",
      expect: { deny: "guard_pull_request_ref", rule: "gitlab-acme-app-deploy" },
    },
    {
      name: "GitLab: a pipeline started from the Run pipeline button (web) gets deploy",
      issuer: "gitlab",
      claims: { pipeline_source: "web" },
      expect: { allow: "deploy", rule: "gitlab-acme-app-deploy" },
    },
    {
      name: "GitLab: a scheduled pipeline gets deploy",
      issuer: "gitlab",
      claims: { pipeline_source: "schedule" },
      expect: { allow: "deploy", rule: "gitlab-acme-app-deploy" },
    },
    {
      name: "GitLab guard: a trigger-token pipeline never reaches deploy",
      issuer: "gitlab",
      claims: { pipeline_source: "trigger" },
      expect: { deny: "guard_untrusted_event", rule: "gitlab-acme-app-deploy" },
    },
    {
      name: "GitLab guard: a pipeline started by another project's pipeline",
      issuer: "gitlab",
      claims: { pipeline_source: "pipeline" },
      expect: { deny: "guard_untrusted_event", rule: "gitlab-acme-app-deploy" },
    },
    {
      name: "GitLab guard: a child pipeline (its parent may be a merge request pipeline)",
      issuer: "gitlab",
      claims: { pipeline_source: "parent_pipeline" },
      expect: { deny: "guard_untrusted_event", rule: "gitlab-acme-app-deploy" },
    },
    {
      name: "GitLab: another project id under the right path",
      issuer: "gitlab",
      claims: { project_id: "4243" },
      expect: { deny: "no_matching_rule" },
    },
    {
      name: "GitLab: runner_id as a string is refused by the schema",
      issuer: "gitlab",
      claims: { runner_id: "1" },
      expect: { deny: "claims_invalid" },
    },
    {
      name: "GitLab claims sent to the github issuer are refused by its schema",
      claims: { repository: undefined, project_path: "acme/app" },
      expect: { deny: "claims_invalid" },
    },
  ],
});
