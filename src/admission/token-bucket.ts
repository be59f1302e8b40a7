// Token-bucket arithmetic for admission control: refill, take one, and when to come back.
// Pure; no I/O; no clock (the caller passes `nowMs`). Integer arithmetic only, so no rounding drift.

/** A bucket's limit: `burst` tokens of capacity, refilled at `perMinute` tokens a minute (policy `rateLimit`). */
export interface BucketLimit {
  perMinute: number;
  burst: number;
}

/**
 * A bucket as stored. `level` counts sixtieth-thousandths of a token (one token = 60 000 units), so that a refill of
 * `perMinute` tokens a minute is exactly `perMinute` units a millisecond: integers throughout, no floating-point drift.
 * Negative only for a repository bucket with queued callers (queue.ts): the tokens already promised to them.
 */
export interface BucketState {
  level: number;
  /** When `level` was last computed (ms since epoch, caller's clock). */
  updatedAtMs: number;
}

export type TakeResult =
  | {
      ok: true;
      state: BucketState /** When the bucket will be full again: a full bucket need not be stored. */;
      fullAtMs: number;
    }
  | {
      ok: false /** Whole seconds until one token is available, at least 1 (RFC 9110 §10.2.3 Retry-After). */;
      retryAfterSeconds: number;
    };

/** Units in one token: milliseconds in a minute, so `perMinute` tokens/minute refill `perMinute` units/ms. */
export const UNITS_PER_TOKEN = 60_000;

/** The state of a bucket nobody has drawn from: full. */
export function fullBucket(limit: BucketLimit, nowMs: number): BucketState {
  return { level: limit.burst * UNITS_PER_TOKEN, updatedAtMs: nowMs };
}

/**
 * The bucket refilled up to `nowMs`. A clock that went backwards (another isolate's clock, a test) refills nothing
 * and keeps the later time, so going back and forth in time can never mint tokens.
 */
export function refill(state: BucketState, limit: BucketLimit, nowMs: number): BucketState {
  const capacity = limit.burst * UNITS_PER_TOKEN;
  const elapsedMs = Math.max(0, nowMs - state.updatedAtMs);
  // A level below zero is a debt: tokens set aside for queued callers (queue.ts). Clamp before multiplying: the time
  // to refill from this level to full is enough, and the product stays far below 2^53.
  const untilFullMs = Math.max(0, Math.ceil((capacity - state.level) / limit.perMinute));
  const level = Math.min(capacity, state.level + Math.min(elapsedMs, untilFullMs) * limit.perMinute);
  return { level, updatedAtMs: Math.max(state.updatedAtMs, nowMs) };
}

/** Refill, then take one token; or say how long until one is there. `state` undefined means a full bucket. */
export function takeToken(state: BucketState | undefined, limit: BucketLimit, nowMs: number): TakeResult {
  const current = refill(state ?? fullBucket(limit, nowMs), limit, nowMs);
  if (current.level >= UNITS_PER_TOKEN) {
    const level = current.level - UNITS_PER_TOKEN;
    const capacity = limit.burst * UNITS_PER_TOKEN;
    const fullAtMs = current.updatedAtMs + Math.ceil((capacity - level) / limit.perMinute);
    return { ok: true, state: { level, updatedAtMs: current.updatedAtMs }, fullAtMs };
  }
  // Counted from the bucket's own time, which is later than `nowMs` only if the caller's clock went backwards.
  const waitMs = current.updatedAtMs - nowMs + Math.ceil((UNITS_PER_TOKEN - current.level) / limit.perMinute);
  return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
}
