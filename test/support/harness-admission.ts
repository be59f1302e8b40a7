// The harness broker's admission: the real Durable Object admission and address limit, on objects of its own, with
// fake rate-limiting bindings on the harness clock and failures a test injects (a rejecting, overloaded or hanging
// object), whose timeouts fire at once.
import { env } from "cloudflare:workers";
import type { AdmissionControl } from "../../src/admission/admission-control.ts";
import { createAddressLimit, type RateLimiter } from "../../src/admission/address-limit.ts";
import { createDurableAdmission, type DurableAdmissionOptions } from "../../src/admission/durable-admission.ts";
import type { BrokerOptions } from "../../src/broker.ts";
import {
  ADDRESS_LIMIT_PER_PERIOD,
  ADDRESS_LIMIT_PERIOD_SECONDS,
  NETWORK_LIMIT_PER_PERIOD,
} from "../../src/admission/constants.ts";
import { createFakeRateLimiter, type FakeRateLimiter } from "./fake-rate-limiter.ts";

/**
 * Admission limits and timeout for a harness broker (defaults: src/admission/constants.ts). The address limits are
 * requests per
 * ADDRESS_LIMIT_PERIOD_SECONDS window, counted by fake bindings on the harness clock; `realAddressLimiters` uses
 * the real bindings (env.ADDRESS_LIMITER / NETWORK_LIMITER, Miniflare's, on the wall clock) instead.
 */
export type HarnessAdmissionOptions = Pick<DurableAdmissionOptions, "repositoryLimit" | "timeoutMs"> & {
  addressLimit?: number;
  networkLimit?: number;
  realAddressLimiters?: boolean;
};

/**
 * An admission failure to inject: the object call rejects (`throw`), rejects as overloaded (`overloaded`), or never
 * answers (`hang`: the call's timeout then fires at once, no waiting). `target` picks which objects fail.
 */
export type AdmissionFault = {
  mode: "throw" | "overloaded" | "hang";
  target?: "repository" | "address" | "all";
} | null;

export interface HarnessAdmission {
  /** The broker's `admission` option. */
  admission: NonNullable<BrokerOptions["admission"]>;
  /** The fake rate-limiting bindings of the address limit (unused with `realAddressLimiters`). */
  addressLimiters: { address: FakeRateLimiter; network: FakeRateLimiter };
  /** Makes admission calls fail until called again with null. */
  failAdmission(fault: AdmissionFault): void;
  /** The real AdmissionControl object this broker uses under `name`. */
  admissionObject(name: string): DurableObjectStub<AdmissionControl>;
}

/** The fault in force, and how to expire the timeout of the admission call in progress. */
interface FaultState {
  fault: AdmissionFault;
  /** A hanging object calls it, so the call's timeout fires without waiting. */
  expireCurrentCall: () => void;
}

type FaultMode = NonNullable<AdmissionFault>["mode"];

/** The mode of the fault in force when it targets `target`'s objects. */
function faultOn(faults: FaultState, target: "repository" | "address"): FaultMode | undefined {
  const targeted = faults.fault?.target ?? "all";
  return faults.fault !== null && (targeted === "all" || targeted === target) ? faults.fault.mode : undefined;
}

/** A call that fails as `mode` says (a hang expires the call's timeout at once). */
function failing(faults: FaultState, mode: FaultMode): () => Promise<never> {
  return () => {
    if (mode === "hang") {
      faults.expireCurrentCall();
      return new Promise<never>(() => undefined);
    }
    const error = new Error("Durable Object is overloaded.");
    if (mode === "overloaded") Object.assign(error, { overloaded: true, retryable: false });
    return Promise.reject(error);
  };
}

/** A fake address limiter that fails while a fault targets the address limit. */
function faultyLimiter(faults: FaultState, fake: FakeRateLimiter): RateLimiter {
  return {
    limit: (request) => {
      const mode = faultOn(faults, "address");
      return mode === undefined ? fake.limit(request) : failing(faults, mode)();
    },
  };
}

export function createHarnessAdmission(
  options: HarnessAdmissionOptions | undefined,
  now: () => number,
): HarnessAdmission {
  // Every harness gets admission objects of its own: test files share local Durable Object storage, and each
  // harness starts its clock at the same instant, so shared buckets or reservations would leak between tests.
  const admissionPrefix = `test-${crypto.randomUUID()}:`;
  const faults: FaultState = { fault: null, expireCurrentCall: () => undefined };
  const addressLimiters = {
    address: createFakeRateLimiter({
      limit: options?.addressLimit ?? ADDRESS_LIMIT_PER_PERIOD,
      periodSeconds: ADDRESS_LIMIT_PERIOD_SECONDS,
      now,
    }),
    network: createFakeRateLimiter({
      limit: options?.networkLimit ?? NETWORK_LIMIT_PER_PERIOD,
      periodSeconds: ADDRESS_LIMIT_PERIOD_SECONDS,
      now,
    }),
  };
  const real = options?.realAddressLimiters === true;
  return {
    admission: (workerEnv, context) => {
      const bounded = {
        timeoutMs: options?.timeoutMs,
        // The real timer, except that a hanging object expires it at once: the timeout path without the wait.
        startTimeout: (ms: number) => {
          let id: ReturnType<typeof setTimeout> | undefined;
          const expired = new Promise<void>((resolve) => {
            faults.expireCurrentCall = resolve;
            id = setTimeout(resolve, ms);
          });
          return { expired, cancel: () => (id === undefined ? undefined : clearTimeout(id)) };
        },
      };
      return {
        ...createDurableAdmission({
          ...context,
          ...bounded,
          repositoryLimit: options?.repositoryLimit,
          namePrefix: admissionPrefix,
          objectFor: (name) => {
            const fault = faultOn(faults, "repository");
            if (fault !== undefined) return { admit: failing(faults, fault), release: failing(faults, fault) };
            return workerEnv.ADMISSION.getByName(name);
          },
        }),
        limitAddress: createAddressLimit({
          ...bounded,
          log: context.log,
          keyPrefix: admissionPrefix,
          address: real ? workerEnv.ADDRESS_LIMITER : faultyLimiter(faults, addressLimiters.address),
          network: real ? workerEnv.NETWORK_LIMITER : faultyLimiter(faults, addressLimiters.network),
        }),
      };
    },
    addressLimiters,
    failAdmission: (fault) => {
      faults.fault = fault;
    },
    admissionObject: (name) => env.ADMISSION.getByName(admissionPrefix + name),
  };
}
