// Fixtures for docs/examples/tag-release-policy.ts: `npm run -s policy:test -- docs/examples/tag-release.fixtures.ts`.
import { defineFixtures } from "../../src/policy/fixtures.ts";
import policy from "./tag-release-policy.ts";

export default defineFixtures({
  policy,
  defaults: {
    // release.yml running for the push of tag v1.2.0, which a tag ruleset protects.
    github: {
      sub: "repo:acme/app:ref:refs/tags/v1.2.0",
      repository: "acme/app",
      repository_id: "874563210",
      repository_owner: "acme",
      repository_owner_id: "51234567",
      ref: "refs/tags/v1.2.0",
      ref_type: "tag",
      ref_protected: "true",
      sha: "9f2c1e4d7b3a6058c1d2e3f4a5b6c7d8e9f0a1b2",
      workflow: "Release",
      workflow_ref: "acme/app/.github/workflows/release.yml@refs/tags/v1.2.0",
      job_workflow_ref: "acme/app/.github/workflows/release.yml@refs/tags/v1.2.0",
      event_name: "push",
      actor: "octocat",
      actor_id: "583231",
      run_id: "11122233344",
      run_number: "7",
      run_attempt: "1",
      runner_environment: "github-hosted",
    },
  },
  cases: [
    {
      name: "release.yml on a protected v* tag publishes",
      expect: { allow: "publish", rule: "acme-app-release-publish" },
    },
    {
      name: "another workflow file on the same tag",
      claims: {
        workflow_ref: "acme/app/.github/workflows/ci.yml@refs/tags/v1.2.0",
        job_workflow_ref: "acme/app/.github/workflows/ci.yml@refs/tags/v1.2.0",
      },
      expect: { deny: "no_matching_rule" },
    },
    {
      name: "a tag no ruleset protects",
      claims: { ref_protected: "false" },
      expect: { deny: "guard_unprotected_ref", rule: "acme-app-release-publish" },
    },
    {
      name: "a tag outside v* (the glob's * stays within one path segment)",
      claims: {
        ref: "refs/tags/v1.2.0/hotfix",
        workflow_ref: "acme/app/.github/workflows/release.yml@refs/tags/v1.2.0/hotfix",
      },
      expect: { deny: "no_matching_rule" },
    },
    {
      name: "release.yml on a branch",
      claims: {
        ref: "refs/heads/main",
        ref_type: "branch",
        workflow_ref: "acme/app/.github/workflows/release.yml@refs/heads/main",
      },
      expect: { deny: "no_matching_rule" },
    },
    {
      name: "release.yml run by hand on the tag (workflow_dispatch)",
      claims: { event_name: "workflow_dispatch" },
      expect: { deny: "no_matching_rule" },
    },
    {
      name: "a self-hosted runner",
      claims: { runner_environment: "self-hosted" },
      expect: { deny: "guard_self_hosted_runner", rule: "acme-app-release-publish" },
    },
  ],
});
