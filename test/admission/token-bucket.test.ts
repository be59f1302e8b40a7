import { describe, expect, it } from "vitest";
import {
  fullBucket,
  refill,
  takeToken,
  UNITS_PER_TOKEN,
  type BucketLimit,
  type BucketState,
} from "../../src/admission/token-bucket.ts";
import { DEFAULT_REPOSITORY_BURST, DEFAULT_REPOSITORY_RATE_PER_MINUTE } from "../../src/admission/constants.ts";

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/** Takes until refused; returns how many were taken, the last state and the refusal. */
function drain(
  limit: BucketLimit,
  nowMs: number,
  state?: BucketState,
): { taken: number; state: BucketState | undefined; retryAfterSeconds: number } {
  let current = state;
  for (let taken = 0; ; taken++) {
    const result = takeToken(current, limit, nowMs);
    if (!result.ok) return { taken, state: current, retryAfterSeconds: result.retryAfterSeconds };
    current = result.state;
  }
}

describe("takeToken", () => {
  it("the default bucket gives its burst at once, then asks for 1 s (600/minute refills one every 100 ms)", () => {
    const limit = { perMinute: DEFAULT_REPOSITORY_RATE_PER_MINUTE, burst: DEFAULT_REPOSITORY_BURST };
    const drained = drain(limit, T0);
    expect(drained.taken).toBe(DEFAULT_REPOSITORY_BURST);
    expect(drained.retryAfterSeconds).toBe(1);
    expect(takeToken(drained.state, limit, T0 + 99).ok).toBe(false);
    const later = takeToken(drained.state, limit, T0 + 100);
    expect(later.ok).toBe(true);
    if (later.ok) expect(takeToken(later.state, limit, T0 + 100)).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  it.each([
    // [perMinute, first Retry-After in s]: one token every 60/perMinute s, rounded up to a whole second, at least 1.
    [1, 60],
    [2, 30],
    [7, 9], // 8.57 s
    [60, 1],
    [600, 1], // 0.1 s: never 0
    [6000, 1],
  ])("perMinute %i: Retry-After %i s once empty", (perMinute, expected) => {
    const drained = drain({ perMinute, burst: 1 }, T0);
    expect(drained.taken).toBe(1);
    expect(drained.retryAfterSeconds).toBe(expected);
  });

  it("Retry-After counts down with the refill and is exact at the boundary", () => {
    const limit = { perMinute: 1, burst: 1 };
    const { state } = drain(limit, T0);
    expect(takeToken(state, limit, T0 + 30_000)).toEqual({ ok: false, retryAfterSeconds: 30 });
    expect(takeToken(state, limit, T0 + 59_001)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(takeToken(state, limit, T0 + 59_999)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(takeToken(state, limit, T0 + 60_000).ok).toBe(true);
  });

  it("waiting the Retry-After it gave always suffices", () => {
    for (const perMinute of [1, 3, 7, 13, 59, 60, 61, 599, 6000]) {
      const limit = { perMinute, burst: 3 };
      let { state } = drain(limit, T0);
      let now = T0;
      for (let round = 0; round < 5; round++) {
        const refused = takeToken(state, limit, now);
        expect(refused.ok).toBe(false);
        if (refused.ok) return;
        now += refused.retryAfterSeconds * 1000;
        const admitted = takeToken(state, limit, now);
        expect(admitted.ok, `perMinute ${perMinute}`).toBe(true);
        if (!admitted.ok) return;
        ({ state } = drain(limit, now, admitted.state));
      }
    }
  });

  it("an idle bucket refills to its burst and no further", () => {
    const limit = { perMinute: 60, burst: 5 };
    const { state } = drain(limit, T0);
    expect(drain(limit, T0 + 3_000, state).taken).toBe(3);
    expect(drain(limit, T0 + 24 * 3600_000, state).taken).toBe(5);
    // Years of idleness: still exactly the burst (no overflow past 2^53).
    expect(
      drain(
        { perMinute: 6000, burst: 1000 },
        T0 + 10 * 365 * 86_400_000,
        drain({ perMinute: 6000, burst: 1000 }, T0).state,
      ).taken,
    ).toBe(1000);
  });

  it("over any span, admits at most burst + perMinute × minutes", () => {
    const limit = { perMinute: 60, burst: 20 };
    let state: BucketState | undefined;
    let admitted = 0;
    // A request every 137 ms for 10 minutes: far above the rate.
    for (let now = T0; now <= T0 + 600_000; now += 137) {
      const result = takeToken(state, limit, now);
      if (result.ok) {
        admitted++;
        state = result.state;
      }
    }
    expect(admitted).toBeLessThanOrEqual(20 + 60 * 10);
    expect(admitted).toBeGreaterThanOrEqual(60 * 10); // and the full rate is actually given
  });

  it("a clock that goes backwards refills nothing, and Retry-After counts the gap", () => {
    const limit = { perMinute: 60, burst: 1 };
    const first = takeToken(undefined, limit, T0 + 10_000);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(first.state.updatedAtMs).toBe(T0 + 10_000);
    // 5 s earlier by the caller's clock: no token, and the wait is counted from now (5 s gap + 1 s).
    expect(takeToken(first.state, limit, T0 + 5_000)).toEqual({ ok: false, retryAfterSeconds: 6 });
    expect(refill(first.state, limit, T0).updatedAtMs).toBe(T0 + 10_000);
  });

  it("reports when the bucket is full again (a full bucket need not be stored)", () => {
    const limit = { perMinute: 60, burst: 20 };
    const result = takeToken(undefined, limit, T0);
    expect(result).toEqual({ ok: true, state: { level: 19 * UNITS_PER_TOKEN, updatedAtMs: T0 }, fullAtMs: T0 + 1000 });
    expect(fullBucket(limit, T0)).toEqual({ level: 20 * UNITS_PER_TOKEN, updatedAtMs: T0 });
    const { state } = drain(limit, T0);
    const after = takeToken(state, limit, T0 + 1000);
    expect(after.ok && after.fullAtMs).toBe(T0 + 1000 + 20_000);
  });

  it("stays in integers for odd rates", () => {
    let state: BucketState | undefined;
    for (let now = T0; now < T0 + 100_000; now += 333) {
      const result = takeToken(state, { perMinute: 7, burst: 3 }, now);
      if (result.ok) {
        expect(Number.isInteger(result.state.level)).toBe(true);
        expect(Number.isInteger(result.fullAtMs)).toBe(true);
        state = result.state;
      }
    }
  });
});
