// AdmissionControl (src/admission/admission-control.ts), the real Durable Object in workerd: admit (single use, the
// bucket and its queue, malformed requests) and release.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AdmitRequest, ReleaseRequest } from "../../src/admission/admission-control.ts";
import { MAX_ADMISSION_HOLDER_CHARS } from "../../src/admission/constants.ts";
import { T0, ISS, freshObject, request, rows } from "./admission-control-helpers.ts";

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
