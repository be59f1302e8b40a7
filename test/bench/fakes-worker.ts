// The benchmark's fakes as a Worker: the fake issuer (discovery + JWKS), the STS emulator (SigV4 verified by AWS's
// signer) and the trivial_fetch Worker's echo, served inside the same workerd as the Worker under test, which names
// this Worker as its outbound service: every fetch it makes lands here, no hop to Node. Bundled by esbuild at bench
// start (bundle.ts `bundleWorker`); configured per run through the FAKES binding (fakes-api.ts `FakesConfig`).
// It also serves the broker's rate-limiting bindings by default (RateLimiterStandIn below).
import { WorkerEntrypoint } from "cloudflare:workers";
import { createFakeIssuer, type FakeIssuer } from "../../sandbox/fakes/fake-issuer.ts";
import { createFakeNetwork, type FakeNetwork } from "../support/fake-network.ts";
import { createStsEmulator, type StsEmulator } from "../../sandbox/fakes/sts-emulator.ts";
import { WebCryptoSha256 } from "../support/webcrypto-sha256.ts";
import { FAKES_CONTROL_ORIGIN, FORWARDED_ORIGIN_HEADER, type FakesConfig, type FakesStats } from "./fakes-api.ts";

// workerd accepts only handlers among a Worker module's exports: the shared shapes live in fakes-api.ts.

/** Counts per binding namespace and key, in fixed windows: the `simple` rate limiter's documented behaviour. */
const rateWindows = new Map<string, { window: number; count: number }>();

/**
 * A rate-limiting binding (`limit({ key })`) for the broker, reached by RPC over a service binding: one call into
 * another isolate of the same process and a counter in memory. In production the binding answers from a cache on the
 * machine that runs the Worker; Miniflare's own implementation (bench --ratelimit=miniflare) is a Durable Object with
 * on-disk SQLite per call, which would price a local test double instead of the broker (test/bench/README.md).
 */
export class RateLimiterStandIn extends WorkerEntrypoint<
  unknown,
  { namespace: string; limit: number; period: number }
> {
  limit({ key }: { key: string }): { success: boolean } {
    const { namespace, limit, period } = this.ctx.props;
    const id = `${namespace}\u0000${key}`;
    const window = Math.floor(Date.now() / (period * 1000));
    const entry = rateWindows.get(id);
    const count = entry !== undefined && entry.window === window ? entry.count : 0;
    if (count >= limit) return { success: false };
    rateWindows.set(id, { window, count: count + 1 });
    return { success: true };
  }
}

interface Fakes {
  network: FakeNetwork;
  issuer: FakeIssuer;
  sts: StsEmulator;
  requests: Map<string, number>;
  failures: Map<string, number>;
}

let fakes: Promise<Fakes> | undefined;

async function build(config: FakesConfig): Promise<Fakes> {
  const issuer = await createFakeIssuer({ issuer: config.issuer, audience: config.audience });
  // The issuer's own generated key never signs anything here: Node mints with the key whose public half is served.
  issuer.setJwks(config.jwks);
  const sts = createStsEmulator({
    now: Date.now,
    principals: [config.principal],
    region: config.region,
    ...(config.stsHash === "js" ? {} : { sha256: WebCryptoSha256 }),
  });
  const echoBody = "x".repeat(config.echoResponseBytes);
  const network = createFakeNetwork({
    [config.issuer]: issuer.handler,
    [config.stsOrigin]: sts.handler,
    [config.echoOrigin]: async (request) => {
      await request.arrayBuffer();
      return new Response(echoBody, { headers: { "content-type": "text/xml" } });
    },
  });
  return { network, issuer, sts, requests: new Map(), failures: new Map() };
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function stats(state: Fakes): FakesStats {
  return {
    requests: Object.fromEntries(state.requests),
    failures: Object.fromEntries(state.failures),
    sts_requests: state.sts.requestCount,
    assume_role_calls: state.sts.assumeRoleCalls.length,
    jwks_fetches: state.issuer.fetchCount,
  };
}

/**
 * A request forwarded over loopback (fakes in their own process) as the measured Worker sent it: its origin and Host.
 */
function restoreForwarded(request: Request): Request {
  const origin = request.headers.get(FORWARDED_ORIGIN_HEADER);
  if (origin === null) return request;
  const url = new URL(request.url);
  const headers = new Headers(request.headers);
  headers.delete(FORWARDED_ORIGIN_HEADER);
  headers.delete("host");
  return new Request(`${origin}${url.pathname}${url.search}`, {
    method: request.method,
    headers,
    body: request.body,
    redirect: "manual",
  });
}

export default {
  async fetch(incoming: Request, env: { FAKES: FakesConfig }): Promise<Response> {
    fakes ??= build(env.FAKES);
    const state = await fakes;
    const request = restoreForwarded(incoming);
    const url = new URL(request.url);
    if (url.origin === FAKES_CONTROL_ORIGIN) {
      return url.pathname === "/stats" ? Response.json(stats(state)) : new Response("not found", { status: 404 });
    }
    count(state.requests, url.origin);
    try {
      const response = await state.network.fetch(request);
      if (response.status >= 500) count(state.failures, url.origin);
      return response;
    } catch (error) {
      count(state.failures, url.origin);
      throw error;
    }
  },
};
