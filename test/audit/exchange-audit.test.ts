// The audit trail through the whole Worker: the exact Analytics Engine data point written for each outcome, with
// timings made deterministic by a network that advances the injected clock, and sinks that fail without effect.
import { describe, expect, it } from "vitest";
import { createHarness, expectAudit, STS_ORIGIN, type Harness } from "../support/broker-harness.ts";

/** blob12 of acme-app-main-deploy: the GitHub facts its requirements were judged on (the fake's seeded state). */
/** GitHub's rate limit after the first exchange: 5000 less its 6 calls with the installation token (repository, runs, jobs, pulls, reviews, permission). */
const RATE_REMAINING = 4994;
const FACTS =
  "repository id 874563210; job dependency-review=success in run 11122233300 attempt 1 (.github/workflows/dependency-review.yml push main); pr #12 approvals 1/1";

const ISSUER_LATENCY_MS = 30;
const STS_LATENCY_MS = 120;

/** Every issuer (JWKS/discovery) call costs 30 ms and every STS call 120 ms of harness time. */
function withLatency(h: Harness): { issuerCalls: () => number } {
  let issuerCalls = 0;
  h.network.route(h.issuer.issuer, async (request) => {
    issuerCalls += 1;
    h.advance(ISSUER_LATENCY_MS);
    return h.issuer.handler(request);
  });
  h.network.route(STS_ORIGIN, async (request) => {
    h.advance(STS_LATENCY_MS);
    return h.sts.handler(request);
  });
  return { issuerCalls: () => issuerCalls };
}

async function sha256Prefix(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, 16);
}

describe("the exact data point written for each outcome", () => {
  it("issued", async () => {
    const h = await createHarness();
    const latency = withLatency(h);
    const token = await h.mint();
    const response = await h.request(token);
    expect(response.status).toBe(200);
    const requestId = response.headers.get("x-request-id") as string;
    const verifyMs = ISSUER_LATENCY_MS * latency.issuerCalls();
    expect(verifyMs).toBeGreaterThan(0);
    const { point } = expectAudit(h, { outcome: "issued", request_id: requestId });
    expect(point).toEqual({
      indexes: ["acme/app"],
      blobs: [
        "issued",
        "",
        "",
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
      doubles: [200, verifyMs + STS_LATENCY_MS, verifyMs, 0, STS_LATENCY_MS, 1, 1, 0, RATE_REMAINING],
    });
  });

  it("denied (policy): reason and no role; STS not measured", async () => {
    const h = await createHarness();
    const latency = withLatency(h);
    const token = await h.mint({ repository: "acme/other" });
    const response = await h.request(token);
    expect(response.status).toBe(403);
    const requestId = response.headers.get("x-request-id") as string;
    const verifyMs = ISSUER_LATENCY_MS * latency.issuerCalls();
    const { point } = expectAudit(h, { outcome: "denied", code: "forbidden", reason: "no_matching_rule" });
    expect(point).toEqual({
      indexes: ["acme/other"],
      blobs: [
        "denied",
        "forbidden",
        "no_matching_rule",
        "github",
        "acme/other",
        "refs/heads/main",
        "push",
        "",
        "",
        requestId,
        await sha256Prefix(token),
        "",
        "aws",
        "",
        "",
        "",
        "",
      ],
      doubles: [403, verifyMs, verifyMs, 0, -1, 0, 1, -1, -1],
    });
  });

  it("rejected (expired token): repository unknown, index '-'", async () => {
    const h = await createHarness();
    const latency = withLatency(h);
    const t = Math.floor(h.now() / 1000);
    const token = await h.mint({ iat: t - 300, nbf: t - 600, exp: t - 60 });
    const response = await h.request(token);
    expect(response.status).toBe(401);
    const requestId = response.headers.get("x-request-id") as string;
    const verifyMs = ISSUER_LATENCY_MS * latency.issuerCalls();
    const { point } = expectAudit(h, { outcome: "rejected", code: "invalid_token", reason: "token_expired" });
    expect(point).toEqual({
      indexes: ["-"],
      blobs: [
        "rejected",
        "invalid_token",
        "token_expired",
        "",
        "",
        "",
        "",
        "",
        "",
        requestId,
        await sha256Prefix(token),
        "",
        "aws",
        "",
        "",
        "",
        "",
      ],
      doubles: [401, verifyMs, verifyMs, 0, -1, 0, 1, -1, -1],
    });
  });

  it("rejected before the token is read (no token): no hash, no timings but the total", async () => {
    const h = await createHarness();
    const response = await h.fetch(new Request("https://broker.example/v1/credentials", { method: "POST" }));
    expect(response.status).toBe(400);
    const { point } = expectAudit(h, { outcome: "rejected", code: "invalid_request", reason: "token_missing" });
    expect(point).toEqual({
      indexes: ["-"],
      blobs: [
        "rejected",
        "invalid_request",
        "token_missing",
        "",
        "",
        "",
        "",
        "",
        "",
        response.headers.get("x-request-id"),
        "",
        "",
        "aws",
        "",
        "",
        "",
        "",
      ],
      doubles: [400, 0, -1, -1, -1, 0, 1, -1, -1],
    });
  });

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

describe("a failing sink never changes or delays the response", () => {
  it("writeDataPoint throwing: same 200 and credentials, the log line still written, the failure logged", async () => {
    const h = await createHarness({
      dataset: {
        writeDataPoint: () => {
          throw new RangeError("Analytics Engine unavailable");
        },
      },
    });
    const response = await h.request(await h.mint());
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]);
    expect(h.events()).toHaveLength(1);
    expect(h.events()[0]).toMatchObject({ outcome: "issued" });
    const requestId = response.headers.get("x-request-id");
    expect(h.logs.filter((line) => line.message === "audit_sink_failed")).toEqual([
      { message: "audit_sink_failed", sink: "analytics_engine", request_id: requestId, error: "RangeError" },
    ]);
  });

  it("writeDataPoint throwing on a rejection: the same 401 body as with a working sink", async () => {
    const working = await createHarness();
    const broken = await createHarness({
      dataset: {
        writeDataPoint: () => {
          throw new Error("x");
        },
      },
    });
    const answers = [];
    for (const h of [working, broken]) {
      const response = await h.request("not-a-jwt");
      const body = (await response.json()) as Record<string, unknown>;
      answers.push({
        status: response.status,
        error: body.error,
        keys: Object.keys(body),
        headers: [...response.headers.keys()].sort(),
      });
    }
    expect(answers[1]).toEqual(answers[0]);
  });

  it("without an AUDIT binding the broker still answers and logs", async () => {
    const h = await createHarness({ env: { AUDIT: undefined } });
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.events()).toHaveLength(1);
    expect(h.dataPoints()).toEqual([]);
  });
});
