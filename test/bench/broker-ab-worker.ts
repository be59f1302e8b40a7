// The broker for the bench's admission A/B: built from src/ as src/index.ts builds it, except that a request carrying
// `x-bench-admission: off` skips admission (the address limit's binding call and the repository's Durable Object call).
// Both arms run in one process with one JIT
// state, so their latency difference is what admission adds. Bundled by esbuild at bench start; never deployed.
// Concurrency 1 only: the switch is module state, read by the admission calls of the request in flight.
import candidatePolicy from "../fixtures/policies/candidate.ts";
import policy from "../fixtures/policies/index.ts";
import { createAddressLimit } from "../../src/admission/address-limit.ts";
import { createDurableAdmission } from "../../src/admission/durable-admission.ts";
import { createBroker } from "../../src/broker.ts";

export { AdmissionControl } from "../../src/admission/admission-control.ts";

/** The header that switches admission off for one request, and its value. */
const SWITCH_HEADER = "x-bench-admission";
const SWITCHED_OFF = "off";

let admissionOff = false;

const broker = createBroker({
  policy,
  candidatePolicy,
  fetch: (input, init) => fetch(input, init),
  // The production admission (broker.ts `productionAdmission`), bypassed while the switch is off.
  admission: (env, context) => {
    const real = createDurableAdmission({ ...context, objectFor: (name) => env.ADMISSION.getByName(name) });
    const limitAddress = createAddressLimit({
      log: context.log,
      address: env.ADDRESS_LIMITER,
      network: env.NETWORK_LIMITER,
    });
    return {
      limitAddress: (address) => (admissionOff ? Promise.resolve() : limitAddress(address)),
      admit: (token, rule, holder) => (admissionOff ? Promise.resolve() : real.admit(token, rule, holder)),
      release: (token, holder) => (admissionOff ? Promise.resolve() : real.release(token, holder)),
    };
  },
});

export default {
  fetch(request, env, ctx) {
    admissionOff = request.headers.get(SWITCH_HEADER) === SWITCHED_OFF;
    return broker.fetch?.(request, env, ctx) ?? new Response(null, { status: 500 });
  },
} satisfies ExportedHandler<Env>;
