// The AdmissionControl Durable Object itself, called over RPC through the real binding (local workerd, SQLite):
// reservations, buckets, the order of checks, purge by alarm, and the storage cap.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { AdmissionControl, AdmitRequest, ReleaseRequest } from "../../src/admission/admission-control.ts";
import {
  ADMISSION_PURGE_GRACE_MS,
  ADMISSION_PURGE_INTERVAL_MS,
  MAX_ADMISSION_HOLDER_CHARS,
  MAX_ADMISSION_RESERVATIONS,
} from "../../src/admission/constants.ts";

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const ISS = "https://token.actions.githubusercontent.com";
const LIMIT = { perMinute: 60, burst: 20 };

/** A fresh object per test: local Durable Object storage is shared by the tests of a file. */
function freshObject(): DurableObjectStub<AdmissionControl> {
  return env.ADMISSION.getByName(`test-object-${crypto.randomUUID()}`);
}

function request(overrides: Partial<AdmitRequest> = {}): AdmitRequest {
  return {
    iss: ISS,
    jti: crypto.randomUUID(),
    reserveUntilMs: T0 + 310_000,
    bucket: "rule-a",
    limit: LIMIT,
    nowMs: T0,
    holder: crypto.randomUUID(),
    ...overrides,
  };
}

interface Rows {
  reservations: Array<{ iss: string; jti: string; expires_at_ms: number; holder: string | null }>;
  buckets: Array<{ key: string; level: number; updated_at_ms: number; full_at_ms: number }>;
  queues: Array<{ key: string; held: number; last_slot_ms: number; idle_at_ms: number }>;
  tables: string[];
}

/** What the object has stored, read inside it. */
function rows(stub: DurableObjectStub<AdmissionControl>): Promise<Rows> {
  return runInDurableObject(stub, (_instance, state) => {
    const tables = state.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'",
      )
      .toArray()
      .map((row) => row.name)
      .sort();
    const read = <T extends Record<string, SqlStorageValue>>(table: string) =>
      tables.includes(table) ? state.storage.sql.exec<T>(`SELECT * FROM ${table}`).toArray() : [];
    return { tables, reservations: read("reservation"), buckets: read("bucket"), queues: read("queue") } as Rows;
  });
}

