// Rules with GitHub requirements when GitHub fails (docs/github-facts.md), through the whole Worker inside workerd:
// every
// failure of the fake GitHub API fails closed (503 upstream_unavailable with Retry-After) and STS is never called.
import { describe, expect, it } from "vitest";
import { createHarness, expectAudit, expectNoLeak } from "../support/broker-harness.ts";
import type { Endpoint, GitHubFault } from "../../sandbox/fakes/fake-github-api.ts";

describe("GitHub failures fail closed: 503 upstream_unavailable with Retry-After, STS never called", () => {
  const cases: Array<[string, GitHubFault, string, Endpoint | undefined]> = [
    ["HTTP 500", { kind: "status", status: 500 }, "github_api_unavailable", "jobs"],
    ["a timeout", { kind: "hang" }, "github_api_unavailable", "commit_pulls"],
    ["malformed JSON", { kind: "malformed" }, "github_api_unavailable", "reviews"],
    ["a primary rate limit", { kind: "rate_limited" }, "github_api_rate_limited", "workflow_runs"],
    [
      "HTTP 502 from the permission lookup",
      { kind: "status", status: 502 },
      "github_api_unavailable",
      "collaborator_permission",
    ],
    [
      "a secondary rate limit",
      { kind: "rate_limited", secondary: true, retryAfterSeconds: 42 },
      "github_api_rate_limited",
      undefined,
    ],
  ];
  it.each(cases)("%s", async (_label, fault, reason, endpoint) => {
    const h = await createHarness({ github: { callTimeoutMs: 50 } });
    h.github.fail(fault, endpoint === undefined ? {} : { endpoint });
    const token = await h.mint();
    const response = await h.request(token);
    expect(response.status).toBe(503);
    expect((await expectNoLeak(response)).error).toBe("upstream_unavailable");
    const retryAfter = Number(response.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    if (fault.kind === "rate_limited" && fault.retryAfterSeconds !== undefined)
      expect(retryAfter).toBe(fault.retryAfterSeconds);
    expect(h.sts.assumeRoleCalls).toHaveLength(0);
    expectAudit(h, { outcome: "error", code: "upstream_unavailable", reason });
    if (fault.kind !== "rate_limited") {
      // The single use was not spent: the same token succeeds once GitHub recovers.
      h.github.fail(null);
      expect((await h.request(token)).status).toBe(200);
    }
  });

  it("after a rate limit, no call is made until the wait is over", async () => {
    const h = await createHarness();
    h.github.fail({ kind: "rate_limited", secondary: true, retryAfterSeconds: 30 }, { endpoint: "jobs", times: 1 });
    expect((await h.request(await h.mint())).status).toBe(503);
    const before = { ...h.github.calls };
    expect((await h.request(await h.mint())).status).toBe(503);
    expect(h.github.calls).toEqual(before);
    h.advance(31_000);
    expect((await h.request(await h.mint())).status).toBe(200);
  });
});
