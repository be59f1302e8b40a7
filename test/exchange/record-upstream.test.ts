// The audit trail through the whole Worker (record.ts): the exact data point when STS or admission control decides the
// answer (failures, AccessDenied, a replayed token, a rate limit, a Durable Object down), and one point per request.
import { describe, expect, it } from "vitest";
import { createHarness, expectAudit } from "../support/broker-harness.ts";
import {
  FACTS,
  ISSUER_LATENCY_MS,
  RATE_REMAINING,
  STS_LATENCY_MS,
  sha256Prefix,
  withLatency,
} from "./record-helpers.ts";

describe("the exact data point written for each upstream or admission outcome", () => {
  it("error (STS keeps failing): attempts and STS time are recorded on failure too", async () => {
    const h = await createHarness();
    const latency = withLatency(h);
    h.sts.inject("internal_error", 100);
    const token = await h.mint();
    const response = await h.request(token);
    expect(response.status).toBe(503);
    const requestId = response.headers.get("x-request-id") as string;
    const attempts = h.sts.requestCount;
    expect(attempts).toBeGreaterThan(1);
    const verifyMs = ISSUER_LATENCY_MS * latency.issuerCalls();
    const slept = h.sleeps.reduce((sum, ms) => sum + ms, 0);
    const { point } = expectAudit(h, {
      outcome: "error",
      code: "upstream_unavailable",
      reason: "sts_unavailable",
      sts_attempts: attempts,
    });
    expect(point).toEqual({
      indexes: ["acme/app"],
      blobs: [
        "error",
        "upstream_unavailable",
        "sts_unavailable",
        "github",
        "acme/app",
        "refs/heads/main",
        "push",
        "acme-app-main-deploy",
        "deploy",
        requestId,
        await sha256Prefix(token),
        FACTS,
        "aws",
        "",
        "",
        "",
        "",
      ],
      doubles: [
        503,
        verifyMs + attempts * STS_LATENCY_MS + slept,
        verifyMs,
        0,
        attempts * STS_LATENCY_MS,
        attempts,
        1,
        0,
        RATE_REMAINING,
      ],
    });
  });

  it("denied by STS (AccessDenied): one attempt recorded", async () => {
    const h = await createHarness();
    h.sts.denyRole("arn:aws:iam::111122223333:role/acme-app-deploy");
    expect((await h.request(await h.mint())).status).toBe(403);
    expectAudit(h, { outcome: "denied", reason: "sts_access_denied", sts_attempts: 1, role_alias: "deploy" });
  });

  it("rejected by admission (replayed token): token_reused, with the allowing rule and role", async () => {
    const h = await createHarness();
    const token = await h.mint();
    expect((await h.request(token)).status).toBe(200);
    const replay = await h.request(token);
    expect(replay.status).toBe(401);
    const { point } = expectAudit(h, { outcome: "rejected", code: "token_reused", reason: "token_reused" });
    expect(point).toEqual({
      indexes: ["acme/app"],
      blobs: [
        "rejected",
        "token_reused",
        "token_reused",
        "github",
        "acme/app",
        "refs/heads/main",
        "push",
        "acme-app-main-deploy",
        "deploy",
        replay.headers.get("x-request-id"),
        await sha256Prefix(token),
        FACTS,
        "aws",
        "",
        "",
        "",
        "",
      ],
      // The replay found the facts in the cache: no GitHub call, so no rate limit reading (-1).
      doubles: [401, 0, 0, 0, -1, 0, 1, 0, -1],
    });
  });

  it("rejected by admission (repository over its rate): rate_limited", async () => {
    const h = await createHarness({ admission: { repositoryLimit: { perMinute: 2, burst: 1 } } });
    expect((await h.request(await h.mint())).status).toBe(200);
    const limited = await h.request(await h.mint());
    expect(limited.status).toBe(429);
    const { point } = expectAudit(h, {
      outcome: "rejected",
      code: "rate_limited",
      reason: "rate_limited_repository",
      rule_id: "acme-app-main-deploy",
    });
    expect(point.blobs?.slice(0, 3)).toEqual(["rejected", "rate_limited", "rate_limited_repository"]);
    expect(point.doubles).toEqual([429, 0, 0, 0, -1, 0, 1, 0, -1]);
  });

  it("error in admission (Durable Object down): upstream_unavailable, STS never called", async () => {
    const h = await createHarness();
    h.failAdmission({ mode: "throw", target: "repository" });
    expect((await h.request(await h.mint())).status).toBe(503);
    const { point } = expectAudit(h, {
      outcome: "error",
      code: "upstream_unavailable",
      reason: "admission_unavailable",
    });
    expect(point.doubles?.slice(4, 6)).toEqual([-1, 0]);
  });

  it("one data point per request, in order", async () => {
    const h = await createHarness();
    const statuses = [];
    for (const claims of [{}, { repository: "acme/other" }, {}])
      statuses.push((await h.request(await h.mint(claims))).status);
    expect(statuses).toEqual([200, 403, 200]);
    expect(h.dataPoints().map((point) => point.blobs?.[0])).toEqual(["issued", "denied", "issued"]);
    for (let i = 0; i < 3; i++) expectAudit(h, {}, { index: i });
  });
});
