// Fixtures for the shadow candidate (../candidate.ts): the live fixtures must still hold, plus the change.
import { defineFixtures } from "../../src/policy/fixtures.ts";
import policy from "../candidate.ts";
import { BASELINE } from "./baseline.ts";
import ghes from "./ghes.fixtures.ts";
import githubFacts from "./github-facts.fixtures.ts";
import githubTokens from "./github-tokens.fixtures.ts";
import gitlab from "./gitlab.fixtures.ts";
import guards from "./guards.fixtures.ts";
import roles from "./roles.fixtures.ts";

/** Every live fixture file: a candidate must reach the same decisions for them. */
const LIVE = [roles, githubFacts, guards, githubTokens, ghes, gitlab];

export default defineFixtures({
  ...BASELINE,
  policy,
  cases: [
    ...LIVE.flatMap((suite) => suite.cases),
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
