// The admission-control object's RPC contract (what the Worker sends, what it gets back) and the checks that refuse a
// malformed request before anything is stored. Pure; no I/O. Shared by admission-control.ts and durable-admission.ts.
import { MAX_ADMISSION_HOLDER_CHARS } from "./constants.ts";
import { MAX_JTI_CHARS } from "../oidc/constants.ts";
import type { BucketLimit } from "./token-bucket.ts";

export interface AdmitRequest {
  /** The token's exact `iss`. With `jti`, the replay key: never a hash of the token text (RFC 7519 §4.1.7). */
  iss: string;
  jti: string;
  /** Until when the pair stays reserved (ms, Worker clock): `exp` + the issuer's clock tolerance. */
  reserveUntilMs: number;
  /** Which bucket of this repository pays: the id of the rule that allowed the request. */
  bucket: string;
  limit: BucketLimit;
  /** The Worker's injected clock (ms). The Worker and this object are one trust domain. */
  nowMs: number;
  /** The exchange asking (its request id): only it can release the reservation it makes. */
  holder: string;
}

export type AdmitResult =
  | { outcome: "admitted" }
  | { outcome: "token_reused" }
  /**
   * `queued`: a token is set aside for a caller that comes back after `retryAfterSeconds`; false: the queue is full.
   */
  | { outcome: "rate_limited"; retryAfterSeconds: number; queued: boolean }
  /** MAX_ADMISSION_RESERVATIONS live reservations: refuse rather than grow. */
  | { outcome: "full"; retryAfterSeconds: number }
  | BadRequest;

/** Forget one reservation: the exchange it admitted failed before any credentials left the broker. */
export interface ReleaseRequest {
  iss: string;
  jti: string;
  /** The exchange that made the reservation: another exchange's reservation of the same token is never released. */
  holder: string;
}

export type ReleaseResult = { outcome: "released" | "not_found" } | BadRequest;

/** A request this object cannot act on: a Worker bug, which the Worker answers as an outage (fail closed). */
export interface BadRequest {
  outcome: "bad_request";
}

function isLimit(limit: BucketLimit): boolean {
  return (
    Number.isSafeInteger(limit?.perMinute) &&
    limit.perMinute >= 1 &&
    Number.isSafeInteger(limit?.burst) &&
    limit.burst >= 1
  );
}
function isHolder(holder: unknown): holder is string {
  return typeof holder === "string" && holder !== "" && holder.length <= MAX_ADMISSION_HOLDER_CHARS;
}

export function isAdmitRequest(request: AdmitRequest): boolean {
  const { iss, jti, bucket, reserveUntilMs, limit } = request ?? {};
  return (
    isHolder(request?.holder) &&
    typeof iss === "string" &&
    iss !== "" &&
    typeof jti === "string" &&
    jti !== "" &&
    jti.length <= MAX_JTI_CHARS &&
    typeof bucket === "string" &&
    bucket !== "" &&
    Number.isSafeInteger(reserveUntilMs) &&
    isLimit(limit)
  );
}

export function isReleaseRequest(request: ReleaseRequest): boolean {
  return (
    typeof request?.iss === "string" &&
    typeof request.jti === "string" &&
    request.iss !== "" &&
    request.jti !== "" &&
    isHolder(request.holder)
  );
}
