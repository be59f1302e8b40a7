// AdmissionControl's storage stays bounded (src/admission/admission-store.ts): purge by alarm, and the cap on live
// reservations.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { AdmitRequest } from "../../src/admission/admission-control.ts";
import {
  ADMISSION_PURGE_GRACE_MS,
  ADMISSION_PURGE_INTERVAL_MS,
  MAX_ADMISSION_RESERVATIONS,
} from "../../src/admission/constants.ts";
import { T0, ISS, freshObject, request, rows } from "./admission-control-helpers.ts";

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
