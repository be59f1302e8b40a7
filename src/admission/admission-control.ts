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
import { MAX_JTI_CHARS } from "../oidc/constants.ts";
import {
  ADMISSION_PURGE_GRACE_MS,
  ADMISSION_PURGE_INTERVAL_MS,
  MAX_ADMISSION_HOLDER_CHARS,
  MAX_ADMISSION_RESERVATIONS,
  REPOSITORY_QUEUE_CLAIM_GRACE_MS,
  REPOSITORY_QUEUE_MAX_WAIT_MS,
} from "./constants.ts";
import { admitOrQueue, retryAfterSeconds, type QueueOptions, type QueueState, type QueueStep } from "./queue.ts";
import type { BucketLimit, BucketState } from "./token-bucket.ts";

/** A bucket's stored rows (undefined: no row), as this instance last read or wrote them. */
interface BucketRows {
  bucket: BucketState | undefined;
  queue: QueueState | undefined;
}

export interface AdmitRequest {
  /** The token's exact `iss`. With `jti`, the replay key: never a hash of the token text (RFC 7519 §4.1.7). */
  iss: string;
  jti: string;
  /** Until when the pair stays reserved (ms, Worker clock): `exp` + the issuer's clock tolerance. */
  reserveUntilMs: number;
  /** Which bucket of this repository pays: the id of the rule that allowed the request. */
  bucket: string;
  limit: BucketLimit;
  /** The Worker's injected clock (ms). The Worker and this object are one trust domain. */
  nowMs: number;
  /** The exchange asking (its request id): only it can release the reservation it makes. */
  holder: string;
}

export type AdmitResult =
  | { outcome: "admitted" }
  | { outcome: "token_reused" }
  /** `queued`: a token is set aside for a caller that comes back after `retryAfterSeconds`; false: the queue is full. */
  | { outcome: "rate_limited"; retryAfterSeconds: number; queued: boolean }
  /** MAX_ADMISSION_RESERVATIONS live reservations: refuse rather than grow. */
  | { outcome: "full"; retryAfterSeconds: number }
  | BadRequest;

/** Forget one reservation: the exchange it admitted failed before any credentials left the broker. */
export interface ReleaseRequest {
  iss: string;
  jti: string;
  /** The exchange that made the reservation: another exchange's reservation of the same token is never released. */
  holder: string;
}

export type ReleaseResult = { outcome: "released" | "not_found" } | BadRequest;

/** A request this object cannot act on: a Worker bug, which the Worker answers as an outage (fail closed). */
export interface BadRequest {
  outcome: "bad_request";
}

const SCHEMA = [
  // WITHOUT ROWID: the primary key is the row, so the duplicate check and the insert touch one B-tree.
  // `holder`: the exchange that made the reservation (NULL in rows of objects older than the column: never released).
  `CREATE TABLE IF NOT EXISTS reservation (
     iss TEXT NOT NULL,
     jti TEXT NOT NULL,
     expires_at_ms INTEGER NOT NULL,
     holder TEXT,
     PRIMARY KEY (iss, jti)
   ) WITHOUT ROWID`,
  // `level` in 1/60000 token (token-bucket.ts); `full_at_ms`: from then on the row equals "no row" and may go.
  `CREATE TABLE IF NOT EXISTS bucket (
     key TEXT PRIMARY KEY,
     level INTEGER NOT NULL,
     updated_at_ms INTEGER NOT NULL,
     full_at_ms INTEGER NOT NULL
   ) WITHOUT ROWID`,
  // A bucket's reservation queue (queue.ts), only while callers are queued: `idle_at_ms` as the bucket's `full_at_ms`.
  `CREATE TABLE IF NOT EXISTS queue (
     key TEXT PRIMARY KEY,
     held INTEGER NOT NULL,
     last_slot_ms INTEGER NOT NULL,
     idle_at_ms INTEGER NOT NULL
   ) WITHOUT ROWID`,
];

const QUEUE: QueueOptions = { maxWaitMs: REPOSITORY_QUEUE_MAX_WAIT_MS, claimGraceMs: REPOSITORY_QUEUE_CLAIM_GRACE_MS };

function isLimit(limit: BucketLimit): boolean {
  return (
    Number.isSafeInteger(limit?.perMinute) &&
    limit.perMinute >= 1 &&
    Number.isSafeInteger(limit?.burst) &&
    limit.burst >= 1
  );
}

function isHolder(holder: unknown): holder is string {
  return typeof holder === "string" && holder !== "" && holder.length <= MAX_ADMISSION_HOLDER_CHARS;
}

