// The admission-control Durable Object (SQLite-backed): single use of each token's (iss, jti) plus token buckets,
// decided in one synchronous transaction per call. Time comes from the calling Worker (`nowMs`); alarms purge.
//
// One object per repository (`<issuer id>:repo:<repository_id>`, named by durable-admission.ts): `admit` reserves a
// jti and takes from the bucket of the rule that allowed the request, durably (SQLite); a refused caller gets a queue
// slot of its own (queue.ts). (The pre-authentication limit per client address is not here: it is on the
// rate-limiting bindings, src/admission/address-limit.ts.)
// Storage stays bounded: admitted jtis only (a bucket gates them), at most MAX_ADMISSION_RESERVATIONS per object,
// deleted by an alarm once expired; a bucket row goes once it has refilled; an object left empty deletes its database.
import { DurableObject } from "cloudflare:workers";
import {
  ADMISSION_PURGE_GRACE_MS,
  ADMISSION_PURGE_INTERVAL_MS,
  MAX_ADMISSION_RESERVATIONS,
  REPOSITORY_QUEUE_CLAIM_GRACE_MS,
  REPOSITORY_QUEUE_MAX_WAIT_MS,
} from "./constants.ts";
import {
  isAdmitRequest,
  isReleaseRequest,
  type AdmitRequest,
  type AdmitResult,
  type ReleaseRequest,
  type ReleaseResult,
} from "./admission-protocol.ts";
import {
  createSchema,
  deleteReservation,
  earliestReservationMs,
  insertReservation,
  isReserved,
  purgeIdle,
  purgeReservations,
  readBucketRows,
  writeBucketRows,
  type BucketRows,
} from "./admission-store.ts";
import { admitOrQueue, retryAfterSeconds, type QueueOptions, type QueueStep } from "./queue.ts";

export type { AdmitRequest, AdmitResult, BadRequest, ReleaseRequest, ReleaseResult } from "./admission-protocol.ts";

const QUEUE: QueueOptions = { maxWaitMs: REPOSITORY_QUEUE_MAX_WAIT_MS, claimGraceMs: REPOSITORY_QUEUE_CLAIM_GRACE_MS };

export class AdmissionControl extends DurableObject<Env> {
  private schemaReady = false;
  /** Rows in `reservation`, kept in memory: COUNT(*) would read every row on every call. */
  private reservations = 0;
  /** The Worker's clock minus this object's, learned from each call: alarms fire on this object's clock. */
  private clockOffsetMs = 0;
  /**
   * The alarm this instance has set, on this object's clock (null: none known). A fresh instance does not read the
   * stored alarm: its first setAlarm may move an earlier alarm later, which only delays a purge.
   */
  private alarmAtMs: number | null = null;
  /**
   * When the last purge ran (this object's clock); purges are at least ADMISSION_PURGE_INTERVAL_MS apart. Starts at
   * the instance's start: an object woken by a burst is not purged in the middle of it (each purge is a transaction).
   */
  private lastPurgeAtMs = Date.now();
  /**
   * Each bucket's row and queue row as stored, kept in memory once read: this instance is their only writer (calls
   * are serialised), so the copy stays exact; it is dropped whenever a transaction fails or a purge deletes rows.
   */
  private readonly rows = new Map<string, BucketRows>();

  /**
   * Reserve (iss, jti) and take one token from the rule's bucket, atomically; or say why not. Synchronous: nothing
   * can interleave, and the runtime's output gate holds the answer until the transaction (and any alarm change)
   * is durable, so "admitted" never reaches the Worker for a reservation that could still be lost.
   */
  admit(request: AdmitRequest): AdmitResult {
    // Returned, not thrown: nothing is stored, and the Worker fails closed on it.
    if (!isAdmitRequest(request)) return { outcome: "bad_request" };
    const now = this.observe(request.nowMs);
    const sql = this.ctx.storage.sql;
    const result = this.transaction((): { result: AdmitResult; alarmAtMs?: number } => {
      this.ensureSchema();
      // 1. Bounded storage: refuse a new reservation rather than grow past the cap (a replay is still token_reused).
      if (this.reservations >= MAX_ADMISSION_RESERVATIONS) {
        this.purgeReservations(now);
        if (this.reservations >= MAX_ADMISSION_RESERVATIONS) {
          if (isReserved(sql, request)) return { result: { outcome: "token_reused" } };
          const retryAt = earliestReservationMs(sql) + ADMISSION_PURGE_GRACE_MS;
          return { result: { outcome: "full", retryAfterSeconds: retryAfterSeconds(retryAt, now) } };
        }
      }
      // 2. The bucket and its queue, decided in memory; nothing is stored until the replay check has passed.
      const rows = this.bucketRows(request.bucket);
      const step = admitOrQueue(rows.bucket, rows.queue, request.limit, now, QUEUE);
      if (step.outcome === "admitted") {
        // 3. Replay check and reservation in one statement: a replay inserts nothing, stores nothing, costs no budget.
        if (!insertReservation(sql, request)) return { result: { outcome: "token_reused" } };
        this.reservations += 1;
        this.writeRows(request.bucket, rows, step);
        return {
          result: { outcome: "admitted" },
          alarmAtMs: Math.min(request.reserveUntilMs + ADMISSION_PURGE_GRACE_MS, step.idleAtMs),
        };
      }
      // 3'. Refused for want of a token. Any earlier use of the token refuses it as a replay first (never costs
      // budget);
      // a refusal does not burn the jti: the same token may come back after Retry-After.
      if (isReserved(sql, request)) return { result: { outcome: "token_reused" } };
      if (step.outcome === "queue_full")
        return { result: { outcome: "rate_limited", retryAfterSeconds: step.retryAfterSeconds, queued: false } };
      this.writeRows(request.bucket, rows, step);
      return {
        result: { outcome: "rate_limited", retryAfterSeconds: step.retryAfterSeconds, queued: true },
        alarmAtMs: step.idleAtMs,
      };
    });
    if (result.alarmAtMs !== undefined) this.scheduleAlarm(result.alarmAtMs);
    return result.result;
  }

