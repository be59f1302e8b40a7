import { describe, expect, it } from "vitest";
import {
  CLIENT_BACKOFF_BASE_MS,
  CLIENT_BACKOFF_CAP_MS,
  CLIENT_DEADLINE_MS,
  CLIENT_MAX_ATTEMPTS,
  CLIENT_MIN_ATTEMPT_MS,
  CLIENT_RETRY_AFTER_JITTER_MS,
} from "../../src/client/constants.ts";
import { ClientError, CLIENT_ERROR_TABLE } from "../../src/client/errors.ts";
import { classifyAnswer, CREDENTIALS_ANSWER, parseRetryAfter } from "../../src/client/broker-answer.ts";
import { credentialsEndpoint } from "../../src/client/broker-endpoint.ts";
import { backoffDelayMs, fetchCredentials } from "../../src/client/exchange.ts";
import { tokenHashPrefix } from "../../src/client/exchange-messages.ts";
import type { TokenSource } from "../../src/client/token-source.ts";
import {
  brokerError,
  connectionRefused,
  credentialsBody,
  ENDPOINT,
  expectedCredentials,
  fakeJwt,
  json,
  scripted,
  SECRET,
  SESSION_TOKEN,
  START_MS,
} from "./helpers.ts";

const options = { endpoint: ENDPOINT, role: "deploy", durationSeconds: 3600 };

async function failure(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  throw new Error("expected a ClientError");
}

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

describe("fetchCredentials: token_reused", () => {
  it("mints a new token and retries once, at once", async () => {
    const broker = scripted([brokerError("token_reused", 401), json(credentialsBody())]);
    const result = await fetchCredentials(options, broker.deps);
    expect(result.attempts).toBe(2);
    expect(broker.minted).toEqual([fakeJwt(1), fakeJwt(2)]);
    expect(broker.sleeps).toEqual([]);
  });

  it("warns that someone else spent the token when a freshly minted one is refused as used", async () => {
    const broker = scripted([brokerError("token_reused", 401), json(credentialsBody())]);
    await fetchCredentials(options, broker.deps);
    expect(broker.warnings).toHaveLength(1);
    const warning = broker.warnings[0] as string;
    expect(warning).toContain(await tokenHashPrefix(fakeJwt(1)));
    expect(warning).toContain("0b7c6a52-9a6e-4c61-8f5e-2d1f3a4b5c6d");
    for (const token of broker.minted) expect(warning).not.toContain(token.split(".")[2]);
  });

  it("does not warn for a source that may hand out a token used before (a GitLab id_tokens variable)", async () => {
    let n = 0;
    const variable: TokenSource = {
      description: "environment variable BROKER_ID_TOKEN",
      mint: async () => fakeJwt(++n),
    };
    const broker = scripted([brokerError("token_reused", 401), json(credentialsBody())], { tokens: variable });
    await fetchCredentials(options, broker.deps);
    expect(broker.warnings).toEqual([]);
  });

  it("fails as token_reused when the retry is refused too", async () => {
    const broker = scripted([brokerError("token_reused", 401), brokerError("token_reused", 401)]);
    const error = await failure(fetchCredentials(options, broker.deps));
    expect(error.code).toBe("token_reused");
    expect(error.exitCode).toBe(11);
    expect(broker.requests).toHaveLength(2);
  });

  it("does not resend a token a fixed source hands out again (GitLab id_tokens)", async () => {
    const fixed: TokenSource = { description: "environment variable BROKER_ID_TOKEN", mint: async () => fakeJwt(7) };
    const broker = scripted([brokerError("token_reused", 401)], { tokens: fixed });
    const error = await failure(fetchCredentials(options, broker.deps));
    expect(error.code).toBe("token_reused");
    expect(error.message).toContain("environment variable BROKER_ID_TOKEN");
    expect(error.message).toContain("id_tokens");
    expect(broker.requests).toHaveLength(1);
  });
});

