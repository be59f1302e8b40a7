// The built-in guards (self-hosted runner, unprotected ref, pull request refs and events, untrusted events) and the
// opt-outs ../index.ts uses: what a privileged role is refused, and what a named environment or `when` allows.
import { defineFixtures } from "../../src/policy/fixtures.ts";
import { BASELINE } from "./baseline.ts";

export default defineFixtures({
  ...BASELINE,
  cases: [
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
    // Privileged roles only for events the repository's writers start (docs/security.md, "Events that reach privileged
    // roles").
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
  ],
});
