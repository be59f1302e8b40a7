// The admission-control object's SQLite tables and statements: reservations, buckets and queues, read and written
// through the storage's synchronous SQL API. No caching, no clock, no alarms: admission-control.ts owns those.
import { ADMISSION_PURGE_GRACE_MS } from "./constants.ts";
import type { AdmitRequest, ReleaseRequest } from "./admission-protocol.ts";
import type { QueueState, QueueStep } from "./queue.ts";
import type { BucketState } from "./token-bucket.ts";

/** A bucket's stored rows (undefined: no row), as this instance last read or wrote them. */
export interface BucketRows {
  bucket: BucketState | undefined;
  queue: QueueState | undefined;
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

/** Creates the tables (and the columns older objects lack); returns how many reservations are stored. */
export function createSchema(sql: SqlStorage): number {
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
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM reservation").one().n;
}

/** Deletes reservations past their time plus grace; returns how many went. */
export function purgeReservations(sql: SqlStorage, nowMs: number): number {
  return sql
    .exec("DELETE FROM reservation WHERE expires_at_ms <= ? RETURNING 1", nowMs - ADMISSION_PURGE_GRACE_MS)
    .toArray().length;
}

/**
 * Deletes buckets that have refilled and queues gone idle; returns when the next row expires (undefined: none left).
 */
export function purgeIdle(sql: SqlStorage, nowMs: number): number | undefined {
  sql.exec("DELETE FROM bucket WHERE full_at_ms <= ?", nowMs);
  sql.exec("DELETE FROM queue WHERE idle_at_ms <= ?", nowMs);
  const reservation = sql.exec<{ at: number | null }>("SELECT MIN(expires_at_ms) AS at FROM reservation").one().at;
  const bucket = sql.exec<{ at: number | null }>("SELECT MIN(full_at_ms) AS at FROM bucket").one().at;
  const queue = sql.exec<{ at: number | null }>("SELECT MIN(idle_at_ms) AS at FROM queue").one().at;
  const times = [reservation === null ? null : reservation + ADMISSION_PURGE_GRACE_MS, bucket, queue].filter(
    (at): at is number => at !== null,
  );
  return times.length === 0 ? undefined : Math.min(...times);
}

/** When the earliest reservation expires (ms, Worker clock). Only called while reservations exist. */
export function earliestReservationMs(sql: SqlStorage): number {
  return sql.exec<{ at: number }>("SELECT MIN(expires_at_ms) AS at FROM reservation").one().at;
}

export function isReserved(sql: SqlStorage, request: ReleaseRequest): boolean {
  return sql.exec("SELECT 1 FROM reservation WHERE iss = ? AND jti = ?", request.iss, request.jti).toArray().length > 0;
}

/** Replay check and reservation in one statement: false (nothing stored) when the pair is reserved already. */
export function insertReservation(sql: SqlStorage, request: AdmitRequest): boolean {
  return (
    sql
      .exec(
        "INSERT INTO reservation (iss, jti, expires_at_ms, holder) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1",
        request.iss,
        request.jti,
        request.reserveUntilMs,
        request.holder,
      )
      .toArray().length > 0
  );
}

/** Deletes the holder's own reservation of the pair; returns how many went (0 or 1). */
export function deleteReservation(sql: SqlStorage, request: ReleaseRequest): number {
  return sql
    .exec(
      "DELETE FROM reservation WHERE iss = ? AND jti = ? AND holder = ? RETURNING 1",
      request.iss,
      request.jti,
      request.holder,
    )
    .toArray().length;
}

export function readBucketRows(sql: SqlStorage, key: string): BucketRows {
  const bucket = sql
    .exec<{ level: number; updated_at_ms: number }>("SELECT level, updated_at_ms FROM bucket WHERE key = ?", key)
    .toArray()[0];
  const queue = sql
    .exec<{ held: number; last_slot_ms: number }>("SELECT held, last_slot_ms FROM queue WHERE key = ?", key)
    .toArray()[0];
  return {
    bucket: bucket === undefined ? undefined : { level: bucket.level, updatedAtMs: bucket.updated_at_ms },
    queue: queue === undefined ? undefined : { held: queue.held, lastSlotMs: queue.last_slot_ms },
  };
}

/** Stores a step's bucket, and its queue row while a burst is being served (none once nobody is queued). */
export function writeBucketRows(sql: SqlStorage, key: string, stored: BucketRows, step: QueueStep): void {
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
  } else if (stored.queue !== undefined) {
    sql.exec("DELETE FROM queue WHERE key = ?", key);
  }
}
