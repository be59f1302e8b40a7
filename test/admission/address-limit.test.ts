// The address limit against scripted rate-limiting bindings: which keys it asks (the address or /64, and for IPv6
// the enclosing /48), how a refusal becomes 429 with Retry-After, and that every failure of a binding fails closed.
import { describe, expect, it } from "vitest";
import { createAddressLimit, type RateLimiter } from "../../src/admission/address-limit.ts";
import { ADDRESS_LIMIT_PERIOD_SECONDS, ADMISSION_CALL_TIMEOUT_MS } from "../../src/admission/constants.ts";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../../src/http/constants.ts";
import type { BrokerError } from "../../src/errors.ts";
import { brokerFailure } from "../support/broker-failure.ts";

function scripted(
  answer: (key: string) => Promise<{ success: boolean }> = async () => ({ success: true }),
): RateLimiter & { keys: string[] } {
  const keys: string[] = [];
  return {
    keys,
    limit: ({ key }) => {
      keys.push(key);
      return answer(key);
    },
  };
}

const failure = brokerFailure;

const summary = (error: BrokerError) => ({
  code: error.code,
  reason: error.reason,
  retryAfterSeconds: error.retryAfterSeconds,
});

describe("createAddressLimit: keys", () => {
  it.each([
    ["192.0.2.1", ["p:v4:192.0.2.1"], []],
    ["::ffff:192.0.2.1", ["p:v4:192.0.2.1"], []],
    ["2001:db8:1:2::7", ["p:v6:2001:db8:1:2::/64"], ["p:v6:2001:db8:1::/48"]],
    [null, ["p:unknown"], []],
    ["not an address", ["p:unknown"], []],
  ])("%s -> address %j, /48 %j", async (input, addressKeys, networkKeys) => {
    const address = scripted();
    const network = scripted();
    await createAddressLimit({ address, network, keyPrefix: "p:" })(input);
    expect(address.keys).toEqual(addressKeys);
    expect(network.keys).toEqual(networkKeys);
  });
});

describe("createAddressLimit: answers", () => {
  it(`a refusal of the address -> 429 rate_limited_address, Retry-After one window (${ADDRESS_LIMIT_PERIOD_SECONDS} s)`, async () => {
    const limit = createAddressLimit({ address: scripted(async () => ({ success: false })), network: scripted() });
    expect(summary(await failure(limit("192.0.2.1")))).toEqual({
      code: "rate_limited",
      reason: "rate_limited_address",
      retryAfterSeconds: ADDRESS_LIMIT_PERIOD_SECONDS,
    });
  });

  it("a refusal of the /48 alone refuses an IPv6 client, whose /64 still had room", async () => {
    const limit = createAddressLimit({ address: scripted(), network: scripted(async () => ({ success: false })) });
    expect((await failure(limit("2001:db8:1:2::7"))).reason).toBe("rate_limited_address");
    await limit("192.0.2.1"); // IPv4 never asks the /48 limiter
  });
});

describe("createAddressLimit: fails closed", () => {
  const unavailable = {
    code: "upstream_unavailable",
    reason: "admission_unavailable",
    retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS,
  };

  it.each([
    ["throws", { address: scripted(() => Promise.reject(new Error("limiter down"))), network: scripted() }],
    ["answers without success", { address: scripted(async () => ({}) as { success: boolean }), network: scripted() }],
    ["is not bound", { address: undefined, network: scripted() }],
  ])("the address binding %s -> 503 admission_unavailable, logged by name only", async (_label, limiters) => {
    const logs: Array<Record<string, unknown>> = [];
    const error = await failure(createAddressLimit({ ...limiters, log: (line) => logs.push(line) })("192.0.2.1"));
    expect(summary(error)).toEqual(unavailable);
    expect(logs).toEqual([{ message: "admission_unavailable", object: "address", error: "Error", overloaded: false }]);
  });

  it("no NETWORK_LIMITER binding fails IPv6 clients closed", async () => {
    expect(
      summary(await failure(createAddressLimit({ address: scripted(), network: undefined })("2001:db8::1"))),
    ).toEqual(unavailable);
  });

  it(`a binding that does not answer within ADMISSION_CALL_TIMEOUT_MS (${ADMISSION_CALL_TIMEOUT_MS} ms) -> 503`, async () => {
    let fire: () => void = () => undefined;
    const started: number[] = [];
    const limit = createAddressLimit({
      address: scripted(() => new Promise<never>(() => undefined)),
      network: scripted(),
      startTimeout: (ms) => {
        started.push(ms);
        return { expired: new Promise<void>((resolve) => (fire = resolve)), cancel: () => undefined };
      },
    });
    const pending = failure(limit("192.0.2.1"));
    fire();
    expect(summary(await pending)).toEqual(unavailable);
    expect(started).toEqual([ADMISSION_CALL_TIMEOUT_MS]);
  });
});
