// Which github.com repository, ref and workflow gets which AWS role under ../index.ts: the sandbox's behaviour, names
// as exact values pinned by ids, explicit deny first, and a reusable workflow pinned with its caller's owner id.
import { defineFixtures } from "../../src/policy/fixtures.ts";
import { BASELINE } from "./baseline.ts";

export default defineFixtures({
  ...BASELINE,
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
  ],
});
