// Cost at fleet scale (docs/github-facts.md, "Cost and caching"): a matrix of 256 jobs of one run on one commit asks
// the broker for credentials at once; every lookup is single flight and every met fact is kept, so each endpoint is
// called about once, not 256 times. The counts are printed for docs/github-facts.md.
import { describe, expect, it } from "vitest";
import type { Requirements } from "../../src/policy/types.ts";
import { createHarness } from "../support/broker-harness.ts";
import { EXAMPLE_FACTS, type Endpoint } from "../../sandbox/fakes/fake-github-api.ts";
import { SAMPLE_SHA } from "../../sandbox/fakes/fake-issuer.ts";
import { policyRequiring, repository } from "./helpers.ts";

const MATRIX = 256;
const FLEET = { admission: { repositoryLimit: { perMinute: 6000, burst: 1000 }, addressLimit: 1000 } };

async function matrix(require?: Requirements): Promise<Partial<Record<Endpoint, number>>> {
  const h = await createHarness({
    ...FLEET,
    ...(require === undefined ? {} : { policy: policyRequiring(require, "push") }),
  });
  h.github.setBranchRules(repository, "main", [
    { type: "pull_request", ruleset_id: 1, parameters: { required_approving_review_count: 1 } },
  ]);
  h.github.addCheckRun({
    repository,
    sha: SAMPLE_SHA,
    name: "code-scan",
    app: { slug: "some-scanner", id: 57789 },
    status: "completed",
    conclusion: "success",
  });
  // Every leg of the matrix is a job of the same run: the same run_id, sha and ref, its own token.
  const tokens = await Promise.all(
    Array.from({ length: MATRIX }, () => h.mint({ run_id: String(EXAMPLE_FACTS.runId) })),
  );
  const responses = await Promise.all(tokens.map((token) => h.request(token)));
  expect(responses.map((response) => response.status)).toEqual(Array(MATRIX).fill(200));
  expect(h.github.tokensIssued).toBe(1);
  return Object.fromEntries(Object.entries(h.github.calls).filter(([, count]) => count > 0));
}

describe(`a ${MATRIX}-job matrix on one commit`, () => {
  it.each([
    [
      "the example policy: the pinned scan workflow's job and one writer's approval",
      undefined,
      {
        installation: 1,
        access_tokens: 1,
        repository: 1,
        workflow_runs: 1,
        jobs: 1,
        commit_pulls: 1,
        reviews: 1,
        collaborator_permission: 1,
      },
    ],
    [
      "the in-run form",
      { checks: [{ job: "dependency-review" }] },
      { installation: 1, access_tokens: 1, repository: 1, workflow_run: 1, jobs: 1 },
    ],
    [
      "a third-party App's check run",
      { checks: [{ name: "code-scan", app: "some-scanner" }] },
      { installation: 1, access_tokens: 1, repository: 1, check_runs: 1 },
    ],
    [
      "the branch's rulesets",
      { rulesets: { approvals: 1 } },
      { installation: 1, access_tokens: 1, repository: 1, branch_rules: 1 },
    ],
  ] as const)(
    "%s: one call per endpoint",
    async (label, require, expected) => {
      const calls = await matrix(require as Requirements | undefined);
      console.log(`${MATRIX} exchanges, ${label}: ${JSON.stringify(calls)}`);
      expect(calls).toEqual(expected);
    },
    120_000,
  );
});
