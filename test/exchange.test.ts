import { describe, expect, it } from "vitest";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../src/http/constants.ts";
import { JWKS_FRESH_MS, JWKS_REFETCH_COOLDOWN_MS } from "../src/oidc/constants.ts";
import { createHarness, expectAudit, expectNoLeak, STS_ORIGIN } from "./support/broker-harness.ts";

describe("POST /v1/credentials: issuance", () => {
  it("exchanges a push-to-main token for 15-minute credentials in credential_process shape", async () => {
    const harness = await createHarness();
    const token = await harness.mint();
    const response = await harness.request(token);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const requestId = response.headers.get("x-request-id");
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);

    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]);
    const call = harness.sts.assumeRoleCalls[0];
    expect(harness.sts.assumeRoleCalls).toHaveLength(1);
    expect(body).toEqual({
      Version: 1,
      AccessKeyId: call?.issuedAccessKeyId,
      SecretAccessKey: expect.stringMatching(/^.{40}$/),
      SessionToken: expect.any(String),
      Expiration: new Date(harness.now() + 900_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    });

    // What the broker asked STS for: the example policy's deploy role, 900 s, claims as session tags.
    expect(call).toMatchObject({ roleArn: "arn:aws:iam::111122223333:role/acme-app-deploy", durationSeconds: 900 });
    expect(call?.roleSessionName).toMatch(/^[\w+=,.@-]{2,64}$/);
    expect(call?.sourceIdentity).toMatch(/^[\w+=,.@-]{2,64}$/);
    const tags = Object.fromEntries((call?.tags ?? []).map((tag) => [tag.key, tag.value]));
    expect(tags).toMatchObject({ Repository: "acme/app", Ref: "refs/heads/main", EventName: "push", Team: "platform" });
    expect(call?.policy).toBeUndefined();

    // One log line, with the decision and timings, and no token.
    const [event] = harness.events();
    expect(event).toMatchObject({
      request_id: requestId,
      outcome: "issued",
      status: 200,
      issuer: "github",
      repository: "acme/app",
      rule_id: "acme-app-main-deploy",
      role_alias: "deploy",
      sts_attempts: 1,
      token_sha256: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(JSON.stringify(harness.logs)).not.toContain(token);
    expect(JSON.stringify(harness.logs)).not.toContain(String(body.SecretAccessKey));
    // And the same event as one Analytics Engine data point, holding none of the issued credentials.
    const { point } = expectAudit(harness, {
      request_id: requestId,
      outcome: "issued",
      rule_id: "acme-app-main-deploy",
      role_alias: "deploy",
      sts_attempts: 1,
    });
    for (const secret of [token, body.AccessKeyId, body.SecretAccessKey, body.SessionToken])
      expect(JSON.stringify(point)).not.toContain(String(secret));
  });

  it("accepts the token in a JSON body, honours role and duration, and sends the session policy", async () => {
    const harness = await createHarness();
    const token = await harness.mint({ event_name: "pull_request", ref: "refs/pull/7/merge" });
    const response = await harness.fetch(
      new Request("https://broker.example/v1/credentials", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token, role: "readonly", duration_seconds: 900 }),
      }),
    );
    expect(response.status).toBe(200);
    const call = harness.sts.assumeRoleCalls[0];
    expect(call?.roleArn).toBe("arn:aws:iam::111122223333:role/acme-app-readonly");
    expect(JSON.parse(call?.policy ?? "null")).toMatchObject({ Version: "2012-10-17" });
    expectAudit(harness, {
      outcome: "issued",
      role_alias: "readonly",
      event_name: "pull_request",
      ref: "refs/pull/7/merge",
    });
  });

  it("passes a longer duration up to the role's maximum", async () => {
    const harness = await createHarness();
    const response = await harness.request(await harness.mint(), { duration_seconds: 3600 });
    expect(response.status).toBe(200);
    expect(harness.sts.assumeRoleCalls[0]?.durationSeconds).toBe(3600);
  });
});

