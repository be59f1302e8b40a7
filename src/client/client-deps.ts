// The effects a client exchange is given, all injected: fetch, clock, sleep, random, the OIDC token source, and the
// debug and warning sinks (which never see a token or a credential). Node wires the real ones (node-io.ts).
import type { Clock, FetchFn, RandomFn, Sleep } from "../deps.ts";
import type { TokenSource } from "./token-source.ts";

export interface ClientDeps {
  fetch: FetchFn;
  now: Clock;
  sleep: Sleep;
  random: RandomFn;
  tokens: TokenSource;
  /** Debug lines: attempts, statuses, request ids, delays, token hash prefixes. Never a token or a credential. */
  debug: (message: string) => void;
  /**
   * Warnings a person should see (GitHub: a ::warning:: annotation), e.g. a token replayed. Never a token or a
   * credential.
   */
  warn?: (message: string) => void;
  /** Sees each minted token before it is sent (the Action masks it). */
  onToken?: (token: string) => void;
}
