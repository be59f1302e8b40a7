// fetchCredentials (src/client/exchange.ts): one exchange's answers, retries at Retry-After or with backoff, and the
// answers that end it.
import { describe, expect, it } from "vitest";
import {
  CLIENT_BACKOFF_BASE_MS,
  CLIENT_BACKOFF_CAP_MS,
  CLIENT_DEADLINE_MS,
  CLIENT_MAX_ATTEMPTS,
  CLIENT_MIN_ATTEMPT_MS,
  CLIENT_RETRY_AFTER_JITTER_MS,
} from "../../src/client/constants.ts";
import { CLIENT_ERROR_TABLE } from "../../src/client/errors.ts";
import { classifyAnswer, CREDENTIALS_ANSWER, parseRetryAfter } from "../../src/client/broker-answer.ts";
import { backoffDelayMs, fetchCredentials } from "../../src/client/exchange.ts";
import {
  brokerError,
  connectionRefused,
  credentialsBody,
  ENDPOINT,
  expectedCredentials,
  fakeJwt,
  json,
  scripted,
  START_MS,
  failure,
  options,
} from "./helpers.ts";

describe("fetchCredentials: success", () => {
  it("sends a fresh token as Bearer with role and duration, and returns the checked credentials", async () => {
    const broker = scripted([json(credentialsBody())]);
    const result = await fetchCredentials(options, broker.deps);
    expect(result).toEqual({
      credentials: expectedCredentials(),
      requestId: "11111111-2222-3333-4444-555555555555",
      attempts: 1,
    });
    expect(broker.requests).toHaveLength(1);
    const request = broker.requests[0] as Request;
    expect(request.method).toBe("POST");
    expect(request.url).toBe("https://broker.example/v1/credentials");
    expect(request.headers.get("authorization")).toBe(`Bearer ${fakeJwt(1)}`);
    expect(request.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(broker.bodies[0] as string)).toEqual({ role: "deploy", duration_seconds: 3600 });
    expect(broker.sleeps).toEqual([]);
  });

  it("sends an empty JSON object when neither role nor duration is given", async () => {
    const broker = scripted([json(credentialsBody())]);
    await fetchCredentials({ endpoint: ENDPOINT, role: undefined, durationSeconds: undefined }, broker.deps);
    expect(broker.bodies).toEqual(["{}"]);
  });
});

