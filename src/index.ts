// The Worker's exports and nothing else: the fetch handler and the Durable Object classes.
import policy from "../policies/index.ts";
import { createBroker } from "./broker.ts";

export { AdmissionControl } from "./admission/admission-control.ts";

export default createBroker({
  policy,
  // Late-bound so the runtime's fetch is used as it is at call time.
  fetch: (input, init) => fetch(input, init),
});
