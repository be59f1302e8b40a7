// The Worker's side of admission control: picks the Durable Object, makes the one RPC call with a timeout, and turns
// its answer into a BrokerError. I/O only through the injected `objectFor`; time from the injected clock.
//
// Fail closed: an exception, an overload, a timeout or an answer we do not recognise is `upstream_unavailable`
// (503, `admission_unavailable`), never credentials. The call is not retried: a call that committed before failing
// would make its retry answer `token_reused` to an honest client.
import {
  ADDRESS_BURST,
  ADDRESS_LEASE_MS,
  ADDRESS_LEASE_TOKENS,
  ADDRESS_RATE_PER_MINUTE,
  ADMISSION_CALL_TIMEOUT_MS,
  DEFAULT_REPOSITORY_BURST,
  DEFAULT_REPOSITORY_RATE_PER_MINUTE,
  MAX_ADDRESS_LEASES,
  UPSTREAM_RETRY_AFTER_SECONDS,
} from "../constants.ts";
import type { Clock, LogFn } from "../deps.ts";
import { BrokerError } from "../errors.ts";
import type { Admission, AdmissionRule } from "../exchange.ts";
import { claimSubject } from "../oidc/claims.ts";
import type { VerifiedToken } from "../oidc/verify.ts";
import type { AdmitRequest, AdmitResult, ReleaseRequest, ReleaseResult, ThrottleRequest, ThrottleResult } from "./admission-control.ts";
import { addressKey } from "./client-address.ts";
import type { BucketLimit } from "./token-bucket.ts";

/** The RPC surface of one AdmissionControl object; a `DurableObjectStub<AdmissionControl>` in production. */
export interface AdmissionRpc {
  admit(request: AdmitRequest): Promise<AdmitResult>;
  throttle(request: ThrottleRequest): Promise<ThrottleResult>;
  release(request: ReleaseRequest): Promise<ReleaseResult>;
}

/** A started timeout: `expired` resolves when it fires; `cancel` stops it. */
export interface Timeout {
  expired: Promise<void>;
  cancel(): void;
}

export interface DurableAdmissionOptions {
  /** The object with this name, e.g. `(name) => env.ADMISSION.getByName(name)`. */
  objectFor: (name: string) => AdmissionRpc;
  now: Clock;
  log?: LogFn;
  /** Per call; default ADMISSION_CALL_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Starts a timeout; default setTimeout. Injected so a test can expire a hanging call without waiting. */
  startTimeout?: (ms: number) => Timeout;
  /** Bucket of a rule without its own `rateLimit`; default DEFAULT_REPOSITORY_RATE_PER_MINUTE / DEFAULT_REPOSITORY_BURST. */
  repositoryLimit?: BucketLimit;
  /** Pre-authentication bucket per client address; default ADDRESS_RATE_PER_MINUTE / ADDRESS_BURST. */
  addressLimit?: BucketLimit;
  /** Prepended to every object name: "" in production; lets each test broker have objects of its own. */
  namePrefix?: string;
  /** Most address tokens leased per call; default ADDRESS_LEASE_TOKENS (1 disables leases). */
  addressLeaseTokens?: number;
}

export const DEFAULT_REPOSITORY_LIMIT: BucketLimit = { perMinute: DEFAULT_REPOSITORY_RATE_PER_MINUTE, burst: DEFAULT_REPOSITORY_BURST };
export const DEFAULT_ADDRESS_LIMIT: BucketLimit = { perMinute: ADDRESS_RATE_PER_MINUTE, burst: ADDRESS_BURST };

/**
 * The object of the token's repository: its numeric id (GitHub `repository_id`, GitLab `project_id`), which survives
 * renames and transfers (the name does not), under the issuer's id. One object per repository spreads the load.
 */
export function repositoryObjectName(token: VerifiedToken): string {
  return `${token.issuer.id}:repo:${claimSubject(token.issuer.kind, token.claims).repositoryId}`;
}

/** The object of a client address (its own object: a flood from one address queues on that object alone). */
export function addressObjectName(cfConnectingIp: string | null | undefined): string {
  return `addr:${addressKey(cfConnectingIp)}`;
}

const realTimeout = (ms: number): Timeout => {
  let id: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<void>((resolve) => {
    id = setTimeout(resolve, ms);
  });
  return { expired, cancel: () => (id === undefined ? undefined : clearTimeout(id)) };
};

const TIMED_OUT = Symbol("timed out");

function unavailable(cause: unknown): BrokerError {
  return new BrokerError("upstream_unavailable", "admission_unavailable", { retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS, cause });
}