describe("JWKS cache chain through the Worker", () => {
  it("a rotated key (new kid) causes exactly one refetch, then is served from cache", async () => {
    const harness = await createHarness();
    expect((await harness.request(await harness.mint())).status).toBe(200);
    expect(harness.issuer.fetchCount).toBe(1);
    await harness.issuer.rotate();
    harness.advance(JWKS_REFETCH_COOLDOWN_MS); // a rotation lands long after the last fetch
    for (let i = 0; i < 5; i++) expect((await harness.request(await harness.mint())).status).toBe(200);
    expect(harness.issuer.fetchCount).toBe(2);
  });

  it("a key rotated inside the refetch cooldown: 503 with Retry-After until the cooldown ends, then 200", async () => {
    const harness = await createHarness();
    expect((await harness.request(await harness.mint())).status).toBe(200);
    await harness.issuer.rotate();
    harness.advance(20_000); // the new key signs tokens 20 s after the broker fetched the old set
    const token = await harness.mint();
    const response = await harness.request(token);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe(String(JWKS_REFETCH_COOLDOWN_MS / 1000 - 20));
    expect((await expectNoLeak(response)).error).toBe("upstream_unavailable");
    expectAudit(harness, {
      outcome: "error",
      code: "upstream_unavailable",
      reason: "jwks_refetch_cooldown",
      status: 503,
    });
    expect(harness.issuer.fetchCount).toBe(1);
    expect(harness.sts.requestCount).toBe(1); // the first exchange's only
    // The client waits Retry-After and sends a fresh token: the cooldown is over, one refetch, credentials.
    harness.advance(Number(response.headers.get("retry-after")) * 1000);
    expect((await harness.request(await harness.mint())).status).toBe(200);
    expect(harness.issuer.fetchCount).toBe(2);
  });

  it("a kid still unknown after a refetch outside the cooldown stays 401 invalid_token", async () => {
    const harness = await createHarness();
    expect((await harness.request(await harness.mint())).status).toBe(200);
    harness.advance(JWKS_REFETCH_COOLDOWN_MS);
    const response = await harness.request(await harness.mint({}, { header: { kid: "not-published" } }));
    expect(response.status).toBe(401);
    expect(response.headers.get("retry-after")).toBeNull();
    expectAudit(harness, { outcome: "rejected", code: "invalid_token", reason: "kid_unknown", status: 401 });
    expect(harness.issuer.fetchCount).toBe(2);
  });

  it.each([
    ["a path", "../../etc/passwd"],
    ["5,000 characters", "k".repeat(5_000)],
  ])(
    "a garbage kid (%s) inside the refetch cooldown is 401 invalid_token at once, with no JWKS refetch",
    async (_name, kid) => {
      const harness = await createHarness();
      expect((await harness.request(await harness.mint())).status).toBe(200);
      harness.advance(20_000);
      // A trusted `iss` and little else: a 5,000-character kid still fits the 8 KiB token cap.
      const token = await harness.issuer.sign({ alg: "RS256", typ: "JWT", kid }, { iss: harness.issuer.issuer });
      const response = await harness.request(token);
      expect(response.status).toBe(401);
      expect(response.headers.get("retry-after")).toBeNull();
      const body = await expectNoLeak(response);
      expect(body.error).toBe("invalid_token");
      expect(JSON.stringify(body)).not.toContain("kid");
      expectAudit(harness, { outcome: "rejected", code: "invalid_token", reason: "kid_malformed", status: 401 });
      expect(harness.issuer.fetchCount).toBe(1);
      // A real-shaped unknown kid in the same cooldown still waits for a rotation, as before.
      const waiting = await harness.request(
        await harness.mint({}, { header: { kid: "ZR+iPrkP5j2j9sFIYfjr6RBNAxA=" } }),
      );
      expect(waiting.status).toBe(503);
      expect(waiting.headers.get("retry-after")).toBe(String(JWKS_REFETCH_COOLDOWN_MS / 1000 - 20));
      expect(harness.issuer.fetchCount).toBe(1);
    },
  );

  it("issuer outage with a warm cache still issues credentials (stale keys are served)", async () => {
    const harness = await createHarness();
    expect((await harness.request(await harness.mint())).status).toBe(200);
    harness.issuer.fail("down");
    harness.advance(JWKS_FRESH_MS + 60_000); // past fresh: the broker tries to refresh, fails, serves the last good set
    const callsBefore = harness.network.calls.length;
    const response = await harness.request(await harness.mint());
    expect(response.status).toBe(200);
    expect(harness.network.callsTo(harness.issuer.issuer).length).toBeGreaterThan(0);
    expect(harness.network.calls.length).toBeGreaterThan(callsBefore); // it did try the issuer
  });

  it("issuer outage with a cold cache answers 503 upstream_unavailable with Retry-After", async () => {
    const harness = await createHarness();
    harness.issuer.fail("down");
    const response = await harness.request(await harness.mint());
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe(String(UPSTREAM_RETRY_AFTER_SECONDS));
    expect((await expectNoLeak(response)).error).toBe("upstream_unavailable");
    expectAudit(harness, { outcome: "error", code: "upstream_unavailable", reason: "jwks_unavailable", status: 503 });
    expect(harness.sts.requestCount).toBe(0);
  });
});

