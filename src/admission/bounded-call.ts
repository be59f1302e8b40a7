// One admission call under a timeout, failing closed: an exception, an overload or a timeout is
// `upstream_unavailable` (503, `admission_unavailable`), never credentials. Shared by the repository's Durable Object
// calls (durable-admission.ts) and the address limit's binding calls (address-limit.ts). I/O only through `run`.
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../http/constants.ts";
import { ADMISSION_CALL_TIMEOUT_MS } from "./constants.ts";
import type { LogFn } from "../deps.ts";
import { BrokerError } from "../errors.ts";

/** A started timeout: `expired` resolves when it fires; `cancel` stops it. */
export interface Timeout {
  expired: Promise<void>;
  cancel(): void;
}

export interface BoundedCallOptions {
  /** Per call; default ADMISSION_CALL_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Starts a timeout; default setTimeout. Injected so a test can expire a hanging call without waiting. */
  startTimeout?: (ms: number) => Timeout;
  log?: LogFn;
}

export const realTimeout = (ms: number): Timeout => {
  let id: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<void>((resolve) => {
    id = setTimeout(resolve, ms);
  });
  return { expired, cancel: () => (id === undefined ? undefined : clearTimeout(id)) };
};

const TIMED_OUT = Symbol("timed out");

export function unavailable(cause: unknown): BrokerError {
  return new BrokerError("upstream_unavailable", "admission_unavailable", {
    retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS,
    cause,
  });
}

/** Runs `run` under the timeout; every failure is logged (names and flags only) and becomes `admission_unavailable`. */
export async function boundedCall<T>(
  object: "repository" | "address",
  run: () => Promise<T>,
  options: BoundedCallOptions,
): Promise<T> {
  const timeout = (options.startTimeout ?? realTimeout)(options.timeoutMs ?? ADMISSION_CALL_TIMEOUT_MS);
  let failure: unknown;
  try {
    const result = await Promise.race([run(), timeout.expired.then(() => TIMED_OUT)]);
    if (result !== TIMED_OUT) return result as T;
    failure = TIMED_OUT;
  } catch (error) {
    failure = error;
  } finally {
    timeout.cancel();
  }
  // Names and flags only: a runtime error's message may carry the object's name.
  options.log?.({
    message: "admission_unavailable",
    object,
    error: failure === TIMED_OUT ? "timeout" : failure instanceof Error ? failure.name : typeof failure,
    overloaded: (failure as { overloaded?: unknown } | undefined)?.overloaded === true,
  });
  throw unavailable(failure === TIMED_OUT ? "timeout" : failure);
}