export function createDurableAdmission(options: DurableAdmissionOptions): Admission {
  const timeoutMs = options.timeoutMs ?? ADMISSION_CALL_TIMEOUT_MS;
  const startTimeout = options.startTimeout ?? realTimeout;
  const repositoryLimit = options.repositoryLimit ?? DEFAULT_REPOSITORY_LIMIT;
  const addressLimit = options.addressLimit ?? DEFAULT_ADDRESS_LIMIT;
  const prefix = options.namePrefix ?? "";
  const leaseTokens = options.addressLeaseTokens ?? ADDRESS_LEASE_TOKENS;
  /**
   * Address tokens this isolate holds, by object name. A busy address (a NAT'd runner fleet) then costs one object
   * call per lease, not per request; the object leases extra tokens only from the upper half of its bucket, so the
   * limit stays exact where it matters (see takeLease). Per isolate, in memory, bounded, short-lived.
   */
  const leases = new Map<string, { tokens: number; expiresAtMs: number }>();

  /** One RPC call under the timeout; every failure becomes `admission_unavailable`. */
  async function call<T>(kind: "repository" | "address", run: () => Promise<T>): Promise<T> {
    const timeout = startTimeout(timeoutMs);
    let failure: unknown;
    try {
      const result = await Promise.race([run(), timeout.expired.then(() => TIMED_OUT)]);
      if (result !== TIMED_OUT) return result as T;
      failure = TIMED_OUT;
    } catch (error) {
      failure = error;
    } finally {
      timeout.cancel();
    }
    // Names and flags only: a runtime error's message may carry the object's name.
    options.log?.({
      message: "admission_unavailable",
      object: kind,
      error: failure === TIMED_OUT ? "timeout" : failure instanceof Error ? failure.name : typeof failure,
      overloaded: (failure as { overloaded?: unknown } | undefined)?.overloaded === true,
    });
    throw unavailable(failure === TIMED_OUT ? "timeout" : failure);
  }

  return {
    async limitAddress(cfConnectingIp) {
      const name = prefix + addressObjectName(cfConnectingIp);
      const nowMs = options.now();
      const lease = leases.get(name);
      if (lease !== undefined && lease.tokens > 0 && nowMs < lease.expiresAtMs) {
        lease.tokens -= 1;
        return;
      }
      leases.delete(name);
      const result = await call("address", () => options.objectFor(name).throttle({ limit: addressLimit, nowMs, want: leaseTokens }));
      switch (result?.outcome) {
        case "admitted":
          if (Number.isSafeInteger(result.granted) && result.granted > 1) {
            if (leases.size >= MAX_ADDRESS_LEASES) leases.delete(leases.keys().next().value as string);
            leases.set(name, { tokens: Math.min(result.granted, leaseTokens) - 1, expiresAtMs: nowMs + ADDRESS_LEASE_MS });
          }
          return;
        case "rate_limited":
          throw new BrokerError("rate_limited", "rate_limited_address", { retryAfterSeconds: result.retryAfterSeconds });
        default:
          // `bad_request` (our bug) or an answer we do not know: closed.
          throw unavailable(result?.outcome ?? "no answer");
      }
    },

    async admit(token: VerifiedToken, rule: AdmissionRule) {
      const request: AdmitRequest = {
        iss: token.issuer.issuer,
        jti: token.jti,
        // Once the token is expired (RFC 7519 §4.1.4) or older than the issuer's max age, it fails verification
        // anyway: the reservation can go then (plus the clock tolerance both checks allow).
        reserveUntilMs: (Math.min(token.exp, token.iat + token.issuer.maxTokenAgeSeconds) + token.issuer.clockToleranceSeconds) * 1000,
        bucket: rule.ruleId,
        limit: rule.rateLimit ?? repositoryLimit,
        nowMs: options.now(),
      };
      const result = await call("repository", () => options.objectFor(prefix + repositoryObjectName(token)).admit(request));
      switch (result?.outcome) {
        case "admitted":
          return;
        case "token_reused":
          throw new BrokerError("token_reused", "token_reused");
        case "rate_limited":
          // Queued: this caller's own slot (docs/fleet-scale.md). Not queued: the queue is full; this is when it drains.
          throw new BrokerError("rate_limited", result.queued === false ? "rate_limited_queue_full" : "rate_limited_repository", { retryAfterSeconds: result.retryAfterSeconds });
        case "full":
          throw new BrokerError("rate_limited", "admission_store_full", { retryAfterSeconds: result.retryAfterSeconds });
        default:
          throw unavailable(result?.outcome ?? "no answer");
      }
    },

    async release(token: VerifiedToken) {
      // Best effort: if it fails, the client sees token_reused on its retry and mints a new token (docs/admission.md).
      try {
        await call("repository", () => options.objectFor(prefix + repositoryObjectName(token)).release({ iss: token.issuer.issuer, jti: token.jti }));
      } catch {
        // Already logged by `call`.
      }
    },
  };
}
