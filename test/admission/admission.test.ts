// Admission control through the whole broker inside workerd: the real AdmissionControl objects (env.ADMISSION,
// local SQLite), the fake issuer and the STS emulator. Single use, the per-repository bucket, purge, failing closed,
// audit. Time is the harness clock; alarms run by runDurableObjectAlarm.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { base64url, decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { ADMISSION_PURGE_GRACE_MS, DEFAULT_REPOSITORY_BURST } from "../../src/admission/constants.ts";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../../src/http/constants.ts";
import { DEFAULT_CLOCK_TOLERANCE_SECONDS } from "../../src/oidc/constants.ts";
import { expectAudit, type Harness } from "../support/broker-harness.ts";
import { testPolicy, harness, expectRefused, expectError } from "./admission-helpers.ts";

const REPOSITORY_ID = "874563210"; // githubClaims()' acme/app

const REPO_OBJECT = `github:repo:${REPOSITORY_ID}`;

/** The reservations and buckets stored in one of this harness's admission objects. */
function storedRows(h: Harness, name: string) {
  return runInDurableObject(h.admissionObject(name), (_instance, state) => {
    const tables = state.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('reservation', 'bucket')",
      )
      .toArray();
    if (tables.length === 0) return { reservations: [], buckets: [] };
    return {
      reservations: state.storage.sql
        .exec<{ jti: string; expires_at_ms: number }>(
          "SELECT jti, expires_at_ms FROM reservation ORDER BY expires_at_ms",
        )
        .toArray(),
      buckets: state.storage.sql.exec<{ key: string }>("SELECT key FROM bucket").toArray(),
    };
  });
}

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * The same token with its signature spelled differently: the last base64url character of a 256-byte RS256
 * signature carries 4 unused bits (342 chars × 6 bits = 2052 bits for 2048); setting one keeps the bytes and
 * changes the text. A replay cache keyed on the token text (or its hash) would miss it.
 */
function reencodeSignature(token: string): string {
  const [header, payload, signature = ""] = token.split(".");
  expect((signature.length * 6) % 8).toBeGreaterThan(0);
  const last = signature.at(-1) as string;
  const respelled = `${signature.slice(0, -1)}${B64URL[B64URL.indexOf(last) ^ 1]}`;
  expect(respelled).not.toBe(signature);
  expect(base64url.decode(respelled)).toEqual(base64url.decode(signature));
  return `${header}.${payload}.${respelled}`;
}

describe("single use: (iss, jti)", () => {
  it("the same token sent 20 times concurrently yields exactly one 200; the rest token_reused", async () => {
    const h = await harness();
    const token = await h.mint();
    const responses = await Promise.all(Array.from({ length: 20 }, () => h.request(token)));
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 401)).toHaveLength(19);
    for (const response of responses.filter((r) => r.status !== 200)) {
      await expectRefused(h, response, { status: 401, code: "token_reused", reason: "token_reused" });
    }
    expect(h.sts.assumeRoleCalls).toHaveLength(1);
    expect(h.events().filter((event) => event.outcome === "issued")).toHaveLength(1);
  });

  it("a sequential replay is refused with token_reused, and never reaches STS", async () => {
    const h = await harness();
    const token = await h.mint();
    expect((await h.request(token)).status).toBe(200);
    h.advance(30_000);
    await expectRefused(h, await h.request(token), { status: 401, code: "token_reused", reason: "token_reused" });
    // A different role or duration does not make it a different token.
    await expectRefused(h, await h.request(token, { role: "deploy", duration_seconds: 900 }), {
      status: 401,
      code: "token_reused",
      reason: "token_reused",
    });
    expect(h.sts.requestCount).toBe(1);
    // The public message tells the client what to do.
    expect(h.events().at(-1)).toMatchObject({ outcome: "rejected", repository: "acme/app", rule_id: "main-deploy" });
  });

  it("a replay with the signature re-encoded is refused: jose accepts the spelling, the key is (iss, jti)", async () => {
    const h = await harness();
    // jose accepts the re-encoded spelling: sent first, it is admitted ...
    const first = await h.mint();
    const respelled = reencodeSignature(first);
    expect((await h.request(respelled)).status).toBe(200);
    // ... and the original spelling is then a replay.
    await expectRefused(h, await h.request(first), { status: 401, code: "token_reused", reason: "token_reused" });
    // The other way round too.
    const second = await h.mint();
    expect((await h.request(second)).status).toBe(200);
    await expectRefused(h, await h.request(reencodeSignature(second)), {
      status: 401,
      code: "token_reused",
      reason: "token_reused",
    });
    // The two spellings hash differently: a token-hash key would have let the replay through.
    const hashes = h.events().map((event) => event.token_sha256);
    expect(new Set(hashes).size).toBe(4);
    expect(h.sts.requestCount).toBe(2);
  });
});

