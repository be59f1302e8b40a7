// GitLab: protected refs and environments, merge request pipelines, the pipeline sources that never reach a
// privileged role, project ids, and GitLab's claim schema.
import { defineFixtures } from "../../src/policy/fixtures.ts";
import { BASELINE } from "./baseline.ts";

export default defineFixtures({
  ...BASELINE,
  cases: [
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