describe("fetchCredentials: retries", () => {
  it("retries 429 and 503 with a new token each attempt, waiting Retry-After plus bounded jitter, never less", async () => {
    const broker = scripted(
      [
        brokerError("rate_limited", 429, { "retry-after": "3" }),
        brokerError("upstream_unavailable", 503, { "retry-after": "1" }),
        json(credentialsBody(), 200),
      ],
      {
        random: 0.5,
      },
    );
    const result = await fetchCredentials(options, broker.deps);
    expect(result.attempts).toBe(3);
    // The broker asked for 3 s and 1 s; each wait adds jitter in [0, CLIENT_RETRY_AFTER_JITTER_MS).
    expect(broker.sleeps).toEqual([3000 + CLIENT_RETRY_AFTER_JITTER_MS / 2, 1000 + CLIENT_RETRY_AFTER_JITTER_MS / 2]);
    expect(broker.minted).toEqual([fakeJwt(1), fakeJwt(2), fakeJwt(3)]);
    expect(broker.requests.map((r) => r.headers.get("authorization"))).toEqual(broker.minted.map((t) => `Bearer ${t}`));
  });

  it("uses full jitter, uniform in [0, min(cap, base * 2^(n-1))), when no Retry-After is given", async () => {
    const broker = scripted([connectionRefused(), connectionRefused(), connectionRefused(), json(credentialsBody())], {
      random: 0.999,
    });
    await fetchCredentials(options, broker.deps);
    const ceilings = [1, 2, 3].map((n) => Math.min(CLIENT_BACKOFF_CAP_MS, CLIENT_BACKOFF_BASE_MS * 2 ** (n - 1)));
    expect(broker.sleeps).toEqual(ceilings.map((c) => Math.floor(0.999 * c)));
    expect(backoffDelayMs(1, () => 0)).toBe(0);
    expect(backoffDelayMs(30, () => 0.5)).toBe(CLIENT_BACKOFF_CAP_MS / 2);
  });

  it("gives up on network errors after the attempt cap, as broker_unreachable naming the cause", async () => {
    const broker = scripted(
      Array.from({ length: CLIENT_MAX_ATTEMPTS }, () => connectionRefused()),
      { random: 0 },
    );
    const error = await failure(fetchCredentials(options, broker.deps));
    expect(error.code).toBe("broker_unreachable");
    expect(error.exitCode).toBe(CLIENT_ERROR_TABLE.broker_unreachable.exit);
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.message).toContain(`after ${CLIENT_MAX_ATTEMPTS} attempts`);
    expect(broker.requests).toHaveLength(CLIENT_MAX_ATTEMPTS);
  });

  it("stops at once, without sleeping, when Retry-After reaches past the deadline, saying how long the broker's queue would take", async () => {
    const broker = scripted([brokerError("rate_limited", 429, { "retry-after": "120" })]);
    const error = await failure(fetchCredentials(options, broker.deps));
    expect(error.code).toBe("rate_limited");
    expect(error.exitCode).toBe(7);
    expect(error.requestId).toBe("0b7c6a52-9a6e-4c61-8f5e-2d1f3a4b5c6d");
    expect(error.message).toContain("120 s");
    expect(error.message).toContain("--deadline");
    expect(error.message).toContain("0b7c6a52-9a6e-4c61-8f5e-2d1f3a4b5c6d");
    expect(broker.sleeps).toEqual([]);
  });

  it("stops at the total deadline: 503s with Retry-After 20 s fit two waits into 60 s, not a third", async () => {
    const broker = scripted(
      Array.from({ length: CLIENT_MAX_ATTEMPTS }, () =>
        brokerError("upstream_unavailable", 503, { "retry-after": "20" }),
      ),
      { random: 0 },
    );
    const error = await failure(fetchCredentials(options, broker.deps));
    expect(error.code).toBe("broker_unavailable");
    expect(error.exitCode).toBe(9);
    expect(broker.sleeps).toEqual([20_000, 20_000]);
    expect(broker.requests).toHaveLength(3);
    expect(broker.now() - START_MS + 20_000 + CLIENT_MIN_ATTEMPT_MS).toBeGreaterThan(CLIENT_DEADLINE_MS);
  });

  it("keeps trying past the attempt cap while the broker names the wait, until the deadline", async () => {
    const refusals = CLIENT_MAX_ATTEMPTS * 2;
    const broker = scripted(
      [
        ...Array.from({ length: refusals }, () => brokerError("rate_limited", 429, { "retry-after": "2" })),
        json(credentialsBody()),
      ],
      { random: 0.999 },
    );
    const result = await fetchCredentials(options, broker.deps);
    expect(result.attempts).toBe(refusals + 1);
    for (const sleep of broker.sleeps) {
      expect(sleep).toBeGreaterThanOrEqual(2000);
      expect(sleep).toBeLessThan(2000 + CLIENT_RETRY_AFTER_JITTER_MS);
    }
    expect(broker.now() - START_MS).toBeLessThanOrEqual(CLIENT_DEADLINE_MS);
  });

  it("jitter shrinks to fit the deadline, but the wait is never shorter than Retry-After", async () => {
    // 57.5 s of room (deadline minus the 1.5 s attempt and the minimum attempt time) after a Retry-After of 57 s:
    // 0.5 s of jitter fits, not 0.999 s.
    const broker = scripted([brokerError("rate_limited", 429, { "retry-after": "57" }), json(credentialsBody())], {
      random: 0.999,
      latencyMs: 1_500,
    });
    await fetchCredentials(options, broker.deps);
    expect(broker.sleeps).toEqual([CLIENT_DEADLINE_MS - 1_500 - CLIENT_MIN_ATTEMPT_MS]);
  });

  it("a Retry-After of 0 still waits a second: the deadline bounds the attempts", async () => {
    const broker = scripted(
      [brokerError("upstream_unavailable", 503, { "retry-after": "0" }), json(credentialsBody())],
      { random: 0 },
    );
    await fetchCredentials(options, broker.deps);
    expect(broker.sleeps).toEqual([1000]);
  });

  it("counts slow attempts against the deadline too", async () => {
    const broker = scripted(
      Array.from({ length: CLIENT_MAX_ATTEMPTS }, () => connectionRefused()),
      { random: 0, latencyMs: 15_000 },
    );
    const error = await failure(fetchCredentials({ ...options, deadlineMs: 40_000 }, broker.deps));
    expect(error.code).toBe("broker_unreachable");
    expect(broker.requests).toHaveLength(3);
  });

  it("reads Retry-After as seconds or an HTTP-date", () => {
    expect(parseRetryAfter("7", START_MS)).toBe(7000);
    expect(parseRetryAfter(new Date(START_MS + 4000).toUTCString(), START_MS)).toBe(4000);
    expect(parseRetryAfter(new Date(START_MS - 4000).toUTCString(), START_MS)).toBe(0);
    expect(parseRetryAfter("soon", START_MS)).toBeUndefined();
    expect(parseRetryAfter(null, START_MS)).toBeUndefined();
  });
});

