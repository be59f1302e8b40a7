// The pre-authentication limit per client address, on the Workers rate-limiting bindings (wrangler.toml
// [[ratelimits]]): counters local to the Cloudflare location that serves the request, no Durable Object round trip,
// no object per runner address (docs/performance.md says why). Runs before any signature work
// (src/exchange/context.ts).
// I/O only through the injected limiters. Fails closed like the rest of admission: a limiter that throws, hangs or
// is not bound answers 503 `admission_unavailable`, never credentials.
import { ADDRESS_LIMIT_PERIOD_SECONDS } from "./constants.ts";
import { BrokerError } from "../errors.ts";
import type { Admission } from "./admission.ts";
import { boundedCall, type BoundedCallOptions } from "./bounded-call.ts";
import { addressKeys } from "./client-address.ts";

/** The part of a rate-limiting binding we use (`RateLimit` in @cloudflare/workers-types); tests pass fakes. */
export interface RateLimiter {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

export interface AddressLimitOptions extends BoundedCallOptions {
  /** Per IPv4 address or IPv6 /64 (binding ADDRESS_LIMITER). Undefined: not bound, every request fails closed. */
  address: RateLimiter | undefined;
  /** Per enclosing IPv6 /48 (binding NETWORK_LIMITER), asked only for IPv6 clients. Undefined: as above. */
  network: RateLimiter | undefined;
  /** Prepended to every key: "" in production; lets each test broker have counters of its own. */
  keyPrefix?: string;
  /** Retry-After of a refusal: the bindings' window (fixed windows: the count restarts within one). */
  retryAfterSeconds?: number;
}

export function createAddressLimit(options: AddressLimitOptions): Admission["limitAddress"] {
  const prefix = options.keyPrefix ?? "";
  const retryAfterSeconds = options.retryAfterSeconds ?? ADDRESS_LIMIT_PERIOD_SECONDS;

  async function ask(limiter: RateLimiter | undefined, key: string): Promise<boolean> {
    if (limiter === undefined) throw new Error("rate-limiting binding missing");
    const outcome = await limiter.limit({ key: prefix + key });
    if (typeof outcome?.success !== "boolean") throw new Error("rate-limiting binding answered without success");
    return outcome.success;
  }

  return async (cfConnectingIp) => {
    const keys = addressKeys(cfConnectingIp);
    // IPv6: both counters at once (they are independent); each request counts against both.
    const allowed = await boundedCall(
      "address",
      () =>
        keys.network === undefined
          ? ask(options.address, keys.address)
          : Promise.all([ask(options.address, keys.address), ask(options.network, keys.network)]).then(
              ([a, n]) => a && n,
            ),
      options,
    );
    if (!allowed) throw new BrokerError("rate_limited", "rate_limited_address", { retryAfterSeconds });
  };
}
