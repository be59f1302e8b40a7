// The example token every fixture file in this folder varies: baseline claims per issuer kind (a push to acme/app main,
// on GitHub and on GitLab) and what GitHub reports for its commit, with the policy under test (../index.ts).
// Not a fixture file itself: `npm run policy:test` runs the *.fixtures.ts files beside it.
import type { FixtureSuite } from "../../src/policy/fixtures.ts";
import policy from "../index.ts";

const SHA = "9f2c1e4d7b3a6058c1d2e3f4a5b6c7d8e9f0a1b2";

export const BASELINE: Omit<FixtureSuite, "cases"> = {
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
};
