// Fixtures for the shadow candidate (policies/candidate.ts): the live fixtures must still hold, plus the change.
import { defineFixtures } from "../../src/policy/fixtures.ts";
import policy from "../candidate.ts";
import live from "./index.fixtures.ts";

export default defineFixtures({
  policy,
  defaults: live.defaults,
  // What GitHub reports for the default commit: the live fixtures' (docs/github-facts.md).
  github: live.github,
  cases: [
    ...live.cases,
    {
      name: "candidate: a protected release branch gets deploy",
      claims: { ref: "refs/heads/release/1.2" },
      expect: { allow: "deploy", rule: "acme-app-main-deploy" },
    },
    {
      name: "candidate: release-x is not release/*",
      claims: { ref: "refs/heads/release-x" },
      expect: { deny: "no_matching_rule" },
    },
    {
      name: "candidate: an unprotected release branch is still guarded",
      claims: { ref: "refs/heads/release/1.2", ref_protected: "false" },
      expect: { deny: "guard_unprotected_ref" },
    },
  ],
});
