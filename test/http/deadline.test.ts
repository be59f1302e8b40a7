// The shared deadline primitive (src/http/deadline.ts): a bounded wait ends with its value, its own timeout or the
// enclosing budget, whichever comes first, and always stops its timer; a budget aborts its signal when spent. Time is
// injected: timers fire when the test says, never by waiting.
import { describe, expect, it } from "vitest";
import { startDeadline, withinMs } from "../../src/http/deadline.ts";
import { manualTimers, settle } from "../support/manual-timers.ts";

const never = () => new Promise<never>(() => undefined);

describe("withinMs", () => {
  it("returns the work's value and cancels its timer", async () => {
    const timers = manualTimers();
    expect(await withinMs(500, async () => 7, { startTimer: timers })).toEqual({ done: true, value: 7 });
    expect(timers.started).toEqual([500]);
    expect(timers.cancelled).toBe(1);
  });

  it("ends as `timeout` when its timer fires, and aborts the work's signal", async () => {
    const timers = manualTimers();
    let seen: AbortSignal | undefined;
    const pending = withinMs(
      500,
      (signal) => {
        seen = signal;
        return never();
      },
      { startTimer: timers },
    );
    timers.fire();
    expect(await pending).toEqual({ done: false, expiry: "timeout" });
    expect(seen?.aborted).toBe(true);
  });

  it("ends as `budget` when the enclosing budget aborts first, even for work that ignores its signal", async () => {
    const timers = manualTimers();
    const budget = new AbortController();
    const pending = withinMs(500, never, { startTimer: timers, budget: budget.signal });
    budget.abort();
    expect(await pending).toEqual({ done: false, expiry: "budget" });
    expect(timers.cancelled).toBe(1);
  });

  it("does not start the work at all when the budget is already spent", async () => {
    const budget = new AbortController();
    budget.abort();
    let started = false;
    const result = await withinMs(
      500,
      async () => {
        started = true;
      },
      { budget: budget.signal, startTimer: manualTimers() },
    );
    expect(result).toEqual({ done: false, expiry: "budget" });
    expect(started).toBe(false);
  });

  it("passes the work's own rejection through", async () => {
    const failing = withinMs(500, async () => Promise.reject(new Error("boom")), { startTimer: manualTimers() });
    await expect(failing).rejects.toThrow("boom");
  });
});

describe("startDeadline", () => {
  it("counts the time left on the injected clock and aborts its signal when its timer fires", async () => {
    let now = 1_000;
    const timers = manualTimers();
    const deadline = startDeadline(8_000, { now: () => now, startTimer: timers });
    expect(timers.started).toEqual([8_000]);
    now += 3_000;
    expect(deadline.remainingMs()).toBe(5_000);
    now += 10_000;
    expect(deadline.remainingMs()).toBe(0);
    expect(deadline.signal.aborted).toBe(false);
    timers.fire();
    await settle();
    expect(deadline.signal.aborted).toBe(true);
  });

  it("cancel stops its timer", () => {
    const timers = manualTimers();
    startDeadline(4_000, { startTimer: timers }).cancel();
    expect(timers.cancelled).toBe(1);
  });
});
