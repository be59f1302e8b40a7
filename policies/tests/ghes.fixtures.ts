// GitHub Enterprise Server: its tokens reach its own rules only, and github.com's never reach them.
import { defineFixtures } from "../../src/policy/fixtures.ts";
import { BASELINE } from "./baseline.ts";

export default defineFixtures({
  ...BASELINE,
  cases: [
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
  ],
});
