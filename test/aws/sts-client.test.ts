// The STS client's call (src/aws/sts-client.ts): SigV4-signed AssumeRole against the STS emulator, the retry policy
// (full-jitter backoff, at most STS_MAX_ATTEMPTS, within STS_DEADLINE_MS), and the attempt timeout and total budget
// through injected timers. What an answer means: sts-classify.test.ts.
import { describe, expect, it } from "vitest";
import { assumeRole, backoffMs } from "../../src/aws/sts-client.ts";
import { assumeRoleForm } from "../../src/aws/sts-request.ts";
import {
  STS_ATTEMPT_TIMEOUT_MS,
  STS_BACKOFF_BASE_MS,
  STS_BACKOFF_CAP_MS,
  STS_DEADLINE_MS,
  STS_MAX_ATTEMPTS,
} from "../../src/aws/constants.ts";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../../src/http/constants.ts";
import { manualTimers, settle } from "../support/manual-timers.ts";
import { failure, harness, input, ORIGIN, randomText, ROLE_ARN, START_MS, testPrincipal } from "./sts-helpers.ts";

describe("assumeRole: success", () => {
  it("signs with SigV4 (verified by the emulator) and returns the issued credentials", async () => {
    const h = harness();
    const result = await assumeRole(input, h.deps);

    const [call] = h.emulator.assumeRoleCalls;
    expect(h.emulator.assumeRoleCalls).toHaveLength(1);
    expect(result).toEqual({
      credentials: {
        accessKeyId: call?.issuedAccessKeyId,
        secretAccessKey: expect.any(String),
        sessionToken: expect.any(String),
        expiration: call?.expiration,
      },
      attempts: 1,
      stsMs: 0,
    });
    expect(result.credentials.expiration).toBe("2026-11-25T12:15:00Z");
    expect(call?.accessKeyId).toBe(h.principal.accessKeyId);
    expect(call?.params).toEqual(Object.fromEntries(new URLSearchParams(assumeRoleForm(input))));
    expect(call).toMatchObject({
      roleArn: ROLE_ARN,
      roleSessionName: input.roleSessionName,
      durationSeconds: 900,
      sourceIdentity: "gh-octocat",
      tags: input.tags,
      transitiveTagKeys: ["Repository"],
      policy: input.sessionPolicy,
    });
    expect(h.sleeps).toEqual([]);
    expect(h.network.calls).toEqual([{ method: "POST", url: `${ORIGIN}/` }]);
  });

  it("dates the signature with the injected clock and sends a form body", async () => {
    const h = harness();
    const seen: Request[] = [];
    const inner = h.deps.fetch;
    h.deps.fetch = async (request, init) => {
      seen.push(request instanceof Request ? request.clone() : new Request(request, init));
      return inner(request, init);
    };
    await assumeRole(input, h.deps);
    expect(seen[0]?.headers.get("x-amz-date")).toBe("20261125T120000Z");
    expect(seen[0]?.headers.get("content-type")).toBe("application/x-www-form-urlencoded; charset=utf-8");
    expect(seen[0]?.headers.get("authorization")).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${h.principal.accessKeyId}/20261125/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=[0-9a-f]{64}$`,
      ),
    );
  });

  it("signs the broker's own session token when it has one", async () => {
    const principal = { ...testPrincipal(), sessionToken: `IQoJ${randomText("abcdefghijklmnop", 64)}` };
    const h = harness({ emulator: { principals: [principal] }, aws: principal });
    await assumeRole(input, h.deps);
    expect(h.emulator.assumeRoleCalls[0]?.accessKeyId).toBe(principal.accessKeyId);
  });

  it("counts time spent waiting on STS with the injected clock", async () => {
    const h = harness({ latencyMs: 120 });
    h.emulator.inject("throttle");
    const result = await assumeRole(input, h.deps);
    expect(result.attempts).toBe(2);
    expect(result.stsMs).toBe(240);
  });
});

describe("assumeRole: retries", () => {
  it("retries throttling with full-jitter backoff from the injected random, then succeeds", async () => {
    const randoms = [0.25, 0.75];
    const h = harness({ random: () => randoms.shift() ?? 0 });
    h.emulator.inject("throttle", 2);
    const result = await assumeRole(input, h.deps);
    expect(result.attempts).toBe(3);
    expect(h.emulator.requestCount).toBe(3);
    // sleep n = random * min(CAP, BASE * 2^n)
    expect(h.sleeps).toEqual([0.25 * STS_BACKOFF_BASE_MS * 2, 0.75 * STS_BACKOFF_BASE_MS * 4]);
  });

  it("keeps every sleep within [0, min(cap, base * 2^n)]", async () => {
    for (const random of [() => 0, () => 0.5, () => 0.999_999]) {
      const h = harness({ random });
      h.emulator.inject("internal_error", STS_MAX_ATTEMPTS);
      await failure(assumeRole(input, h.deps));
      expect(h.sleeps).toHaveLength(STS_MAX_ATTEMPTS - 1);
      h.sleeps.forEach((ms, index) => {
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(ms).toBeLessThanOrEqual(Math.min(STS_BACKOFF_CAP_MS, STS_BACKOFF_BASE_MS * 2 ** (index + 1)));
      });
    }
  });

  it("caps the backoff", () => {
    expect(backoffMs(30, () => 0.999_999)).toBeLessThanOrEqual(STS_BACKOFF_CAP_MS);
    expect(backoffMs(1, () => 1)).toBe(2 * STS_BACKOFF_BASE_MS);
  });

  it.each([
    ["throttle", "sts_throttled"],
    ["internal_error", "sts_unavailable"],
    ["service_unavailable", "sts_unavailable"],
    ["hang", "sts_timeout"],
  ] as const)("%s every time -> upstream_unavailable/%s after STS_MAX_ATTEMPTS", async (fault, reason) => {
    const h = harness();
    h.emulator.inject(fault, STS_MAX_ATTEMPTS);
    const error = await failure(assumeRole(input, h.deps));
    expect(error.code).toBe("upstream_unavailable");
    expect(error.reason).toBe(reason);
    expect(error.retryAfterSeconds).toBe(UPSTREAM_RETRY_AFTER_SECONDS);
    expect(h.emulator.requestCount).toBe(STS_MAX_ATTEMPTS);
    expect(h.sleeps).toHaveLength(STS_MAX_ATTEMPTS - 1);
  });

  it("gives up on a hung attempt after the per-attempt timeout and retries", async () => {
    const h = harness();
    h.emulator.inject("hang");
    const started = performance.now();
    const result = await assumeRole(input, h.deps);
    expect(result.attempts).toBe(2);
    expect(h.emulator.assumeRoleCalls).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("retries network errors", async () => {
    let calls = 0;
    const h = harness({
      handler: (request) => {
        calls += 1;
        if (calls === 1) throw new TypeError("Network connection lost.");
        return h.emulator.handler(request);
      },
    });
    const result = await assumeRole(input, h.deps);
    expect(result.attempts).toBe(2);
  });

  it("stops when the next attempt would start past the deadline (clock driven by the fake sleep)", async () => {
    // Each sleep overruns by 4 s: after two attempts and two sleeps the 8 s deadline has passed.
    const h = harness({ sleepOverrunMs: 4_000 });
    h.emulator.inject("service_unavailable", STS_MAX_ATTEMPTS);
    const error = await failure(assumeRole(input, h.deps));
    expect(error.reason).toBe("sts_unavailable");
    expect(h.emulator.requestCount).toBe(2);
    expect(h.sleeps).toHaveLength(2);
    expect(h.clock.ms - START_MS).toBeGreaterThanOrEqual(STS_DEADLINE_MS);
  });

  it("does not sleep when the sleep would cross the deadline", async () => {
    const h = harness({ latencyMs: STS_DEADLINE_MS - 300, random: () => 0.999_999 });
    h.emulator.inject("throttle", STS_MAX_ATTEMPTS);
    const error = await failure(assumeRole(input, h.deps));
    expect(error.reason).toBe("sts_throttled");
    expect(h.emulator.requestCount).toBe(1);
    expect(h.sleeps).toEqual([]);
  });
});

describe("assumeRole: timers (injected, no wall-clock wait)", () => {
  it("starts the call's budget, then one timer per attempt; a hung attempt ends when its timer fires, and is retried", async () => {
    const h = harness();
    const timers = manualTimers();
    h.deps.startTimer = timers;
    delete h.deps.attemptTimeoutMs;
    h.emulator.inject("hang");
    const pending = assumeRole(input, h.deps);
    await settle(50);
    expect(timers.started).toEqual([STS_DEADLINE_MS, STS_ATTEMPT_TIMEOUT_MS]);
    timers.fire(1);
    const result = await pending;
    expect(result.attempts).toBe(2);
    expect(timers.started).toHaveLength(3);
    // Every timer is stopped: the attempts', and the budget's when the call is over.
    expect(timers.cancelled).toBe(3);
  });

  it("the budget spent during an attempt ends it and the call: sts_timeout, no sleep, no other attempt", async () => {
    const h = harness();
    const timers = manualTimers();
    h.deps.startTimer = timers;
    h.emulator.inject("hang", STS_MAX_ATTEMPTS);
    const pending = failure(assumeRole(input, h.deps));
    await settle(50);
    timers.fire(0);
    const error = await pending;
    expect({ code: error.code, reason: error.reason }).toEqual({
      code: "upstream_unavailable",
      reason: "sts_timeout",
    });
    expect(h.emulator.requestCount).toBe(1);
    expect(h.sleeps).toEqual([]);
  });

  it("an attempt never gets more than the budget has left (injected clock)", async () => {
    const h = harness({ latencyMs: STS_DEADLINE_MS - 1_000 });
    const timers = manualTimers();
    h.deps.startTimer = timers;
    delete h.deps.attemptTimeoutMs;
    h.emulator.inject("throttle", 1);
    h.deps.random = () => 0;
    await assumeRole(input, h.deps);
    expect(timers.started).toEqual([STS_DEADLINE_MS, STS_ATTEMPT_TIMEOUT_MS, 1_000]);
  });
});
