// Deadlines: the one place in the Worker that starts a timer to bound a wait (an outbound call, a Durable Object call,
// a joined refresh) or a total budget. I/O: timers only, through an injectable StartTimer so tests expire without
// waiting.
import type { Clock, Sleep } from "../deps.ts";

/** A started timer: `expired` resolves when it fires; `cancel` stops it. */
export interface Timer {
  expired: Promise<void>;
  cancel(): void;
}

/** Starts a timer of `ms` milliseconds. Injected so a test can fire it at will. */
export type StartTimer = (ms: number) => Timer;

export const realTimer: StartTimer = (ms) => {
  let id: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<void>((resolve) => {
    id = setTimeout(resolve, ms);
  });
  return { expired, cancel: () => (id === undefined ? undefined : clearTimeout(id)) };
};

/** Waits `ms` on the real timer (the STS backoff's default sleep). */
export const realSleep: Sleep = (ms) => realTimer(ms).expired;

/** Why a bounded wait ended without its value: its own timer fired, or the enclosing budget was spent. */
export type Expiry = "timeout" | "budget";

export type Bounded<T> = { done: true; value: T } | { done: false; expiry: Expiry };

export interface BoundOptions {
  /** The enclosing budget: when it aborts, the wait ends as `budget`. */
  budget?: AbortSignal | undefined;
  startTimer?: StartTimer | undefined;
}

/** A promise that settles when `signal` aborts (never, when there is none); `off` removes its listener. */
function whenAborted(signal: AbortSignal | undefined): { aborted: Promise<void>; off(): void } {
  if (signal === undefined) return { aborted: new Promise<void>(() => undefined), off: () => undefined };
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = () => resolve();
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  return { aborted, off: () => signal.removeEventListener("abort", onAbort) };
}

/**
 * Runs `work` with a signal that aborts after `ms` or with the budget, and races it: work that ignores its signal
 * (a fetch implementation, a body that trickles, a Durable Object that never answers) still loses. `work`'s own
 * rejection propagates; a late settlement after expiry is ignored.
 */
export async function withinMs<T>(
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
  options: BoundOptions = {},
): Promise<Bounded<T>> {
  if (options.budget?.aborted === true) return { done: false, expiry: "budget" };
  const controller = new AbortController();
  const signal =
    options.budget === undefined ? controller.signal : AbortSignal.any([options.budget, controller.signal]);
  const timer = (options.startTimer ?? realTimer)(Math.max(0, ms));
  const budget = whenAborted(options.budget);
  try {
    return await Promise.race<Bounded<T>>([
      work(signal).then((value) => ({ done: true, value })),
      timer.expired.then(() => ({ done: false, expiry: "timeout" })),
      budget.aborted.then(() => ({ done: false, expiry: "budget" })),
    ]);
  } finally {
    timer.cancel();
    budget.off();
    // Whatever is still running for this wait is abandoned: tell it.
    controller.abort(new DOMException("deadline passed", "TimeoutError"));
  }
}

/** A total budget across several calls or attempts: a signal that aborts when it is spent, and the time left. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** Milliseconds left by the clock (never negative). */
  remainingMs(): number;
  /** Stops the timer: call when the work it bounds is over. */
  cancel(): void;
}

export interface DeadlineOptions {
  /** Defaults to Date.now; the STS retry loop passes its injected clock. */
  now?: Clock | undefined;
  startTimer?: StartTimer | undefined;
}

/** Starts a budget of `ms` milliseconds. */
export function startDeadline(ms: number, options: DeadlineOptions = {}): Deadline {
  const now = options.now ?? Date.now;
  const endsAt = now() + ms;
  const controller = new AbortController();
  const timer = (options.startTimer ?? realTimer)(Math.max(0, ms));
  timer.expired.then(() => controller.abort(new DOMException("budget spent", "TimeoutError")));
  return {
    signal: controller.signal,
    remainingMs: () => Math.max(0, endsAt - now()),
    cancel: () => timer.cancel(),
  };
}