describe("AdmissionControl.admit", () => {
  it("reserves (iss, jti) once: the second use is token_reused, whatever its bucket", async () => {
    const stub = freshObject();
    const first = request();
    expect(await stub.admit(first)).toEqual({ outcome: "admitted" });
    expect(await stub.admit(first)).toEqual({ outcome: "token_reused" });
    expect(await stub.admit({ ...first, bucket: "rule-b", nowMs: T0 + 1000 })).toEqual({ outcome: "token_reused" });
    // The same jti from another issuer is another token.
    expect(await stub.admit({ ...first, iss: "https://gitlab.example.com" })).toEqual({ outcome: "admitted" });
    const stored = await rows(stub);
    expect(stored.reservations).toHaveLength(2);
    expect(stored.reservations).toContainEqual({
      iss: ISS,
      jti: first.jti,
      expires_at_ms: first.reserveUntilMs,
      holder: first.holder,
    });
  });

  it("a replay costs no budget", async () => {
    const stub = freshObject();
    const limit = { perMinute: 1, burst: 2 };
    const first = request({ limit });
    expect(await stub.admit(first)).toEqual({ outcome: "admitted" });
    for (let i = 0; i < 5; i++) expect(await stub.admit(first)).toEqual({ outcome: "token_reused" });
    expect(await stub.admit(request({ limit }))).toEqual({ outcome: "admitted" });
  });

  it("an empty bucket refuses with Retry-After and does not burn the jti: the same token is admitted after the wait", async () => {
    const stub = freshObject();
    const limit = { perMinute: 2, burst: 1 };
    expect(await stub.admit(request({ limit }))).toEqual({ outcome: "admitted" });
    const second = request({ limit, nowMs: T0 + 1000 });
    expect(await stub.admit(second)).toEqual({ outcome: "rate_limited", retryAfterSeconds: 29, queued: true });
    expect((await rows(stub)).reservations.map((row) => row.jti)).not.toContain(second.jti);
    expect(await stub.admit({ ...second, nowMs: T0 + 30_000 })).toEqual({ outcome: "admitted" });
    expect(await stub.admit({ ...second, nowMs: T0 + 90_000 })).toEqual({ outcome: "token_reused" });
  });

  it("each rule's bucket is its own, with its own limit", async () => {
    const stub = freshObject();
    const tight = { perMinute: 1, burst: 1 };
    expect(await stub.admit(request({ bucket: "tight", limit: tight }))).toEqual({ outcome: "admitted" });
    // One a minute: the next slot (60 s) is past the queue's reach (REPOSITORY_QUEUE_MAX_WAIT_MS), so no reservation.
    expect(await stub.admit(request({ bucket: "tight", limit: tight }))).toEqual({
      outcome: "rate_limited",
      retryAfterSeconds: 60,
      queued: false,
    });
    for (let i = 0; i < 20; i++)
      expect(await stub.admit(request({ bucket: "default" }))).toEqual({ outcome: "admitted" });
    expect(await stub.admit(request({ bucket: "default" }))).toEqual({
      outcome: "rate_limited",
      retryAfterSeconds: 1,
      queued: true,
    });
    expect((await rows(stub)).buckets.map((row) => row.key).sort()).toEqual(["default", "tight"]);
  });

  it("consecutive refused callers are told increasing waits (their own queue slots), and each is admitted at its slot", async () => {
    const stub = freshObject();
    const limit = { perMinute: 30, burst: 1 };
    expect(await stub.admit(request({ limit }))).toEqual({ outcome: "admitted" });
    const refused = Array.from({ length: 4 }, () => request({ limit, nowMs: T0 + 500 }));
    const waits: number[] = [];
    for (const caller of refused) {
      const answer = await stub.admit(caller);
      expect(answer).toMatchObject({ outcome: "rate_limited", queued: true });
      if (answer.outcome === "rate_limited") waits.push(answer.retryAfterSeconds);
    }
    // 30 a minute: a token every 2 s; the k-th refused caller's token is there 2k s after the bucket emptied (T0).
    expect(waits).toEqual([2, 4, 6, 8]);
    expect((await rows(stub)).queues).toEqual([
      { key: "rule-a", held: 4, last_slot_ms: T0 + 8000, idle_at_ms: T0 + 8000 + 10_000 },
    ]);
    // A newcomer is queued behind them, not served from their tokens.
    expect(await stub.admit(request({ limit, nowMs: T0 + 600 }))).toEqual({
      outcome: "rate_limited",
      retryAfterSeconds: 10,
      queued: true,
    });
    for (const [k, caller] of refused.entries()) {
      expect(await stub.admit({ ...caller, nowMs: T0 + 500 + waits[k]! * 1000 })).toEqual({ outcome: "admitted" });
    }
    expect((await rows(stub)).queues).toEqual([
      { key: "rule-a", held: 1, last_slot_ms: T0 + 10_000, idle_at_ms: T0 + 20_000 },
    ]);
  });

  it("a replay into an empty bucket is token_reused, and neither the bucket nor the queue changes", async () => {
    const stub = freshObject();
    const limit = { perMinute: 1, burst: 1 };
    const first = request({ limit });
    expect(await stub.admit(first)).toEqual({ outcome: "admitted" });
    const before = await rows(stub);
    expect(await stub.admit({ ...first, nowMs: T0 + 1000 })).toEqual({ outcome: "token_reused" });
    const after = await rows(stub);
    expect(after.buckets).toEqual(before.buckets);
    expect(after.queues).toEqual([]);
  });

  it("the bucket and queue are stored with each call: a fresh instance (after eviction) continues where the last one stopped", async () => {
    const stub = freshObject();
    const limit = { perMinute: 6, burst: 2 };
    expect(await stub.admit(request({ limit }))).toEqual({ outcome: "admitted" });
    expect(await stub.admit(request({ limit }))).toEqual({ outcome: "admitted" });
    expect(await stub.admit(request({ limit }))).toEqual({
      outcome: "rate_limited",
      retryAfterSeconds: 10,
      queued: true,
    });
    await evictDurableObject(stub);
    // The queued caller's slot is taken: the next caller is queued behind it, not handed a fresh bucket.
    expect(await stub.admit(request({ limit }))).toEqual({
      outcome: "rate_limited",
      retryAfterSeconds: 20,
      queued: true,
    });
    expect((await rows(stub)).queues).toMatchObject([{ key: "rule-a", held: 2 }]);
  });

  it("20 concurrent calls with one token admit exactly one", async () => {
    const stub = freshObject();
    const same = request();
    const results = await Promise.all(Array.from({ length: 20 }, () => stub.admit(same)));
    expect(results.filter((result) => result.outcome === "admitted")).toHaveLength(1);
    expect(results.filter((result) => result.outcome === "token_reused")).toHaveLength(19);
  });

  it("answers bad_request to a malformed request and stores nothing (the Worker fails closed on it)", async () => {
    const stub = freshObject();
    for (const bad of [
      { jti: "" },
      { jti: "x".repeat(257) },
      { iss: "" },
      { bucket: "" },
      { limit: { perMinute: 0, burst: 1 } },
      { limit: { perMinute: 1, burst: 1.5 } },
      { reserveUntilMs: Number.NaN },
    ]) {
      expect(await stub.admit(request(bad)), JSON.stringify(bad)).toEqual({ outcome: "bad_request" });
    }
    expect(await rows(stub)).toEqual({ tables: [], reservations: [], buckets: [], queues: [] });
  });
});

