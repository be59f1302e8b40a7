// A Workers rate-limiting binding (`[[ratelimits]]`, type RateLimit) on an injected clock, for tests that need to
// move time: fixed windows of `periodSeconds` aligned to the epoch, a count per key, refused once the count reaches
// `limit` (as Miniflare's local implementation and the documented `simple` limiter behave). Records every key asked.

/** A RateLimiter (src/admission/address-limit.ts), structurally: this file is also type-checked for Node. */
export interface FakeRateLimiter {
  limit(options: { key: string }): Promise<{ success: boolean }>;
  /** Every key asked, in order. */
  keys: string[];
}

export function createFakeRateLimiter(options: {
  limit: number;
  periodSeconds: number;
  now: () => number;
}): FakeRateLimiter {
  const counts = new Map<string, { window: number; count: number }>();
  const keys: string[] = [];
  return {
    keys,
    async limit({ key }) {
      keys.push(key);
      const window = Math.floor(options.now() / (options.periodSeconds * 1000));
      const entry = counts.get(key);
      const count = entry !== undefined && entry.window === window ? entry.count : 0;
      if (count >= options.limit) return { success: false };
      counts.set(key, { window, count: count + 1 });
      return { success: true };
    },
  };
}
