// Shadow mode: a candidate policy decided beside the live one; a difference is logged, never answered.
import type { ExchangeEvent } from "../audit/event.ts";
import type { ExchangeDeps } from "./context.ts";

/**
 * Shadow mode: one `policy_shadow` log line when `diff` finds the candidate decides differently. Never throws, never
 * answers.
 */
export function compareShadow(deps: ExchangeDeps, event: ExchangeEvent, diff: () => object | undefined): void {
  try {
    const found = diff();
    if (found !== undefined) {
      deps.log({
        message: "policy_shadow",
        request_id: event.request_id,
        issuer: event.issuer,
        repository: event.repository,
        ref: event.ref,
        event_name: event.event_name,
        ...found,
      });
    }
  } catch (error) {
    deps.log({
      message: "policy_shadow_failed",
      request_id: event.request_id,
      error: error instanceof Error ? error.name : typeof error,
    });
  }
}
