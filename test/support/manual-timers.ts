// Timers a test fires by hand, for every StartTimer the broker takes (src/http/deadline.ts): a timeout or a budget
// expires when the test says, never by waiting on the wall clock. Platform-neutral.
import type { StartTimer } from "../../src/http/deadline.ts";

export interface ManualTimers extends StartTimer {
  /** The duration each timer was started with, in order. */
  readonly started: number[];
  /** How many timers were cancelled. */
  cancelled: number;
  /** Fires timer `index` (default: the last started). */
  fire(index?: number): void;
  /** Fires every timer started so far. */
  fireAll(): void;
}

export function manualTimers(): ManualTimers {
  const fires: Array<() => void> = [];
  const started: number[] = [];
  const start: StartTimer = (ms) => {
    started.push(ms);
    let fire: () => void = () => undefined;
    const expired = new Promise<void>((resolve) => (fire = resolve));
    fires.push(fire);
    return { expired, cancel: () => (timers.cancelled += 1) };
  };
  const timers = Object.assign(start, {
    started,
    cancelled: 0,
    fire: (index?: number) => fires[index ?? fires.length - 1]?.(),
    fireAll: () => {
      for (const fire of fires) fire();
    },
  });
  return timers;
}

/** Lets pending promise callbacks run (a fired timer's consequences), without any wall-clock wait. */
export async function settle(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i += 1) await Promise.resolve();
}
