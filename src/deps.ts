// The I/O seams of the broker. Pure stages never touch these; the route wires them together.
// Tests replace each one with an in-process fake.

/** A fetch function: global `fetch` in production, a fake network in tests. */
export type FetchFn = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;

/** Milliseconds since the Unix epoch. Injected so tests drive time explicitly. */
export type Clock = () => number;

/** Waits `ms` milliseconds. Injected so retry tests do not sleep. */
export type Sleep = (ms: number) => Promise<void>;

/** A uniform random number in [0, 1). Injected so backoff jitter is testable. */
export type RandomFn = () => number;

/** One structured log line. Production writes JSON to console (Workers Logs). */
export type LogFn = (line: Record<string, unknown>) => void;