describe("fetchCredentials: answers that are final", () => {
  const cases: Array<[string, Response, string, number]> = [
    ["invalid_token (wrong audience)", brokerError("invalid_token", 401), "invalid_token", 5],
    ["forbidden", brokerError("forbidden", 403), "forbidden", 6],
    ["invalid_request", brokerError("invalid_request", 400), "broker_rejected", 12],
    ["internal_error (500 is not retried)", brokerError("internal_error", 500), "broker_rejected", 12],
    [
      "a 502 from a proxy (not retried)",
      new Response("<html>Bad gateway</html>", { status: 502 }),
      "not_credentials",
      10,
    ],
    ["a login page with 200", new Response("<html>Sign in</html>", { status: 200 }), "not_credentials", 10],
    ["a 404 from the wrong path", new Response("Not Found", { status: 404 }), "not_credentials", 10],
  ];
  for (const [name, response, code, exit] of cases) {
    it(`${name} -> ${code} (exit ${exit}) after one attempt`, async () => {
      const broker = scripted([response]);
      const error = await failure(fetchCredentials(options, broker.deps));
      expect(error.code).toBe(code);
      expect(error.exitCode).toBe(exit);
      expect(broker.requests).toHaveLength(1);
      expect(broker.sleeps).toEqual([]);
    });
  }

  it("wrong audience says to check the audience input", async () => {
    const error = await failure(fetchCredentials(options, scripted([brokerError("invalid_token", 401)]).deps));
    expect(error.message).toMatch(/audience/);
  });

  it("forbidden carries the request id and the command to look it up", async () => {
    const error = await failure(
      fetchCredentials(
        options,
        scripted([brokerError("forbidden", 403, {}, "9d7f3c1e-1111-4222-8333-944445555666")]).deps,
      ),
    );
    expect(error.requestId).toBe("9d7f3c1e-1111-4222-8333-944445555666");
    expect(error.message).toContain("npm run analytics -- request 9d7f3c1e-1111-4222-8333-944445555666");
  });

  it("does not echo a request id that could forge a log line", () => {
    const outcome = classifyAnswer(
      403,
      new Headers({ "x-request-id": "x ::add-mask::y" }),
      JSON.stringify({ error: "forbidden", request_id: "a b\nc" }),
      START_MS,
      CREDENTIALS_ANSWER,
    );
    expect(outcome.kind).toBe("fail");
    if (outcome.kind === "fail") {
      expect(outcome.error.requestId).toBeUndefined();
      expect(outcome.error.message).not.toContain("\n");
    }
  });
});
