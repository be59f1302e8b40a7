// The Worker's side of admission against a scripted object: what it sends (one call, names, clock, limits) and how
// each answer or failure becomes a BrokerError. Failing closed is the point of half of these.
import { describe, expect, it } from "vitest";
import type { AdmitRequest, AdmitResult } from "../../src/admission/admission-control.ts";
import {
  createDurableAdmission,
  DEFAULT_REPOSITORY_LIMIT,
  type AdmissionRpc,
  type DurableAdmissionOptions,
} from "../../src/admission/durable-admission.ts";
import {
  ADMISSION_CALL_TIMEOUT_MS,
  DEFAULT_REPOSITORY_BURST,
  DEFAULT_REPOSITORY_RATE_PER_MINUTE,
} from "../../src/admission/constants.ts";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../../src/http/constants.ts";
import type { Claims } from "../../src/oidc/claims.ts";
import { IssuerListSchema } from "../../src/oidc/issuers.ts";
import type { VerifiedToken } from "../../src/oidc/verify.ts";
import { githubClaims } from "../support/fake-issuer.ts";
import { brokerFailure } from "../support/broker-failure.ts";

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const ISSUER = IssuerListSchema.parse([
  {
    kind: "github",
    issuer: "https://token.actions.githubusercontent.com",
    audiences: ["ci-credential-broker"],
    clock_tolerance_seconds: 30,
  },
])[0]!;

function token(overrides: Partial<VerifiedToken> = {}): VerifiedToken {
  const iat = Math.floor(T0 / 1000);
  return {
    issuer: ISSUER,
    claims: githubClaims({ repository_id: "874563210" }) as unknown as Claims,
    jti: "jti-1",
    iat,
    exp: iat + 300,
    nbf: iat - 300,
    ...overrides,
  };
}

interface Script {
  admit?: (request: AdmitRequest) => Promise<AdmitResult>;
}

function scripted(script: Script, options: Partial<DurableAdmissionOptions> = {}) {
  const calls: Array<{ name: string; method: string; request: unknown }> = [];
  const logs: Array<Record<string, unknown>> = [];
  const object = (name: string): AdmissionRpc => ({
    admit: (request) => {
      calls.push({ name, method: "admit", request });
      return script.admit?.(request) ?? Promise.resolve({ outcome: "admitted" });
    },
    release: (request) => {
      calls.push({ name, method: "release", request });
      return Promise.resolve({ outcome: "released" });
    },
  });
  const admission = createDurableAdmission({
    objectFor: object,
    now: () => T0 + 123,
    log: (line) => logs.push(line),
    ...options,
  });
  return { admission, calls, logs };
}

const failure = brokerFailure;

const RULE = { ruleId: "acme-app-main-deploy", rateLimit: undefined };
/** The exchange's request id: the holder of the reservation it makes. */
const HOLDER = "5b0e2c0e-8a1f-4c77-9b3e-2f6d1a9c0d11";

describe("createDurableAdmission: what it sends", () => {
  it("one call to the repository's object: (iss, jti), reservation until exp + tolerance, the rule's bucket, the injected clock", async () => {
    const { admission, calls } = scripted({});
    await admission.admit(token(), RULE, HOLDER);
    expect(calls).toEqual([
      {
        name: "github:repo:874563210",
        method: "admit",
        request: {
          iss: "https://token.actions.githubusercontent.com",
          jti: "jti-1",
          reserveUntilMs: (Math.floor(T0 / 1000) + 300 + 30) * 1000,
          bucket: "acme-app-main-deploy",
          limit: { perMinute: DEFAULT_REPOSITORY_RATE_PER_MINUTE, burst: DEFAULT_REPOSITORY_BURST },
          nowMs: T0 + 123,
          holder: HOLDER,
        },
      },
    ]);
    expect(DEFAULT_REPOSITORY_LIMIT).toEqual({ perMinute: 600, burst: 60 });
  });

  it("a rule's rateLimit overrides the default bucket", async () => {
    const { admission, calls } = scripted({});
    await admission.admit(token(), { ruleId: "bulk", rateLimit: { perMinute: 600, burst: 100 } }, HOLDER);
    expect((calls[0]!.request as AdmitRequest).limit).toEqual({ perMinute: 600, burst: 100 });
    expect((calls[0]!.request as AdmitRequest).bucket).toBe("bulk");
  });

  it("keys the repository by its numeric id, not its name (renames and transfers keep the budget and the reservations)", async () => {
    const { admission, calls } = scripted({});
    await admission.admit(
      token({ claims: githubClaims({ repository: "acme/renamed", repository_id: "874563210" }) as unknown as Claims }),
      RULE,
      HOLDER,
    );
    await admission.admit(
      token({ claims: githubClaims({ repository: "acme/app", repository_id: "42" }) as unknown as Claims }),
      RULE,
      HOLDER,
    );
    expect(calls.map((call) => call.name)).toEqual(["github:repo:874563210", "github:repo:42"]);
  });
});

