// GitHub token grants (docs/github-tokens.md): which tag, branch and event gets which installation token, the
// privileged guard on a grant that writes, and names that are not grants.
import { defineFixtures } from "../../src/policy/fixtures.ts";
import { BASELINE } from "./baseline.ts";

export default defineFixtures({
  ...BASELINE,
  cases: [
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
  ],
});
