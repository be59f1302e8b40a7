// A per-isolate memo for GitHub lookups: values kept until their own expiry, and single flight (concurrent callers
// of one key share one lookup). A rejected lookup is shared by its concurrent callers but never remembered.
// No I/O; the clock is injected.
import type { Clock } from "../deps.ts";

export interface Memo<T> {
  /**
   * The remembered value, or one lookup shared by every concurrent caller; `keep` says whether (and until when) to
   * remember it.
   */
  get(key: string, lookup: () => Promise<T>, keep: (value: T) => number | undefined): Promise<T>;
  /** Forgets a key (e.g. a token GitHub refused). */
  delete(key: string): void;
  readonly size: number;
}

export function createMemo<T>(now: Clock, maxEntries: number): Memo<T> {
  const values = new Map<string, { value: T; until: number }>();
  const inflight = new Map<string, Promise<T>>();
  return {
    get size() {
      return values.size;
    },
    delete(key) {
      values.delete(key);
    },
    get(key, lookup, keep) {
      const held = values.get(key);
      if (held !== undefined) {
        if (held.until > now()) return Promise.resolve(held.value);
        values.delete(key);
      }
      const running = inflight.get(key);
      if (running !== undefined) return running;
      const started = (async () => {
        try {
          const value = await lookup();
          const until = keep(value);
          if (until !== undefined && until > now()) {
            // Bounded: drop the oldest insertion when full (Map keeps insertion order).
            if (values.size >= maxEntries) values.delete(values.keys().next().value as string);
            values.set(key, { value, until });
          }
          return value;
        } finally {
          inflight.delete(key);
        }
      })();
      inflight.set(key, started);
      return started;
    },
  };
}
