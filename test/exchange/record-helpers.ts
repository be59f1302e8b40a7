// What the audit tests of the exchange share: the fake GitHub facts' summary and rate, a network whose issuer and STS
// calls advance the harness clock (so every timing in a data point is exact), and the token hash prefix (helpers.ts).
import { STS_ORIGIN, type Harness } from "../support/broker-harness.ts";

export { sha256Prefix } from "./helpers.ts";

/** blob12 of acme-app-main-deploy: the GitHub facts its requirements were judged on (the fake's seeded state). */
/**
 * GitHub's rate limit after the first exchange: 5000 less its 6 calls with the installation token (repository, runs,
 * jobs, pulls, reviews, permission).
 */
export const RATE_REMAINING = 4994;
export const FACTS =
  "repository id 874563210; job dependency-review=success in run 11122233300 attempt 1 (.github/workflows/dependency-review.yml push main); pr #12 approvals 1/1";

export const ISSUER_LATENCY_MS = 30;
export const STS_LATENCY_MS = 120;

/** Every issuer (JWKS/discovery) call costs 30 ms and every STS call 120 ms of harness time. */
export function withLatency(h: Harness): { issuerCalls: () => number } {
  let issuerCalls = 0;
  h.network.route(h.issuer.issuer, async (request) => {
    issuerCalls += 1;
    h.advance(ISSUER_LATENCY_MS);
    return h.issuer.handler(request);
  });
  h.network.route(STS_ORIGIN, async (request) => {
    h.advance(STS_LATENCY_MS);
    return h.sts.handler(request);
  });
  return { issuerCalls: () => issuerCalls };
}