describe("createDurableAdmission: answers", () => {
  it.each([
    ["token_reused", { outcome: "token_reused" }, "token_reused", "token_reused", undefined],
    [
      "rate_limited",
      { outcome: "rate_limited", retryAfterSeconds: 7, queued: true },
      "rate_limited",
      "rate_limited_repository",
      7,
    ],
    [
      "rate_limited, queue full",
      { outcome: "rate_limited", retryAfterSeconds: 9, queued: false },
      "rate_limited",
      "rate_limited_queue_full",
      9,
    ],
    ["full", { outcome: "full", retryAfterSeconds: 42 }, "rate_limited", "admission_store_full", 42],
    [
      "bad_request",
      { outcome: "bad_request" },
      "upstream_unavailable",
      "admission_unavailable",
      UPSTREAM_RETRY_AFTER_SECONDS,
    ],
    [
      "an unknown outcome",
      { outcome: "maybe" },
      "upstream_unavailable",
      "admission_unavailable",
      UPSTREAM_RETRY_AFTER_SECONDS,
    ],
    ["no answer", undefined, "upstream_unavailable", "admission_unavailable", UPSTREAM_RETRY_AFTER_SECONDS],
  ])("repository object answers %s", async (_label, answer, code, reason, retryAfter) => {
    const { admission } = scripted({ admit: async () => answer as AdmitResult });
    const error = await failure(admission.admit(token(), RULE, HOLDER));
    expect({ code: error.code, reason: error.reason, retryAfterSeconds: error.retryAfterSeconds }).toEqual({
      code,
      reason,
      retryAfterSeconds: retryAfter,
    });
  });
});

describe("createDurableAdmission: fails closed", () => {
  const unavailable = {
    code: "upstream_unavailable",
    reason: "admission_unavailable",
    retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS,
  };

  it("an exception from the stub (overloaded, reset, missing binding) -> 503 admission_unavailable, logged by name only", async () => {
    const overloaded = Object.assign(
      new Error("Durable Object is overloaded. Requests queued for too long. github:repo:874563210"),
      { overloaded: true },
    );
    const { admission, logs } = scripted({ admit: () => Promise.reject(overloaded) });
    const error = await failure(admission.admit(token(), RULE, HOLDER));
    expect({ code: error.code, reason: error.reason, retryAfterSeconds: error.retryAfterSeconds }).toEqual(unavailable);
    expect(logs).toEqual([
      { message: "admission_unavailable", object: "repository", error: "Error", overloaded: true },
    ]);

    const missing = createDurableAdmission({
      objectFor: () => {
        throw new TypeError("Cannot read properties of undefined (reading 'getByName')");
      },
      now: () => T0,
    });
    const missingError = await failure(missing.admit(token(), RULE, HOLDER));
    expect({ code: missingError.code, reason: missingError.reason }).toEqual({
      code: "upstream_unavailable",
      reason: "admission_unavailable",
    });
  });

  it(`a call that does not answer within ADMISSION_CALL_TIMEOUT_MS (${ADMISSION_CALL_TIMEOUT_MS} ms) -> 503, and the timer is cleared on success`, async () => {
    const started: number[] = [];
    let cancelled = 0;
    let fire: () => void = () => undefined;
    const { admission, logs, calls } = scripted(
      { admit: () => new Promise<never>(() => undefined) },
      {
        startTimeout: (ms) => {
          started.push(ms);
          return { expired: new Promise<void>((resolve) => (fire = resolve)), cancel: () => (cancelled += 1) };
        },
      },
    );
    const pending = failure(admission.admit(token(), RULE, HOLDER));
    fire();
    const error = await pending;
    expect({ code: error.code, reason: error.reason, retryAfterSeconds: error.retryAfterSeconds }).toEqual(unavailable);
    expect(logs[0]).toMatchObject({ message: "admission_unavailable", object: "repository", error: "timeout" });

    // What the object may have recorded after our timeout is released as this exchange's, through the same object.
    expect(calls.map((call) => [call.method, (call.request as { holder?: string }).holder])).toEqual([
      ["admit", HOLDER],
      ["release", HOLDER],
    ]);
    expect(started).toEqual([ADMISSION_CALL_TIMEOUT_MS, ADMISSION_CALL_TIMEOUT_MS]);

    await admission.release(token(), HOLDER);
    expect(cancelled).toBe(3);
  });

  it("a failed call is followed by a release as its holder, whose own failure changes nothing: still 503", async () => {
    const objects: string[] = [];
    const released: unknown[] = [];
    const admission = createDurableAdmission({
      objectFor: (name) => {
        objects.push(name);
        return {
          admit: () => Promise.reject(new Error("Network connection lost.")),
          release: (request) => {
            released.push(request);
            return Promise.reject(new Error("Network connection lost."));
          },
        };
      },
      now: () => T0,
    });
    const error = await failure(admission.admit(token(), RULE, HOLDER));
    expect({ code: error.code, reason: error.reason }).toEqual({
      code: "upstream_unavailable",
      reason: "admission_unavailable",
    });
    expect(released).toEqual([{ iss: "https://token.actions.githubusercontent.com", jti: "jti-1", holder: HOLDER }]);
    expect(objects).toEqual(["github:repo:874563210"]);
  });

  it("an answer, even a refusal or one not understood, is never followed by a release", async () => {
    for (const answer of [
      { outcome: "admitted" },
      { outcome: "token_reused" },
      { outcome: "rate_limited", retryAfterSeconds: 3, queued: true },
      { outcome: "bad_request" },
    ]) {
      const { admission, calls } = scripted({ admit: async () => answer as AdmitResult });
      await admission.admit(token(), RULE, HOLDER).catch(() => undefined);
      expect(
        calls.map((call) => call.method),
        answer.outcome,
      ).toEqual(["admit"]);
    }
  });
});
