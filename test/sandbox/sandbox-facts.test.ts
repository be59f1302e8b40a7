// The GitHub facts the sandbox seeds for the policy `npm start` runs (sandbox/sandbox-facts.ts): what a rule's
// requirements need, on the branch it deploys from, and no grant offered whose requirements cannot be seeded.
import { describe, expect, it } from "vitest";
import { definePolicy } from "../../src/policy/define.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";
import { examplesOf, globex } from "./policy-fixtures.ts";

describe("sandbox facts from another organisation's policy", () => {
  it("seeds facts a rule requires, on the trunk it deploys from: its own run's jobs, a pinned workflow's run, an App's check, writers, rulesets", () => {
    const reviewed = definePolicy({
      roles: globex.roles,
      rules: [
        {
          ...globex.rules[1],
          require: {
            checks: [
              { job: "test (ubuntu, 22)" },
              { workflow: ".github/workflows/scan.yml", job: "scan", events: ["schedule", "workflow_dispatch"] },
              {
                workflow: ".github/workflows/scan.yml",
                job: "licenses",
                events: ["workflow_dispatch"],
                conclusion: ["neutral", "skipped"],
              },
              { name: "build", app: 4242 },
            ],
            pullRequest: { approvals: 2 },
            rulesets: { approvals: 1, lastPushApproval: true },
          },
        },
      ],
    } as PolicyDefinition);
    const examples = examplesOf(reviewed);
    expect(examples.granted).toMatchObject({ ruleId: "globex-api-trunk" });
    expect(examples.facts).toEqual(
      expect.objectContaining({
        repository: "globex/api",
        branch: "trunk",
        run: {
          id: Number(githubClaims().run_id),
          workflow: ".github/workflows/ci.yml",
          event: "push",
          jobs: [{ name: "test (ubuntu, 22)", conclusion: "success" }],
        },
        // One run serves both requirements on scan.yml: an event both accept.
        runs: [
          {
            workflow: ".github/workflows/scan.yml",
            event: "workflow_dispatch",
            jobs: [
              { name: "scan", conclusion: "success" },
              { name: "licenses", conclusion: "neutral" },
            ],
          },
        ],
        checks: [{ name: "build", app: 4242, conclusion: "success" }],
        approvals: 2,
        rulesets: { approvals: 1, lastPushApproval: true, dismissStaleReviews: false },
        scan: { job: "test (ubuntu, 22)", workflow: undefined },
        hint: "github scan failure",
      }),
    );
  });

  it("offers no grant whose requirements the sandbox cannot seed: a job of a workflow the token does not run", () => {
    // The token's workflow_ref is pinned to another repository's workflow: its own run is none of globex/api's.
    const elsewhere = definePolicy({
      roles: globex.roles,
      rules: [
        {
          ...globex.rules[1],
          match: {
            ...globex.rules[1]?.match,
            workflow_ref: "globex/shared/.github/workflows/deploy.yml@refs/heads/main",
          },
          require: { checks: [{ job: "test" }] },
        },
      ],
    } as PolicyDefinition);
    expect(examplesOf(elsewhere).unavailable).toMatch(/grants credentials to a token the sandbox can derive/);
  });
});
