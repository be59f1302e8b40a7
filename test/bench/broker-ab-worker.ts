// The broker for the bench's admission A/B: built from src/ as src/index.ts builds it, except that a request carrying
// `x-bench-admission: off` skips admission (both Durable Object calls). Both arms run in one process with one JIT
// state, so their latency difference is what admission adds. Bundled by esbuild at bench start; never deployed.
// Concurrency 1 only: the switch is module state, read by the admission calls of the request in flight.
import candidatePolicy from "../../policies/candidate.ts";
import policy from "../../policies/index.ts";
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
  // The production admission (broker.ts `durableAdmission`), bypassed while the switch is off.
  admission: (env, context) => {
    const real = createDurableAdmission({ ...context, objectFor: (name) => env.ADMISSION.getByName(name) });
    return {
      limitAddress: (address) => (admissionOff ? Promise.resolve() : real.limitAddress(address)),
      admit: (token, rule) => (admissionOff ? Promise.resolve() : real.admit(token, rule)),
      release: (token) => (admissionOff ? Promise.resolve() : real.release(token)),
    };
  },
});

export default {
  fetch(request, env, ctx) {
    admissionOff = request.headers.get(SWITCH_HEADER) === SWITCHED_OFF;
    return broker.fetch?.(request, env, ctx) ?? new Response(null, { status: 500 });
  },
} satisfies ExportedHandler<Env>;
