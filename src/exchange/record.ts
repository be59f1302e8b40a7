// How an exchange ends: a failure becomes its public answer (code and reason in the event, a bug's detail in the log),
// and every answer is recorded in the audit trail without delaying or changing it.
import { outcomeFor, type ExchangeEvent } from "../audit/event.ts";
import { BrokerError } from "../errors.ts";
import { errorResponse } from "../http/respond.ts";
import type { ExchangeDeps } from "./context.ts";

/** Any thrown value becomes a BrokerError; unknown ones are internal errors (their detail stays in the log). */
export function asBrokerError(error: unknown): BrokerError {
  if (error instanceof BrokerError) return error;
  return new BrokerError("internal_error", "unhandled_exception", { cause: error });
}

/** A failure's response, its code and reason in the event; a bug's detail goes to the log only. */
export function failureResponse(thrown: unknown, deps: ExchangeDeps, event: ExchangeEvent): Response {
  const error = asBrokerError(thrown);
  if (!(thrown instanceof BrokerError)) {
    // A bug, not a client mistake: keep what a maintainer needs, in the log only.
    deps.log({
      message: "unhandled_exception",
      request_id: event.request_id,
      error: thrown instanceof Error ? thrown.name : typeof thrown,
      detail: thrown instanceof Error ? thrown.message : undefined,
    });
  }
  event.code = error.code;
  event.reason = error.reason;
  return errorResponse(error, event.request_id);
}

/** Completes the event with the answer and writes it, never awaited: recording must not delay or change the answer. */
export function recordExchange(
  deps: ExchangeDeps,
  event: ExchangeEvent,
  response: Response,
  started: number,
): Response {
  event.status = response.status;
  event.outcome = outcomeFor(response.status, event.code);
  event.total_ms = deps.now() - started;
  try {
    // composeSinks (src/audit/sinks.ts) logs sink failures; this guard only keeps a bare sink from changing the
    // response or leaving a rejection unhandled.
    const pending = deps.audit.write(event);
    if (pending instanceof Promise) pending.catch(() => undefined);
  } catch {
    // Recording must never change the answer.
  }
  return response;
}