describe("fetchCredentials: the token source", () => {
  it("retries a transient token-source failure without calling the broker, then proceeds", async () => {
    let calls = 0;
    const flaky: TokenSource = {
      description: "the GitHub Actions token endpoint",
      mint: async () => {
        calls++;
        if (calls === 1)
          throw new ClientError("id_token_unavailable", "the GitHub Actions token endpoint answered HTTP 500.", {
            transient: true,
          });
        return fakeJwt(calls);
      },
    };
    const broker = scripted([json(credentialsBody())], { tokens: flaky });
    const result = await fetchCredentials(options, broker.deps);
    expect(result.attempts).toBe(2);
    expect(broker.requests).toHaveLength(1);
    expect(broker.sleeps).toHaveLength(1);
  });

  it("does not call the broker when minting left less than the minimum attempt time before the deadline", async () => {
    const broker = scripted([json(credentialsBody())]);
    const error = await failure(fetchCredentials({ ...options, deadlineMs: 500 }, broker.deps));
    expect(error.code).toBe("id_token_unavailable");
    expect(broker.requests).toHaveLength(0);
  });

  it("a deadline reached while minting after a failed attempt reports that failure (broker_unreachable), not the mint", async () => {
    // Each mint takes most of the time a retry leaves: the first attempt is refused, the backoff sleep fits, the mint does not.
    const broker = scripted([connectionRefused(), json(credentialsBody())], { random: 0, mintLatencyMs: 1_000 });
    const error = await failure(
      fetchCredentials({ ...options, deadlineMs: CLIENT_MIN_ATTEMPT_MS * 2 + 500 }, broker.deps),
    );
    expect(error.code).toBe("broker_unreachable");
    expect(error.exitCode).toBe(8);
    expect(error.message).toMatch(/Gave up after 1 attempt in /);
    expect(broker.requests).toHaveLength(1);
    expect(broker.minted).toHaveLength(2);
  });

  it("stops at a permanent token-source failure (missing id-token permission) before any request", async () => {
    const missing: TokenSource = {
      description: "the GitHub Actions token endpoint",
      mint: async () => {
        throw new ClientError("id_token_permission_missing", "no permission");
      },
    };
    const broker = scripted([], { tokens: missing });
    const error = await failure(fetchCredentials(options, broker.deps));
    expect(error.code).toBe("id_token_permission_missing");
    expect(error.exitCode).toBe(3);
    expect(broker.requests).toHaveLength(0);
  });
});

describe("fetchCredentials: secrets stay out of debug output", () => {
  it("debug lines name attempts, statuses, request ids and token hashes, never a token or a credential", async () => {
    const broker = scripted([
      connectionRefused(),
      brokerError("rate_limited", 429, { "retry-after": "1" }),
      brokerError("token_reused", 401),
      json(credentialsBody()),
    ]);
    await fetchCredentials(options, broker.deps);
    const debug = broker.debugLines.join("\n");
    expect(debug).toContain("ECONNREFUSED");
    expect(debug).toContain("HTTP 429 rate_limited");
    expect(debug).toContain("0b7c6a52-9a6e-4c61-8f5e-2d1f3a4b5c6d");
    expect(debug).toContain(`sha256 ${await tokenHashPrefix(fakeJwt(1))}`);
    for (const secret of [...broker.minted, SECRET, SESSION_TOKEN]) expect(debug).not.toContain(secret);
    // Not even a fragment of a token: its signature part is what makes it usable.
    for (const token of broker.minted) expect(debug).not.toContain(token.split(".")[2]);
  });

  it("error messages carry no token or credential either", async () => {
    const broker = scripted([json(credentialsBody({ Expiration: "2000-01-01T00:00:00Z" }))]);
    const error = await failure(fetchCredentials(options, broker.deps));
    expect(error.code).toBe("not_credentials");
    for (const secret of [fakeJwt(1), SECRET, SESSION_TOKEN]) expect(error.message).not.toContain(secret);
  });
});

describe("credentialsEndpoint", () => {
  const good: Array<[string, string]> = [
    ["https://broker.example", "https://broker.example/v1/credentials"],
    ["https://broker.example/", "https://broker.example/v1/credentials"],
    ["https://example.com/broker/", "https://example.com/broker/v1/credentials"],
    ["https://broker.example/v1/credentials", "https://broker.example/v1/credentials"],
    ["http://127.0.0.1:8787", "http://127.0.0.1:8787/v1/credentials"],
    ["http://localhost:8787", "http://localhost:8787/v1/credentials"],
  ];
  for (const [input, expected] of good)
    it(`${input} -> ${expected}`, () => expect(credentialsEndpoint(input).href).toBe(expected));

  const bad = [
    "broker.example",
    "http://broker.example",
    "https://user:pw@broker.example",
    "https://broker.example/?x=1",
    "https://broker.example/#f",
    "ftp://broker.example",
    // Written into the credential_process line: shell substitutions and quotes must never get there.
    "https://b.example/$(touch$IFS/tmp/pwn)",
    "https://b.example/a'b",
  ];
  for (const input of bad) {
    it(`refuses ${input} as usage`, () => {
      expect(() => credentialsEndpoint(input)).toThrow(ClientError);
      try {
        credentialsEndpoint(input);
      } catch (error) {
        expect((error as ClientError).code).toBe("usage");
        expect((error as ClientError).exitCode).toBe(2);
      }
    });
  }
});