describe("STS through the Worker", () => {
  it("throttling then success: retried with backoff, 200", async () => {
    const harness = await createHarness();
    harness.sts.inject("throttle", 2);
    const response = await harness.request(await harness.mint());
    expect(response.status).toBe(200);
    expect(harness.sts.requestCount).toBe(3);
    expect(harness.sleeps).toHaveLength(2);
    expectAudit(harness, { outcome: "issued", sts_attempts: 3 });
  });

  it("persistent 5xx: 503 upstream_unavailable with Retry-After after bounded attempts", async () => {
    const harness = await createHarness();
    harness.sts.inject("internal_error", 100);
    const response = await harness.request(await harness.mint());
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe(String(UPSTREAM_RETRY_AFTER_SECONDS));
    expect((await expectNoLeak(response)).error).toBe("upstream_unavailable");
    expect(harness.sts.requestCount).toBeGreaterThan(1);
    expect(harness.sts.requestCount).toBeLessThanOrEqual(4);
    expectAudit(harness, { outcome: "error", reason: "sts_unavailable", sts_attempts: harness.sts.requestCount });
  });

  it("AccessDenied: 403 forbidden, not retried, and neither the role ARN nor the account id leaks", async () => {
    const harness = await createHarness();
    harness.sts.denyRole("arn:aws:iam::111122223333:role/acme-app-deploy");
    const response = await harness.request(await harness.mint());
    expect(response.status).toBe(403);
    const body = await expectNoLeak(response, ["acme-app-deploy", "not authorized"]);
    expect(body.error).toBe("forbidden");
    expect(harness.sts.requestCount).toBe(1);
    expectAudit(harness, { outcome: "denied", reason: "sts_access_denied", sts_attempts: 1 });
    expect(JSON.stringify(harness.logs)).not.toContain("arn:aws:iam::111122223333:role");
  });

  it("the STS request goes to the configured endpoint override", async () => {
    const harness = await createHarness({ env: { STS_ENDPOINT: "https://sts.internal.example/" } });
    harness.network.route("https://sts.internal.example", harness.sts.handler);
    expect((await harness.request(await harness.mint())).status).toBe(200);
    expect(harness.network.callsTo("https://sts.internal.example/")).toHaveLength(1);
    expect(harness.network.callsTo(STS_ORIGIN)).toHaveLength(0);
  });

  it("a policy denial never reaches STS", async () => {
    const harness = await createHarness();
    const response = await harness.request(await harness.mint({ repository: "acme/other" }));
    expect(response.status).toBe(403);
    expect((await expectNoLeak(response)).error).toBe("forbidden");
    expect(harness.sts.requestCount).toBe(0);
    expectAudit(harness, {
      outcome: "denied",
      reason: "no_matching_rule",
      repository: "acme/other",
      sts_attempts: undefined,
    });
  });
});