describe("purge by alarm", () => {
  it(`the first purge is set no sooner than ADMISSION_PURGE_INTERVAL_MS (${ADMISSION_PURGE_INTERVAL_MS} ms) after the object started: a burst is not interrupted by purges`, async () => {
    const stub = freshObject();
    const started = Date.now();
    // Each call's bucket refills within a second: without the interval, the alarm would be due then.
    for (let i = 0; i < 3; i++) expect(await stub.admit(request({ nowMs: T0 + i }))).toEqual({ outcome: "admitted" });
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm as number).toBeGreaterThanOrEqual(started + ADMISSION_PURGE_INTERVAL_MS);
  });

  it("deletes reservations past exp + tolerance + grace and refilled buckets, then the whole database", async () => {
    const stub = freshObject();
    const tokens = Array.from({ length: 10 }, (_, i) => request({ reserveUntilMs: T0 + 300_000 + i * 1000 }));
    for (const token of tokens) expect(await stub.admit(token)).toEqual({ outcome: "admitted" });
    expect((await rows(stub)).reservations).toHaveLength(10);
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();

    // Not yet: an alarm now (the object still at T0 by the Worker's clock) deletes nothing that is live.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await rows(stub)).reservations).toHaveLength(10);

    // Half expired: a call at that time (a replay, refused) tells the object the Worker's time.
    const middle = T0 + 304_000 + ADMISSION_PURGE_GRACE_MS + 500;
    expect(await stub.admit({ ...(tokens[0] as AdmitRequest), nowMs: middle })).toEqual({ outcome: "token_reused" });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const left = (await rows(stub)).reservations.map((row) => row.expires_at_ms);
    expect(left).toHaveLength(5);
    expect(Math.min(...left)).toBe(T0 + 305_000);

    // All expired: nothing is left, not even the tables.
    const end = T0 + 309_000 + ADMISSION_PURGE_GRACE_MS;
    expect(await stub.admit({ ...(tokens[9] as AdmitRequest), nowMs: end })).toEqual({ outcome: "token_reused" });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await rows(stub)).toEqual({ tables: [], reservations: [], buckets: [], queues: [] });
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBeNull();

    // The emptied object works again (schema recreated), and a purged jti is a new reservation: the token itself
    // is past exp + tolerance by then, so verification refuses it before it ever gets here.
    expect(await stub.admit(request({ nowMs: end }))).toEqual({ outcome: "admitted" });
    expect((await rows(stub)).reservations).toHaveLength(1);
  });

  it("a bucket row goes once it has refilled, even with no reservation left to purge", async () => {
    const stub = freshObject();
    const limit = { perMinute: 60, burst: 5 };
    // A reservation that is already past its time, so only the bucket (full at T0 + 1000) keeps the object alive.
    expect(await stub.admit(request({ limit, reserveUntilMs: T0 - ADMISSION_PURGE_GRACE_MS }))).toEqual({
      outcome: "admitted",
    });
    expect((await rows(stub)).buckets).toEqual([
      { key: "rule-a", level: 4 * 60_000, updated_at_ms: T0, full_at_ms: T0 + 1000 },
    ]);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await rows(stub)).toMatchObject({ reservations: [], buckets: [{ key: "rule-a" }] }); // not refilled yet: kept
    // Two seconds pass on the object's own clock (the Worker's clock, last seen at T0, is carried forward on it).
    const objectNow = Date.now();
    const clock = vi.spyOn(Date, "now").mockReturnValue(objectNow + 2000);
    try {
      expect(await runDurableObjectAlarm(stub)).toBe(true);
    } finally {
      clock.mockRestore();
    }
    expect(await rows(stub)).toEqual({ tables: [], reservations: [], buckets: [], queues: [] });
  });
});

