// What the bench and its fakes Worker (fakes-worker.ts) share: the Worker's configuration, its counters and its
// control origin. Separate from the Worker because workerd accepts only handlers among a Worker module's exports.
import type { JWK } from "jose";

/** What the bench hands this Worker (a JSON binding). Keys are generated per run; only public key material here. */
export interface FakesConfig {
  issuer: string;
  audience: string;
  /** The public key(s) Node mints the run's tokens with: served as the issuer's JWKS. */
  jwks: { keys: JWK[] };
  stsOrigin: string;
  region: string;
  /** The broker's AWS keys, as the STS emulator's known principal. */
  principal: { accessKeyId: string; secretAccessKey: string };
  /**
   * "webcrypto" (default): WebCryptoSha256 under AWS's signer; "js": @aws-crypto/sha256-js (the emulator's default).
   */
  stsHash: "webcrypto" | "js";
  echoOrigin: string;
  echoResponseBytes: number;
}

/** Origin of this Worker's own control endpoint (`GET /stats`), reached from Node through Miniflare's getWorker. */
export const FAKES_CONTROL_ORIGIN = "http://fakes.bench.invalid";

/**
 * When the fakes run in a process of their own (start-broker.ts FakesPlacement "own-process"), requests reach them over
 * a loopback socket; this header carries the origin the measured Worker fetched, which the fakes Worker restores.
 */
export const FORWARDED_ORIGIN_HEADER = "x-bench-forwarded-origin";

/** Counters read by the bench after the run (`GET FAKES_CONTROL_ORIGIN/stats`). */
export interface FakesStats {
  requests: Record<string, number>;
  /** Requests that threw or answered 5xx, per origin. */
  failures: Record<string, number>;
  sts_requests: number;
  assume_role_calls: number;
  jwks_fetches: number;
}
