// The Worker's exports and nothing else: the fetch and scheduled (alert cron) handlers, and the Durable Object classes.
import candidatePolicy from "../policies/candidate.ts";
import policy from "../policies/index.ts";
import { createBroker } from "./broker.ts";

export { AdmissionControl } from "./admission/admission-control.ts";

export default createBroker({
  policy,
  // Shadow mode only when the var SHADOW_POLICY is "on"; otherwise never compiled.
  candidatePolicy,
  // Late-bound so the runtime's fetch is used as it is at call time.
  fetch: (input, init) => fetch(input, init),
});