describe("per-repository token bucket", () => {
  it(`a burst past the default bucket (${DEFAULT_REPOSITORY_BURST}) gets 429s with increasing Retry-After, each caller its own slot`, async () => {
    const h = await harness();
    for (let i = 0; i < DEFAULT_REPOSITORY_BURST; i++) expect((await h.request(await h.mint())).status).toBe(200);
    // 600 a minute: a token every 100 ms, set aside for each refused caller in turn: ten per second of wait.
    const refused: string[] = [];
    const waits: string[] = [];
    for (let i = 0; i < 15; i++) {
      const token = await h.mint();
      const response = await h.request(token);
      expect(response.status).toBe(429);
      refused.push(token);
      waits.push(response.headers.get("retry-after") as string);
    }
    expect(waits).toEqual([...Array<string>(10).fill("1"), ...Array<string>(5).fill("2")]);
    await expectRefused(h, await h.request(await h.mint()), {
      status: 429,
      code: "rate_limited",
      reason: "rate_limited_repository",
      retryAfter: "2",
    });
    expect(h.sts.assumeRoleCalls).toHaveLength(DEFAULT_REPOSITORY_BURST);
    h.advance(2000);
    // The refused tokens were not burned: each caller comes back with the same token (or a new one) and is admitted.
    for (const token of refused) expect((await h.request(token)).status).toBe(200);
  });

  it("a rule's rateLimit overrides the default: perMinute 2, burst 1 -> Retry-After 30; past the queue's reach, 60", async () => {
    const h = await harness({ policy: testPolicy({ perMinute: 2, burst: 1 }) });
    expect((await h.request(await h.mint())).status).toBe(200);
    const token = await h.mint();
    await expectRefused(h, await h.request(token), {
      status: 429,
      code: "rate_limited",
      reason: "rate_limited_repository",
      retryAfter: "30",
    });
    // The next slot (60 s) is beyond REPOSITORY_QUEUE_MAX_WAIT_MS: refused without a reservation, told when the queue
    // drains.
    await expectRefused(h, await h.request(await h.mint()), {
      status: 429,
      code: "rate_limited",
      reason: "rate_limited_queue_full",
      retryAfter: "60",
    });
    h.advance(30_000);
    expect((await h.request(token)).status).toBe(200);
    // The pull-request rule has no rateLimit: the default bucket, its own.
    for (let i = 0; i < 3; i++)
      expect((await h.request(await h.mint({ event_name: "pull_request", ref: "refs/pull/7/merge" }))).status).toBe(
        200,
      );
  });

  it("distinct repositories do not share a bucket", async () => {
    const h = await harness({ policy: testPolicy({ perMinute: 1, burst: 1 }) });
    expect((await h.request(await h.mint())).status).toBe(200);
    await expectRefused(h, await h.request(await h.mint()), {
      status: 429,
      code: "rate_limited",
      reason: "rate_limited_queue_full",
      retryAfter: "60",
    });
    // Same name (the policy matches it), another repository id: another object, a full bucket.
    expect((await h.request(await h.mint({ repository_id: "1000001" }))).status).toBe(200);
    expect((await h.request(await h.mint({ repository_id: "1000002" }))).status).toBe(200);
    expect((await storedRows(h, "github:repo:1000001")).reservations).toHaveLength(1);
    expect((await storedRows(h, REPO_OBJECT)).reservations).toHaveLength(1);
  });

  it("denied and invalid tokens never consume the repository's budget", async () => {
    const h = await harness({ policy: testPolicy({ perMinute: 1, burst: 1 }) });
    for (let i = 0; i < 5; i++) {
      // Same repository id, refused by policy (no rule for schedule events) ...
      await expectError(await h.request(await h.mint({ event_name: "schedule" })), 403, "forbidden");
      // ... or by verification (expired beyond tolerance).
      const iat = Math.floor(h.now() / 1000) - 400;
      await expectError(await h.request(await h.mint({ iat, nbf: iat, exp: iat + 300 })), 401, "invalid_token");
    }
    expect((await storedRows(h, REPO_OBJECT)).reservations).toHaveLength(0);
    expect((await h.request(await h.mint())).status).toBe(200);
    // burst 1: the one token above was the first taken
    await expectRefused(h, await h.request(await h.mint()), {
      status: 429,
      code: "rate_limited",
      reason: "rate_limited_queue_full",
      retryAfter: "60",
    });
  });
});

