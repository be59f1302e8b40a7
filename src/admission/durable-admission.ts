// The Worker's side of repository admission: picks the Durable Object, makes the one RPC call with a timeout, and
// turns its answer into a BrokerError. I/O only through the injected `objectFor`; time from the injected clock.
// (The pre-authentication limit per client address is address-limit.ts, on the rate-limiting binding.)
//
// Fail closed: an exception, an overload, a timeout or an answer we do not recognise is `upstream_unavailable`
// (503, `admission_unavailable`), never credentials. The call is not retried: a call that committed before failing
// would make its retry answer `token_reused`. Instead, a failed call is followed by a release of whatever it may have
// reserved, as its holder (the exchange's request id), so the client can retry with the same token.
import { DEFAULT_REPOSITORY_BURST, DEFAULT_REPOSITORY_RATE_PER_MINUTE } from "./constants.ts";
import type { Clock } from "../deps.ts";
import { BrokerError } from "../errors.ts";
import type { Admission, AdmissionRule } from "./admission.ts";
import { claimSubject } from "../oidc/claims.ts";
import type { VerifiedToken } from "../oidc/verify.ts";
import type { AdmitRequest, AdmitResult, ReleaseRequest, ReleaseResult } from "./admission-protocol.ts";
import { boundedCall, unavailable, type BoundedCallOptions } from "./bounded-call.ts";
import type { BucketLimit } from "./token-bucket.ts";

/** The RPC surface of one AdmissionControl object; a `DurableObjectStub<AdmissionControl>` in production. */
export interface AdmissionRpc {
  admit(request: AdmitRequest): Promise<AdmitResult>;
  release(request: ReleaseRequest): Promise<ReleaseResult>;
}

export interface DurableAdmissionOptions extends BoundedCallOptions {
  /** The object with this name, e.g. `(name) => env.ADMISSION.getByName(name)`. */
  objectFor: (name: string) => AdmissionRpc;
  now: Clock;
  /**
   * Bucket of a rule without its own `rateLimit`; default DEFAULT_REPOSITORY_RATE_PER_MINUTE /
   * DEFAULT_REPOSITORY_BURST.
   */
  repositoryLimit?: BucketLimit;
  /** Prepended to every object name: "" in production; lets each test broker have objects of its own. */
  namePrefix?: string;
}

export const DEFAULT_REPOSITORY_LIMIT: BucketLimit = {
  perMinute: DEFAULT_REPOSITORY_RATE_PER_MINUTE,
  burst: DEFAULT_REPOSITORY_BURST,
};

/**
 * The object of the token's repository: its numeric id (GitHub `repository_id`, GitLab `project_id`), which survives
 * renames and transfers (the name does not), under the issuer's id. One object per repository spreads the load.
 */
export function repositoryObjectName(token: VerifiedToken): string {
  return `${token.issuer.id}:repo:${claimSubject(token.issuer.kind, token.claims).repositoryId}`;
}

/** Repository admission: the part of `Admission` kept on Durable Objects (the address limit is address-limit.ts). */
export type RepositoryAdmission = Pick<Admission, "admit" | "release">;

export function createDurableAdmission(options: DurableAdmissionOptions): RepositoryAdmission {
  const repositoryLimit = options.repositoryLimit ?? DEFAULT_REPOSITORY_LIMIT;
  const prefix = options.namePrefix ?? "";
  const call = <T>(run: () => Promise<T>): Promise<T> => boundedCall("repository", run, options);

  /** Best effort; never throws: if it fails, a retry sees token_reused and mints a new token (docs/admission.md). */
  async function releaseAs(object: AdmissionRpc, token: VerifiedToken, holder: string): Promise<void> {
    try {
      await call(() => object.release({ iss: token.issuer.issuer, jti: token.jti, holder }));
    } catch {
      // Already logged by `call`.
    }
  }

  return {
    async admit(token: VerifiedToken, rule: AdmissionRule, holder: string) {
      const request: AdmitRequest = {
        iss: token.issuer.issuer,
        jti: token.jti,
        // Once the token is expired (RFC 7519 §4.1.4) or older than the issuer's max age, it fails verification
        // anyway: the reservation can go then (plus the clock tolerance both checks allow).
        reserveUntilMs:
          (Math.min(token.exp, token.iat + token.issuer.maxTokenAgeSeconds) + token.issuer.clockToleranceSeconds) *
          1000,
        bucket: rule.ruleId,
        limit: rule.rateLimit ?? repositoryLimit,
        nowMs: options.now(),
        holder,
      };
      // Resolved inside the bounded call: a missing binding throws there, and fails closed like any other failure.
      let object: AdmissionRpc | undefined;
      let result: AdmitResult;
      try {
        result = await call(() => {
          const target = options.objectFor(prefix + repositoryObjectName(token));
          object = target;
          return target.admit(request);
        });
      } catch (error) {
        // The object may still have recorded the reservation (an answer lost, or later than our timeout): release it
        // through the same stub, so it arrives after the admit (calls from one stub are delivered in order).
        if (object !== undefined) await releaseAs(object, token, holder);
        throw error;
      }
      switch (result?.outcome) {
        case "admitted":
          return;
        case "token_reused":
          throw new BrokerError("token_reused", "token_reused");
        case "rate_limited":
          // Queued: this caller's own slot (docs/fleet-scale.md). Not queued: the queue is full; this is when it
          // drains.
          throw new BrokerError(
            "rate_limited",
            result.queued === false ? "rate_limited_queue_full" : "rate_limited_repository",
            { retryAfterSeconds: result.retryAfterSeconds },
          );
        case "full":
          throw new BrokerError("rate_limited", "admission_store_full", {
            retryAfterSeconds: result.retryAfterSeconds,
          });
        default:
          throw unavailable(result?.outcome ?? "no answer");
      }
    },

    release(token: VerifiedToken, holder: string) {
      return releaseAs(options.objectFor(prefix + repositoryObjectName(token)), token, holder);
    },
  };
}
