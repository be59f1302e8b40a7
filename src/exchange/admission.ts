// The exchanges' admission steps (src/admission/ does the work): each one's time adds to the event's `admission_ms`.
import type { Admission, AdmissionRule } from "../admission/admission.ts";
import type { ExchangeEvent } from "../audit/event.ts";
import type { Clock } from "../deps.ts";
import type { VerifiedToken } from "../oidc/verify.ts";

/** The part of ExchangeDeps (context.ts) these steps use. */
interface AdmissionDeps {
  admission: Admission;
  now: Clock;
}

/** Runs one admission step, adding its duration to `admission_ms` whatever the outcome. */
export async function timed(
  deps: Pick<AdmissionDeps, "now">,
  event: ExchangeEvent,
  step: () => Promise<void>,
): Promise<void> {
  const started = deps.now();
  try {
    await step();
  } finally {
    event.admission_ms = (event.admission_ms ?? 0) + (deps.now() - started);
  }
}

/**
 * After the decision: the token's single use and one issuance from `rule`'s bucket of its repository. A denied or
 * invalid token never gets here, so it never consumes the repository's budget.
 */
export function admit(
  deps: AdmissionDeps,
  event: ExchangeEvent,
  verified: VerifiedToken,
  rule: AdmissionRule,
  requestId: string,
): Promise<void> {
  return timed(deps, event, () => deps.admission.admit(verified, rule, requestId));
}