describe("purge", () => {
  it("after expiry plus leeway, the alarm removes the reservation (storage inspected)", async () => {
    const h = await harness();
    const first = await h.mint();
    expect((await h.request(first)).status).toBe(200);
    const { jti, exp } = decodeJwt(first);
    expect(await storedRows(h, REPO_OBJECT)).toMatchObject({
      reservations: [{ jti, expires_at_ms: ((exp as number) + DEFAULT_CLOCK_TOLERANCE_SECONDS) * 1000 }],
    });
    const stub = h.admissionObject(REPO_OBJECT);
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).not.toBeNull();

    // Before expiry + leeway the alarm keeps it.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await storedRows(h, REPO_OBJECT)).reservations.map((row) => row.jti)).toEqual([jti]);

    // Past exp + clock tolerance + purge grace; the next request tells the object the time.
    h.advance(((exp as number) + DEFAULT_CLOCK_TOLERANCE_SECONDS) * 1000 + ADMISSION_PURGE_GRACE_MS - h.now());
    const second = await h.mint();
    expect((await h.request(second)).status).toBe(200);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await storedRows(h, REPO_OBJECT)).reservations.map((row) => row.jti)).toEqual([decodeJwt(second).jti]);
    // The purged token is refused by verification (expired) before admission is ever asked.
    await expectRefused(h, await h.request(first), { status: 401, code: "invalid_token", reason: "token_expired" });
  });
});

describe("Durable Object failure: fail closed", () => {
  const cases = [
    ["the repository's object throws", { mode: "throw", target: "repository" }],
    ["the repository's object is overloaded", { mode: "overloaded", target: "repository" }],
    ["the repository's object never answers (timeout)", { mode: "hang", target: "repository" }],
    ["the address limiter throws", { mode: "throw", target: "address" }],
    ["the address limiter never answers (timeout)", { mode: "hang", target: "address" }],
  ] as const;

  it.each(cases)("%s -> 503 upstream_unavailable with Retry-After, no credentials", async (_label, fault) => {
    const h = await harness();
    h.failAdmission(fault);
    const token = await h.mint();
    const response = await h.request(token);
    await expectRefused(h, response, {
      status: 503,
      code: "upstream_unavailable",
      reason: "admission_unavailable",
      retryAfter: String(UPSTREAM_RETRY_AFTER_SECONDS),
    });
    expect(await response.clone().text()).not.toContain("SecretAccessKey");
    expect(h.sts.requestCount).toBe(0);
    expect(h.logs.find((line) => line.message === "admission_unavailable")).toMatchObject({ object: fault.target });
    // Recovered: the same token was never reserved, so it is admitted now.
    h.failAdmission(null);
    expect((await h.request(token)).status).toBe(200);
  });

  it("no ADMISSION binding at all -> 503, no credentials", async () => {
    const h = await harness({ env: { ADMISSION: undefined } });
    await expectRefused(h, await h.request(await h.mint()), {
      status: 503,
      code: "upstream_unavailable",
      reason: "admission_unavailable",
      retryAfter: String(UPSTREAM_RETRY_AFTER_SECONDS),
    });
    expect(h.sts.requestCount).toBe(0);
  });
});

describe("audit", () => {
  it("a failed STS call releases the reservation: the same token then gets credentials once, not token_reused", async () => {
    const h = await harness();
    h.sts.inject("internal_error", 4); // every attempt of the first exchange fails
    const token = await h.mint();
    const failed = await h.request(token);
    await expectRefused(h, failed, {
      status: 503,
      code: "upstream_unavailable",
      reason: "sts_unavailable",
      retryAfter: "5",
    });
    const attempts = h.sts.requestCount;
    expect(attempts).toBeGreaterThan(1);
    expect((await h.request(token)).status).toBe(200);
    await expectRefused(h, await h.request(token), { status: 401, code: "token_reused", reason: "token_reused" });
  });

  it("an issued exchange records admission_ms", async () => {
    const h = await harness();
    expect((await h.request(await h.mint())).status).toBe(200);
    expectAudit(h, {
      outcome: "issued",
      status: 200,
      rule_id: "main-deploy",
      role_alias: "deploy",
      admission_ms: expect.any(Number),
    });
  });
});
