import { describe, expect, it } from "vitest";
import {
  admitOrQueue,
  retryAfterSeconds,
  type QueueOptions,
  type QueueResult,
  type QueueState,
} from "../../src/admission/queue.ts";
import type { BucketLimit, BucketState } from "../../src/admission/token-bucket.ts";
import {
  DEFAULT_REPOSITORY_BURST,
  DEFAULT_REPOSITORY_RATE_PER_MINUTE,
  REPOSITORY_QUEUE_CLAIM_GRACE_MS,
  REPOSITORY_QUEUE_MAX_WAIT_MS,
  STS_ACCOUNT_REQUESTS_PER_SECOND,
} from "../../src/admission/constants.ts";

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const OPTIONS: QueueOptions = {
  maxWaitMs: REPOSITORY_QUEUE_MAX_WAIT_MS,
  claimGraceMs: REPOSITORY_QUEUE_CLAIM_GRACE_MS,
};
const DEFAULT: BucketLimit = { perMinute: DEFAULT_REPOSITORY_RATE_PER_MINUTE, burst: DEFAULT_REPOSITORY_BURST };

/** A bucket and its queue driven as the Durable Object drives them: state stored after every step that changes it. */
function driver(limit: BucketLimit, options: QueueOptions = OPTIONS) {
  let bucket: BucketState | undefined;
  let queue: QueueState | undefined;
  return {
    call(nowMs: number): QueueResult {
      const result = admitOrQueue(bucket, queue, limit, nowMs, options);
      if (result.outcome !== "queue_full") {
        bucket = result.bucket;
        queue = result.queue;
      }
      return result;
    },
    queue: () => queue,
  };
}

describe("admitOrQueue: refused callers are spread over the refill", () => {
  it("consecutive refused callers get increasing slots, one refill interval apart, and Retry-After never early", () => {
    const limit = { perMinute: 60, burst: 2 };
    const d = driver(limit);
    expect(d.call(T0)).toMatchObject({ outcome: "admitted", via: "token" });
    expect(d.call(T0)).toMatchObject({ outcome: "admitted", via: "token" });
    const waits: number[] = [];
    const slots: number[] = [];
    for (let i = 0; i < 5; i++) {
      const result = d.call(T0 + 10);
      expect(result.outcome).toBe("queued");
      if (result.outcome !== "queued") return;
      slots.push(result.slotMs);
      waits.push(result.retryAfterSeconds);
      expect(T0 + 10 + result.retryAfterSeconds * 1000).toBeGreaterThanOrEqual(result.slotMs);
    }
    // 60/minute: one token a second; the k-th refused caller's token is there k seconds after the bucket emptied.
    expect(slots).toEqual([1, 2, 3, 4, 5].map((k) => T0 + k * 1000));
    expect(waits).toEqual([1, 2, 3, 4, 5]);
    expect(d.queue()).toEqual({ held: 5, lastSlotMs: T0 + 5000 });
  });

  it("each queued caller that comes back at its slot is admitted by its reservation: two requests per refused caller", () => {
    const limit = { perMinute: 60, burst: 2 };
    const d = driver(limit);
    d.call(T0);
    d.call(T0);
    const told = Array.from({ length: 4 }, () => d.call(T0));
    for (const result of told) {
      if (result.outcome !== "queued") throw new Error("expected queued");
      expect(d.call(T0 + result.retryAfterSeconds * 1000)).toMatchObject({ outcome: "admitted", via: "reservation" });
    }
    expect(d.queue()).toBeUndefined();
    // The debt is repaid: the next token is one refill interval after the last slot.
    expect(d.call(T0 + 4000).outcome).toBe("queued");
  });

  it("a newcomer while callers are queued is queued behind them (the level counts their tokens)", () => {
    const d = driver({ perMinute: 60, burst: 1 });
    d.call(T0);
    expect(d.call(T0)).toMatchObject({ outcome: "queued", slotMs: T0 + 1000 });
    // Half a second later: no free token, and the first slot is not due; the newcomer gets the next slot.
    expect(d.call(T0 + 500)).toMatchObject({ outcome: "queued", slotMs: T0 + 2000, retryAfterSeconds: 2 });
  });

  it("never admits more than burst + refill: the set-aside tokens are the only ones handed out later", () => {
    const limit = { perMinute: 60, burst: 3 };
    const d = driver(limit);
    let admitted = 0;
    for (let t = 0; t <= 20_000; t += 50) {
      for (let i = 0; i < 3; i++) if (d.call(T0 + t).outcome === "admitted") admitted++;
      expect(admitted).toBeLessThanOrEqual(3 + Math.floor(t / 1000));
    }
    expect(admitted).toBe(3 + 20);
  });

  it("beyond maxWaitMs the caller is refused outright, told when the queue has drained, and nothing is set aside", () => {
    const limit = { perMinute: 60, burst: 1 };
    const d = driver(limit, { maxWaitMs: 3_000, claimGraceMs: 10_000 });
    d.call(T0);
    for (let k = 1; k <= 3; k++) expect(d.call(T0)).toMatchObject({ outcome: "queued", retryAfterSeconds: k });
    const full = d.call(T0);
    expect(full).toEqual({ outcome: "queue_full", retryAfterSeconds: 4 });
    expect(d.queue()).toEqual({ held: 3, lastSlotMs: T0 + 3000 });
  });

  it("abandoned reservations are forgotten once the newest slot is claimGraceMs past", () => {
    const d = driver({ perMinute: 60, burst: 1 }, { maxWaitMs: 45_000, claimGraceMs: 10_000 });
    d.call(T0);
    d.call(T0);
    d.call(T0);
    // Nobody came back. Before the grace ends a caller claims a due reservation; after it, the bucket alone decides.
    expect(d.call(T0 + 12_000)).toMatchObject({ outcome: "admitted", via: "reservation" });
    const after = d.call(T0 + 12_001 + 10_000);
    expect(after).toMatchObject({ outcome: "admitted", via: "token", queue: undefined });
  });

  it("a whole number of seconds, at least 1", () => {
    expect(retryAfterSeconds(T0 + 1, T0)).toBe(1);
    expect(retryAfterSeconds(T0 + 1000, T0)).toBe(1);
    expect(retryAfterSeconds(T0 + 1001, T0)).toBe(2);
    expect(retryAfterSeconds(T0 - 5000, T0)).toBe(1);
  });
});

describe("the shipped default", () => {
  it("one repository at full rate uses at most 1/60 of the account's STS request quota", () => {
    expect(DEFAULT_REPOSITORY_RATE_PER_MINUTE / 60).toBeLessThanOrEqual(STS_ACCOUNT_REQUESTS_PER_SECOND / 60);
  });

  it("a 256-job matrix starting within 1 s: all served within 30 s, under two requests per job on average", () => {
    const d = driver(DEFAULT);
    // Each job's next request time; a job told Retry-After comes back that many whole seconds later (no jitter here).
    const next = Array.from({ length: 256 }, (_, i) => T0 + Math.floor((i * 1000) / 256));
    const servedAt: number[] = [];
    let requests = 0;
    while (next.length > 0) {
      next.sort((a, b) => a - b);
      const at = next.shift() as number;
      requests++;
      const result = d.call(at);
      if (result.outcome === "admitted") servedAt.push(at);
      else next.push(at + result.retryAfterSeconds * 1000);
    }
    expect(servedAt).toHaveLength(256);
    expect(Math.max(...servedAt) - T0).toBeLessThanOrEqual(30_000);
    expect(requests / 256).toBeLessThanOrEqual(2);
  });
});
