// What the exchanges ask of admission control (src/exchange/): the port the Durable Object side
// (durable-admission.ts) and the per-address limit (address-limit.ts) implement. Types only.
import type { VerifiedToken } from "../oidc/verify.ts";
import type { RateLimitDefinition } from "../policy/types.ts";

/** The rule that allowed a request: its id names the repository's bucket; its `rateLimit` overrides the default. */
export interface AdmissionRule {
  ruleId: string;
  rateLimit: RateLimitDefinition | undefined;
}

/** Admission control: Durable Objects in production. Throws BrokerError to refuse. */
export interface Admission {
  /** Pre-authentication limit per client address (`CF-Connecting-IP`); runs before any signature work. */
  limitAddress(cfConnectingIp: string | null): Promise<void>;
  /**
   * Reserves the token's (iss, jti) for `holder` (the exchange's request id) and takes one issuance from its
   * repository's bucket: one round trip. Single use holds across both endpoints: the reservation is per token.
   */
  admit(token: VerifiedToken, rule: AdmissionRule, holder: string): Promise<void>;
  /**
   * Forgets `holder`'s reservation after a failed upstream call (nothing left the broker). Best effort; never throws.
   */
  release(token: VerifiedToken, holder: string): Promise<void>;
}
