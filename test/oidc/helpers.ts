// Shared set-up for the OIDC tests: a fake issuer on a fake network, an injected clock, the real local KV.
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../../src/http/constants.ts";
import { BrokerError } from "../../src/errors.ts";
import type { IssuerConfig } from "../../src/oidc/issuers.ts";
import { createJwksCache, type JwksCache } from "../../src/oidc/jwks-cache.ts";
import { deriveJwksIntegrityKey } from "../../src/oidc/jwks-seal.ts";
import { checkTokenShape } from "../../src/oidc/token-shape.ts";
import { verifyToken, type VerifiedToken } from "../../src/oidc/verify.ts";
import { createFakeIssuer, type FakeIssuer, type FakeIssuerOptions } from "../support/fake-issuer.ts";
import { createFakeNetwork, type FakeNetwork } from "../support/fake-network.ts";

/** The seal key for cached key sets, from a secret generated for this run. */
export const TEST_INTEGRITY_KEY = deriveJwksIntegrityKey(crypto.randomUUID());

/** A fixed start time: tests move the clock explicitly. */
export const START_MS = Date.UTC(2026, 5, 1, 12, 0, 0);

export interface Harness {
  fake: FakeIssuer;
  network: FakeNetwork;
  config: IssuerConfig;
  jwks: JwksCache;
  now: () => number;
  /** Moves the injected clock forward. */
  advance(ms: number): void;
  /** A new JwksCache over the same KV and network: a fresh isolate (cold memory). */
  newIsolate(): void;
  verify(token: string, issuers?: IssuerConfig[]): Promise<VerifiedToken>;
}

export async function harness(
  overrides: Partial<IssuerConfig> = {},
  fakeOptions: Partial<FakeIssuerOptions> = {},
): Promise<Harness> {
  // A distinct issuer per test: KV persists between test files of one run.
  const issuer = `https://issuer-${crypto.randomUUID()}.test`;
  let clock = START_MS;
  const now = () => clock;
  const fake = await createFakeIssuer({ issuer, now, ...fakeOptions });
  const network = createFakeNetwork({ [issuer]: fake.handler });
  const config: IssuerConfig = {
    id: "github",
    kind: "github",
    issuer,
    audiences: ["ci-credential-broker"],
    jwksUri: fake.jwksUri,
    algorithms: ["RS256"],
    clockToleranceSeconds: 10,
    maxTokenAgeSeconds: 15 * 60,
    maxTokenLifetimeSeconds: 60 * 60,
    jwksMaxStaleSeconds: 24 * 60 * 60,
    ...overrides,
  };
  const makeCache = () =>
    createJwksCache({ kv: env.JWKS_CACHE, fetch: network.fetch, now, integrityKey: TEST_INTEGRITY_KEY });
  const h: Harness = {
    fake,
    network,
    config,
    jwks: makeCache(),
    now,
    advance(ms) {
      clock += ms;
    },
    newIsolate() {
      h.jwks = makeCache();
    },
    async verify(token, issuers = [config]) {
      return verifyToken(checkTokenShape(token), { issuers, jwks: h.jwks, now });
    },
  };
  return h;
}

/** Awaits a rejection and returns the BrokerError's code and reason (fails the test on anything else). */
export async function rejection(
  promise: Promise<unknown>,
): Promise<{ code: string; reason: string; retryAfterSeconds: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BrokerError);
    const { code, reason, retryAfterSeconds } = error as BrokerError;
    return { code, reason, retryAfterSeconds };
  }
  throw new Error("expected a rejection");
}

export function invalidToken(reason: string) {
  return { code: "invalid_token", reason, retryAfterSeconds: undefined };
}

export const JWKS_UNAVAILABLE = {
  code: "upstream_unavailable",
  reason: "jwks_unavailable",
  retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS,
};