function isAdmitRequest(request: AdmitRequest): boolean {
  const { iss, jti, bucket, reserveUntilMs, limit } = request ?? {};
  return (
    isHolder(request?.holder) &&
    typeof iss === "string" &&
    iss !== "" &&
    typeof jti === "string" &&
    jti !== "" &&
    jti.length <= MAX_JTI_CHARS &&
    typeof bucket === "string" &&
    bucket !== "" &&
    Number.isSafeInteger(reserveUntilMs) &&
    isLimit(limit)
  );
}

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
          if (this.isReserved(request)) return { result: { outcome: "token_reused" } };
          const earliest = sql.exec<{ at: number }>("SELECT MIN(expires_at_ms) AS at FROM reservation").one().at;
          return {
            result: { outcome: "full", retryAfterSeconds: retryAfterSeconds(earliest + ADMISSION_PURGE_GRACE_MS, now) },
          };
        }
      }
      // 2. The bucket and its queue, decided in memory; nothing is stored until the replay check has passed.
      const rows = this.bucketRows(request.bucket);
      const step = admitOrQueue(rows.bucket, rows.queue, request.limit, now, QUEUE);
      if (step.outcome === "admitted") {
        // 3. Replay check and reservation in one statement: a replay inserts nothing, stores nothing, costs no budget.
        const inserted = sql
          .exec(
            "INSERT INTO reservation (iss, jti, expires_at_ms, holder) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1",
            request.iss,
            request.jti,
            request.reserveUntilMs,
            request.holder,
          )
          .toArray().length;
        if (inserted === 0) return { result: { outcome: "token_reused" } };
        this.reservations += 1;
        this.writeRows(request.bucket, rows, step);
        return {
          result: { outcome: "admitted" },
          alarmAtMs: Math.min(request.reserveUntilMs + ADMISSION_PURGE_GRACE_MS, step.idleAtMs),
        };
      }
      // 3'. Refused for want of a token. Any earlier use of the token refuses it as a replay first (never costs budget);
      // a refusal does not burn the jti: the same token may come back after Retry-After.
      if (this.isReserved(request)) return { result: { outcome: "token_reused" } };
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
    if (
      typeof request?.iss !== "string" ||
      typeof request.jti !== "string" ||
      request.iss === "" ||
      request.jti === "" ||
      !isHolder(request.holder)
    )
      return { outcome: "bad_request" };
    return this.transaction(() => {
      this.ensureSchema();
      const deleted = this.ctx.storage.sql
        .exec(
          "DELETE FROM reservation WHERE iss = ? AND jti = ? AND holder = ? RETURNING 1",
          request.iss,
          request.jti,
          request.holder,
        )
        .toArray().length;
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
      sql.exec("DELETE FROM bucket WHERE full_at_ms <= ?", now);
      sql.exec("DELETE FROM queue WHERE idle_at_ms <= ?", now);
      this.rows.clear();
      const reservation = sql.exec<{ at: number | null }>("SELECT MIN(expires_at_ms) AS at FROM reservation").one().at;
      const bucket = sql.exec<{ at: number | null }>("SELECT MIN(full_at_ms) AS at FROM bucket").one().at;
      const queue = sql.exec<{ at: number | null }>("SELECT MIN(idle_at_ms) AS at FROM queue").one().at;
      const times = [reservation === null ? null : reservation + ADMISSION_PURGE_GRACE_MS, bucket, queue].filter(
        (at): at is number => at !== null,
      );
      return times.length === 0 ? undefined : Math.min(...times);
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
    const sql = this.ctx.storage.sql;
    for (const statement of SCHEMA) sql.exec(statement);
    // An object created before reservations had a holder gets the column; its older rows keep NULL (never released).
    if (
      !sql
        .exec<{ name: string }>("PRAGMA table_info(reservation)")
        .toArray()
        .some((column) => column.name === "holder")
    ) {
      sql.exec("ALTER TABLE reservation ADD COLUMN holder TEXT");
    }
    this.reservations = this.ctx.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM reservation").one().n;
    this.schemaReady = true;
  }

  private purgeReservations(nowMs: number): void {
    const deleted = this.ctx.storage.sql
      .exec("DELETE FROM reservation WHERE expires_at_ms <= ? RETURNING 1", nowMs - ADMISSION_PURGE_GRACE_MS)
      .toArray().length;
    this.reservations = Math.max(0, this.reservations - deleted);
  }

  private isReserved(request: ReleaseRequest): boolean {
    return (
      this.ctx.storage.sql
        .exec("SELECT 1 FROM reservation WHERE iss = ? AND jti = ?", request.iss, request.jti)
        .toArray().length > 0
    );
  }

  /** A bucket's rows as stored: from memory, or read once from the tables. */
  private bucketRows(key: string): BucketRows {
    let rows = this.rows.get(key);
    if (rows === undefined) {
      const sql = this.ctx.storage.sql;
      const bucket = sql
        .exec<{ level: number; updated_at_ms: number }>("SELECT level, updated_at_ms FROM bucket WHERE key = ?", key)
        .toArray()[0];
      const queue = sql
        .exec<{ held: number; last_slot_ms: number }>("SELECT held, last_slot_ms FROM queue WHERE key = ?", key)
        .toArray()[0];
      rows = {
        bucket: bucket === undefined ? undefined : { level: bucket.level, updatedAtMs: bucket.updated_at_ms },
        queue: queue === undefined ? undefined : { held: queue.held, lastSlotMs: queue.last_slot_ms },
      };
      this.rows.set(key, rows);
    }
    return rows;
  }

  /** Stores a step's bucket, and its queue row while a burst is being served (none once nobody is queued). */
  private writeRows(key: string, rows: BucketRows, step: QueueStep): void {
    const sql = this.ctx.storage.sql;
    sql.exec(
      `INSERT INTO bucket (key, level, updated_at_ms, full_at_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET level = excluded.level, updated_at_ms = excluded.updated_at_ms, full_at_ms = excluded.full_at_ms`,
      key,
      step.bucket.level,
      step.bucket.updatedAtMs,
      step.idleAtMs,
    );
    if (step.queue !== undefined) {
      sql.exec(
        `INSERT INTO queue (key, held, last_slot_ms, idle_at_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET held = excluded.held, last_slot_ms = excluded.last_slot_ms, idle_at_ms = excluded.idle_at_ms`,
        key,
        step.queue.held,
        step.queue.lastSlotMs,
        step.idleAtMs,
      );
    } else if (rows.queue !== undefined) {
      sql.exec("DELETE FROM queue WHERE key = ?", key);
    }
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
