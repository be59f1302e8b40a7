// The audit trail through the whole Worker (record.ts): the exact Analytics Engine data point written for each answer
// the broker gives itself (issued, denied by the policy, a token or request rejected), timings made exact by the clock.
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
});
