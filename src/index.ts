// The request Worker's exports and nothing else: the fetch handler and the Durable Object classes. The alert cron is a
// Worker of its own (src/alerts/worker.ts).
import policy from "../policies/index.ts";
import { createBroker } from "./broker.ts";

export { AdmissionControl } from "./admission/admission-control.ts";

// The shadow candidate is optional: a glob import (esbuild bundles policies/candidate.ts when it exists, and nothing
// when it does not), resolved while the module loads. No file: no shadow policy, and SHADOW_POLICY = "on" logs that.
const candidateSuffix: string = "";
const candidatePolicy = await import(`../policies/candidate${candidateSuffix}.ts`).then(
  (module: { default: unknown }) => module.default as Parameters<typeof createBroker>[0]["policy"],
  () => undefined,
);

export default createBroker({
  policy,
  // Shadow mode only when the var SHADOW_POLICY is "on"; otherwise never compiled.
  ...(candidatePolicy === undefined ? {} : { candidatePolicy }),
  // Late-bound so the runtime's fetch is used as it is at call time.
  fetch: (input, init) => fetch(input, init),
});