describe("storage cap", () => {
  it(`holds at most MAX_ADMISSION_RESERVATIONS (${MAX_ADMISSION_RESERVATIONS}) live reservations; beyond, new tokens are refused, not stored`, async () => {
    const stub = freshObject();
    expect(await stub.admit(request())).toEqual({ outcome: "admitted" });
    // Fill to the cap directly (a bucket would take hours to let this many through), expiring a minute apart.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO reservation (iss, jti, expires_at_ms) SELECT ?, 'seed-' || i, ? + i * 60000 FROM n`,
        MAX_ADMISSION_RESERVATIONS - 1,
        ISS,
        T0 + 600_000,
      );
    });
    await evictDurableObject(stub); // a fresh instance counts its rows
    const bucketBefore = (await rows(stub)).buckets;

    const refused = await stub.admit(request({ nowMs: T0 + 1000 }));
    expect(refused).toEqual({
      outcome: "full",
      retryAfterSeconds: Math.ceil((310_000 + ADMISSION_PURGE_GRACE_MS - 1000) / 1000),
    });
    const after = await rows(stub);
    expect(after.reservations).toHaveLength(MAX_ADMISSION_RESERVATIONS);
    expect(after.buckets).toEqual(bucketBefore); // a refused token costs no budget

    // Once the earliest reservation is past its time, the next token purges it inline and is admitted.
    expect(await stub.admit(request({ nowMs: T0 + 310_000 + ADMISSION_PURGE_GRACE_MS }))).toEqual({
      outcome: "admitted",
    });
    expect((await rows(stub)).reservations).toHaveLength(MAX_ADMISSION_RESERVATIONS);
  });
});

describe("AdmissionControl.release", () => {
  it("forgets the holder's own reservation: the same token is admitted again, once", async () => {
    const stub = freshObject();
    const first = request();
    expect(await stub.admit(first)).toEqual({ outcome: "admitted" });
    expect(await stub.release({ iss: ISS, jti: first.jti, holder: first.holder })).toEqual({ outcome: "released" });
    const retry = { ...first, holder: crypto.randomUUID(), nowMs: T0 + 2000 };
    expect(await stub.admit(retry)).toEqual({ outcome: "admitted" });
    expect(await stub.admit({ ...retry, holder: crypto.randomUUID() })).toEqual({ outcome: "token_reused" });
  });

  it("never another exchange's reservation of the same token: a late release of a failed call leaves the retry's", async () => {
    const stub = freshObject();
    const token = request();
    // The retry was admitted first (the failed call's answer was lost, or its admit arrived later and was refused).
    expect(await stub.admit({ ...token, holder: "retry" })).toEqual({ outcome: "admitted" });
    expect(await stub.admit({ ...token, holder: "failed" })).toEqual({ outcome: "token_reused" });
    expect(await stub.release({ iss: ISS, jti: token.jti, holder: "failed" })).toEqual({ outcome: "not_found" });
    expect(await stub.admit({ ...token, holder: "third" })).toEqual({ outcome: "token_reused" });
    expect((await rows(stub)).reservations).toEqual([
      { iss: ISS, jti: token.jti, expires_at_ms: token.reserveUntilMs, holder: "retry" },
    ]);
  });

  it("refuses a request without a holder, or with an over-long one, as bad_request, storing nothing", async () => {
    const stub = freshObject();
    const token = request();
    expect(await stub.admit({ ...token, holder: "" })).toEqual({ outcome: "bad_request" });
    expect(await stub.admit({ ...token, holder: "h".repeat(MAX_ADMISSION_HOLDER_CHARS + 1) })).toEqual({
      outcome: "bad_request",
    });
    expect(await stub.admit({ ...token, holder: undefined } as unknown as AdmitRequest)).toEqual({
      outcome: "bad_request",
    });
    expect(await stub.release({ iss: ISS, jti: token.jti } as unknown as ReleaseRequest)).toEqual({
      outcome: "bad_request",
    });
    expect((await rows(stub)).reservations).toEqual([]);
  });

  it("an object created before reservations had a holder gains the column; its older rows still refuse replays and are never released", async () => {
    const stub = freshObject();
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec(
        `CREATE TABLE reservation (iss TEXT NOT NULL, jti TEXT NOT NULL, expires_at_ms INTEGER NOT NULL, PRIMARY KEY (iss, jti)) WITHOUT ROWID`,
      );
      state.storage.sql.exec(
        "INSERT INTO reservation (iss, jti, expires_at_ms) VALUES (?, ?, ?)",
        ISS,
        "old-jti",
        T0 + 310_000,
      );
    });
    const old = request({ jti: "old-jti" });
    expect(await stub.admit(old)).toEqual({ outcome: "token_reused" });
    expect(await stub.release({ iss: ISS, jti: "old-jti", holder: old.holder })).toEqual({ outcome: "not_found" });
    const fresh = request();
    expect(await stub.admit(fresh)).toEqual({ outcome: "admitted" });
    expect(await stub.release({ iss: ISS, jti: fresh.jti, holder: fresh.holder })).toEqual({ outcome: "released" });
    expect((await rows(stub)).reservations).toEqual([
      { iss: ISS, jti: "old-jti", expires_at_ms: T0 + 310_000, holder: null },
    ]);
  });
});
