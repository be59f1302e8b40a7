// A repository bucket with a bounded reservation queue: a caller refused for want of a token is given the time at
// which a token will be there for it, and that token is set aside (the bucket goes into debt), so the refused
// callers of a burst come back spread over the refill, one token each, instead of all at once (docs/fleet-scale.md).
// Pure; no I/O; no clock (the caller passes `nowMs`). Integer arithmetic in the bucket's units (token-bucket.ts).
import { fullBucket, refill, UNITS_PER_TOKEN, type BucketLimit, type BucketState } from "./token-bucket.ts";

/**
 * The queue beside a bucket. `held`: reservations handed out and not yet claimed. `lastSlotMs`: the slot of the
 * newest one; slots are handed out in increasing order, so once it is `claimGraceMs` past, every reservation is
 * either claimed or abandoned, and the queue is forgotten.
 */
export interface QueueState {
  held: number;
  lastSlotMs: number;
}

export interface QueueOptions {
  /** A reservation is made only if its slot is at most this far away; beyond, the caller is refused outright. */
  maxWaitMs: number;
  /** How long after the newest slot unclaimed reservations are kept (a caller comes back a little late). */
  claimGraceMs: number;
}

/** What the caller stores afterwards: the bucket, and the queue (undefined: no queue row). */
export interface QueueStep {
  bucket: BucketState;
  queue: QueueState | undefined;
  /** When the bucket is full and the queue forgotten: from then on both rows equal "no row" and may go. */
  idleAtMs: number;
}

export type QueueResult =
  /** `reservation`: a reservation that had come due was claimed (its token was set aside when it was made). */
  | ({ outcome: "admitted"; via: "token" | "reservation" } & QueueStep)
  /** A reservation was made: come back at `slotMs`. The state changed (the token is set aside) and must be stored. */
  | ({ outcome: "queued"; slotMs: number; retryAfterSeconds: number } & QueueStep)
  /** The queue is as deep as `maxWaitMs` allows: nothing changed; come back when it has drained. */
  | { outcome: "queue_full"; retryAfterSeconds: number };

/** Whole seconds from `nowMs` until `atMs`, rounded up (never early), at least 1 (RFC 9110 §10.2.3 delay-seconds). */
export function retryAfterSeconds(atMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((atMs - nowMs) / 1000));
}

/** Reservations not yet due at this level: the bucket's debt in whole tokens (each reservation is one token of it). */
function undue(level: number): number {
  return level < 0 ? Math.ceil(-level / UNITS_PER_TOKEN) : 0;
}

function step(
  bucket: BucketState,
  queue: QueueState | undefined,
  limit: BucketLimit,
  options: QueueOptions,
): QueueStep {
  const capacity = limit.burst * UNITS_PER_TOKEN;
  const fullAtMs = bucket.updatedAtMs + Math.ceil((capacity - bucket.level) / limit.perMinute);
  const live = queue !== undefined && queue.held > 0 ? queue : undefined;
  return {
    bucket,
    queue: live,
    idleAtMs: Math.max(fullAtMs, live === undefined ? 0 : live.lastSlotMs + options.claimGraceMs),
  };
}

/**
 * One request against a repository's bucket:
 * 1. a reservation has come due (its slot passed, unclaimed): claim it; its token was set aside when it was made;
 * 2. else a free token (the level counts the debt of every reservation, so queued callers are served first): take it;
 * 3. else set a token aside for this caller (level minus one token) and tell it the slot at which the refill covers
 *    it: the k-th refused caller of a burst waits k refill intervals, not the same second as all the others;
 * 4. unless that slot is more than `maxWaitMs` away: refuse, with the time at which the queue has drained.
 * Reservations are anonymous (a returning caller presents a new token): any caller of the rule may claim a due one.
 */
export function admitOrQueue(
  bucket: BucketState | undefined,
  queue: QueueState | undefined,
  limit: BucketLimit,
  nowMs: number,
  options: QueueOptions,
): QueueResult {
  const current = refill(bucket ?? fullBucket(limit, nowMs), limit, nowMs);
  // A queue past its newest slot plus grace is over: what is still held was abandoned (its debt is repaid by now).
  const held = queue !== undefined && nowMs <= queue.lastSlotMs + options.claimGraceMs ? Math.max(0, queue.held) : 0;
  const lastSlotMs = held > 0 && queue !== undefined ? queue.lastSlotMs : 0;
  if (held > undue(current.level)) {
    return {
      outcome: "admitted",
      via: "reservation",
      ...step(current, { held: held - 1, lastSlotMs }, limit, options),
    };
  }
  if (current.level >= UNITS_PER_TOKEN) {
    const taken = { level: current.level - UNITS_PER_TOKEN, updatedAtMs: current.updatedAtMs };
    return {
      outcome: "admitted",
      via: "token",
      ...step(taken, held > 0 ? { held, lastSlotMs } : undefined, limit, options),
    };
  }
  const level = current.level - UNITS_PER_TOKEN;
  // Counted from the bucket's own time, later than `nowMs` only if the caller's clock went backwards.
  const slotMs = current.updatedAtMs + Math.ceil(-level / limit.perMinute);
  if (slotMs - nowMs <= options.maxWaitMs) {
    const next = { held: held + 1, lastSlotMs: Math.max(lastSlotMs, slotMs) };
    return {
      outcome: "queued",
      slotMs,
      retryAfterSeconds: retryAfterSeconds(slotMs, nowMs),
      ...step({ level, updatedAtMs: current.updatedAtMs }, next, limit, options),
    };
  }
  // Full: when the debt is repaid and one more token has refilled, a new caller finds a free token.
  const drainedMs = current.updatedAtMs + Math.ceil((UNITS_PER_TOKEN - current.level) / limit.perMinute);
  return { outcome: "queue_full", retryAfterSeconds: retryAfterSeconds(drainedMs, nowMs) };
}