  /**
   * Delete a reservation whose exchange failed before any credentials left the broker (at STS, or at this very call,
   * when its answer came too late). Safe for single use: no credentials were delivered for it, so the token may still
   * buy its one set; without this, an honest client that retried after a 503 would get `token_reused` (and a GitLab
   * job, with one token per variable, could not recover). Only the holder's own reservation goes: a later exchange
   * of the same token that was admitted meanwhile keeps its own. The bucket token stays spent.
   */
  release(request: ReleaseRequest): ReleaseResult {
    if (!isReleaseRequest(request)) return { outcome: "bad_request" };
    return this.transaction(() => {
      this.ensureSchema();
      const deleted = deleteReservation(this.ctx.storage.sql, request);
      this.reservations -= deleted;
      return { outcome: deleted > 0 ? "released" : "not_found" };
    });
  }

  /**
   * Purge: reservations past their time plus grace, and buckets that have refilled. An object left with no rows
   * deletes its whole database, so the objects of quiet repositories cost no storage.
   */
  override async alarm(): Promise<void> {
    this.alarmAtMs = null;
    this.lastPurgeAtMs = Date.now();
    // The Worker's clock as last seen, carried forward on ours. A fresh instance has seen no call: our clock it is.
    const now = Date.now() + this.clockOffsetMs;
    const sql = this.ctx.storage.sql;
    const next = this.transaction(() => {
      this.ensureSchema();
      this.purgeReservations(now);
      const nextAtMs = purgeIdle(sql, now);
      this.rows.clear();
      return nextAtMs;
    });
    if (next === undefined) {
      await this.ctx.storage.deleteAll();
      this.schemaReady = false;
      this.rows.clear();
      this.reservations = 0;
      this.alarmAtMs = null;
      return;
    }
    this.scheduleAlarm(next);
  }

  /** The caller's time (ms), remembered as an offset from ours for the alarm. Our clock only when none was sent. */
  private observe(nowMs: number): number {
    if (!Number.isSafeInteger(nowMs)) return Date.now() + this.clockOffsetMs;
    this.clockOffsetMs = nowMs - Date.now();
    return nowMs;
  }

  /** One atomic SQL transaction. If it fails, the in-memory row count and rows are re-read on the next call. */
  private transaction<T>(body: () => T): T {
    try {
      return this.ctx.storage.transactionSync(body);
    } catch (error) {
      this.schemaReady = false;
      this.rows.clear();
      throw error;
    }
  }

  private ensureSchema(): void {
    if (this.schemaReady) return;
    this.reservations = createSchema(this.ctx.storage.sql);
    this.schemaReady = true;
  }

  private purgeReservations(nowMs: number): void {
    const deleted = purgeReservations(this.ctx.storage.sql, nowMs);
    this.reservations = Math.max(0, this.reservations - deleted);
  }

  /** A bucket's rows as stored: from memory, or read once from the tables. */
  private bucketRows(key: string): BucketRows {
    let rows = this.rows.get(key);
    if (rows === undefined) {
      rows = readBucketRows(this.ctx.storage.sql, key);
      this.rows.set(key, rows);
    }
    return rows;
  }

  /** Stores a step's rows and keeps the in-memory copy. */
  private writeRows(key: string, rows: BucketRows, step: QueueStep): void {
    writeBucketRows(this.ctx.storage.sql, key, rows, step);
    // After the statements: a statement that throws leaves the copy as stored (and `transaction` drops it anyway).
    this.rows.set(key, { bucket: step.bucket, queue: step.queue });
  }

  /**
   * Ensure an alarm no later than `workerTimeMs` (Worker clock), yet not sooner than the purge interval allows.
   * Not awaited: like the SQL writes, it is covered by the output gate, which holds this call's answer until the
   * alarm is stored (Durable Objects "output gates").
   */
  private scheduleAlarm(workerTimeMs: number): void {
    const at = Math.max(workerTimeMs - this.clockOffsetMs, this.lastPurgeAtMs + ADMISSION_PURGE_INTERVAL_MS);
    if (this.alarmAtMs !== null && this.alarmAtMs <= at) return;
    this.alarmAtMs = at;
    void this.ctx.storage.setAlarm(at);
  }
}
