import { describe, expect, it } from "vitest";
import type { AssumeRoleInput } from "../../src/aws/session.ts";
import { assumeRole, backoffMs, type AssumeRoleDeps } from "../../src/aws/sts-client.ts";
import { assumeRoleForm } from "../../src/aws/sts-request.ts";
import type { AwsOptions } from "../../src/config.ts";
import {
  MAX_STS_RESPONSE_BYTES,
  STS_BACKOFF_BASE_MS,
  STS_BACKOFF_CAP_MS,
  STS_DEADLINE_MS,
  STS_MAX_ATTEMPTS,
} from "../../src/aws/constants.ts";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../../src/http/constants.ts";
import { BrokerError } from "../../src/errors.ts";
import { createFakeNetwork, type Handler } from "../support/fake-network.ts";
import { createStsEmulator, type StsEmulatorOptions, type StsPrincipal } from "../support/sts-emulator.ts";

const ORIGIN = "https://sts.us-east-1.amazonaws.com";
const ROLE_ARN = "arn:aws:iam::123456789012:role/deploy";
const START_MS = Date.UTC(2026, 10, 25, 12, 0, 0);
/** Real milliseconds an attempt may take in these tests: keeps the hang tests fast. */
const TEST_ATTEMPT_TIMEOUT_MS = 25;

const input: AssumeRoleInput = {
  roleArn: ROLE_ARN,
  roleSessionName: "gh-9876543210-1-octo-org.app",
  durationSeconds: 900,
  sourceIdentity: "gh-octocat",
  tags: [
    { key: "Repository", value: "octo-org/app" },
    { key: "Workflow", value: "Deploy to prod" },
  ],
  transitiveTagKeys: ["Repository"],
  sessionPolicy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}',
  policyArns: [],
  externalId: undefined,
};

function randomText(alphabet: string, length: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(length)), (byte) => alphabet[byte % alphabet.length]).join(
    "",
  );
}

/** A fresh IAM-user-like key pair, generated per test: nothing committed. */
function testPrincipal(): Required<Pick<StsPrincipal, "accessKeyId" | "secretAccessKey">> {
  return {
    accessKeyId: `AKIA${randomText("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)}`,
    secretAccessKey: randomText("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40),
  };
}

interface Harness {
  deps: AssumeRoleDeps;
  emulator: ReturnType<typeof createStsEmulator>;
  network: ReturnType<typeof createFakeNetwork>;
  sleeps: number[];
  clock: { ms: number };
  principal: { accessKeyId: string; secretAccessKey: string };
}

function harness(
  options: {
    emulator?: Partial<StsEmulatorOptions>;
    aws?: Partial<AwsOptions>;
    random?: () => number;
    /** Extra injected-clock ms each sleep takes beyond what was asked (a slow scheduler). */
    sleepOverrunMs?: number;
    /** Injected-clock ms each request spends on the wire. */
    latencyMs?: number;
    handler?: Handler;
  } = {},
): Harness {
  const clock = { ms: START_MS };
  const principal = testPrincipal();
  const emulator = createStsEmulator({ now: () => clock.ms, principals: [principal], ...options.emulator });
  const network = createFakeNetwork({ [ORIGIN]: options.handler ?? emulator.handler });
  const sleeps: number[] = [];
  const latency = options.latencyMs ?? 0;
  const deps: AssumeRoleDeps = {
    aws: { region: "us-east-1", stsEndpoint: `${ORIGIN}/`, ...principal, sessionToken: undefined, ...options.aws },
    fetch: async (request, init) => {
      const response = await network.fetch(request, init);
      clock.ms += latency;
      return response;
    },
    now: () => clock.ms,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.ms += ms + (options.sleepOverrunMs ?? 0);
    },
    random: options.random ?? (() => 0.5),
    attemptTimeoutMs: TEST_ATTEMPT_TIMEOUT_MS,
  };
  return { deps, emulator, network, sleeps, clock, principal };
}

async function failure(promise: Promise<unknown>): Promise<BrokerError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BrokerError);
    return error as BrokerError;
  }
  throw new Error("expected a BrokerError");
}

/** Everything a log line could print about an error. */
function printable(error: BrokerError): string {
  return [
    error.message,
    error.reason,
    error.code,
    String(error.cause),
    JSON.stringify(error.cause),
    JSON.stringify(error),
    error.stack ?? "",
  ].join("\n");
}

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

describe("assumeRole: final errors", () => {
  it.each([
    ["denyRole (the trust policy refuses)", (h: Harness) => h.emulator.denyRole(ROLE_ARN)],
    ["injected access_denied", (h: Harness) => h.emulator.inject("access_denied")],
  ])("AccessDenied via %s -> forbidden/sts_access_denied, no retry, no ARN kept", async (_label, arrange) => {
    const h = harness();
    arrange(h);
    const error = await failure(assumeRole(input, h.deps));
    expect(error.code).toBe("forbidden");
    expect(error.reason).toBe("sts_access_denied");
    expect(h.emulator.requestCount).toBe(1);
    expect(h.sleeps).toEqual([]);
    const text = printable(error);
    expect(text).not.toContain("arn:");
    expect(text).not.toMatch(/\d{12}/);
    expect(text).not.toContain(h.principal.accessKeyId);
  });

  it.each<[string, Partial<AssumeRoleInput>]>([
    ["a 65-character session name", { roleSessionName: "a".repeat(65) }],
    ["a session name with a space", { roleSessionName: "gh run" }],
    ["a source identity with aws: prefix", { sourceIdentity: "aws:me" }],
    ["a duration above the role's maximum", { durationSeconds: 7200 }],
    ["a malformed session policy", { sessionPolicy: "{not json" }],
    ["a transitive key without its tag", { transitiveTagKeys: ["Nope"] }],
    [
      "tags too large to pack",
      { tags: Array.from({ length: 50 }, (_, i) => ({ key: `K${i}`, value: "v".repeat(256) })), transitiveTagKeys: [] },
    ],
  ])("STS refusing %s -> internal_error/sts_rejected_request, no retry", async (_label, change) => {
    const h = harness();
    const error = await failure(assumeRole({ ...input, ...change }, h.deps));
    expect(error.code).toBe("internal_error");
    expect(error.reason).toBe("sts_rejected_request");
    expect(h.emulator.requestCount).toBe(1);
    expect(h.sleeps).toEqual([]);
    expect(printable(error)).not.toContain("arn:");
  });

  it.each<[string, (h: Harness) => void]>([
    [
      "a wrong secret (SignatureDoesNotMatch)",
      (h) => (h.deps.aws = { ...h.deps.aws, secretAccessKey: testPrincipal().secretAccessKey }),
    ],
    [
      "an unknown key (InvalidClientTokenId)",
      (h) => (h.deps.aws = { ...h.deps.aws, accessKeyId: testPrincipal().accessKeyId }),
    ],
    [
      "a session token the key does not have",
      (h) => (h.deps.aws = { ...h.deps.aws, sessionToken: "IQoJnotatokenatall" }),
    ],
    ["the wrong signing region", (h) => (h.deps.aws = { ...h.deps.aws, region: "eu-west-1" })],
    ["a clock 10 minutes slow", (h) => (h.deps.now = () => h.clock.ms - 10 * 60 * 1000)],
  ])(
    "the broker's own credentials failing with %s -> internal_error/sts_broker_credentials",
    async (_label, arrange) => {
      const h = harness();
      arrange(h);
      const error = await failure(assumeRole(input, h.deps));
      expect(error.code).toBe("internal_error");
      expect(error.reason).toBe("sts_broker_credentials");
      expect(h.emulator.requestCount).toBe(1);
      expect(printable(error)).not.toContain(h.deps.aws.secretAccessKey);
    },
  );
});

describe("assumeRole: answers that are not the emulator's", () => {
  const xmlError = (status: number, code: string) =>
    new Response(
      `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>arn:aws:iam::123456789012:role/deploy</Message></Error></ErrorResponse>`,
      { status, headers: { "content-type": "text/xml" } },
    );

  it.each<[string, () => Response, { code: string; reason: string; requests: number }]>([
    [
      "RegionDisabledException",
      () => xmlError(403, "RegionDisabledException"),
      { code: "upstream_unavailable", reason: "sts_region_disabled", requests: 1 },
    ],
    [
      "an unknown 4xx code",
      () => xmlError(400, "SomethingNew"),
      { code: "internal_error", reason: "sts_rejected_request", requests: 1 },
    ],
    [
      "MalformedPolicyDocument",
      () => xmlError(400, "MalformedPolicyDocument"),
      { code: "internal_error", reason: "sts_rejected_request", requests: 1 },
    ],
    [
      "ExpiredToken",
      () => xmlError(403, "ExpiredToken"),
      { code: "internal_error", reason: "sts_broker_credentials", requests: 1 },
    ],
    [
      "RequestLimitExceeded",
      () => xmlError(400, "RequestLimitExceeded"),
      { code: "upstream_unavailable", reason: "sts_throttled", requests: STS_MAX_ATTEMPTS },
    ],
    [
      "IDPCommunicationError",
      () => xmlError(400, "IDPCommunicationError"),
      { code: "upstream_unavailable", reason: "sts_unavailable", requests: STS_MAX_ATTEMPTS },
    ],
    [
      "429 without a body",
      () => new Response(null, { status: 429 }),
      { code: "upstream_unavailable", reason: "sts_throttled", requests: STS_MAX_ATTEMPTS },
    ],
    [
      "502 HTML page",
      () => new Response("<html><body>Bad Gateway</body></html>", { status: 502 }),
      { code: "upstream_unavailable", reason: "sts_unavailable", requests: STS_MAX_ATTEMPTS },
    ],
    [
      "200 HTML page (captive proxy)",
      () => new Response("<html><body>Login</body></html>", { status: 200 }),
      { code: "upstream_unavailable", reason: "sts_bad_response", requests: 1 },
    ],
    [
      "403 HTML page",
      () => new Response("<html>Forbidden</html>", { status: 403 }),
      { code: "upstream_unavailable", reason: "sts_bad_response", requests: 1 },
    ],
    [
      "a redirect",
      () => new Response(null, { status: 302, headers: { location: "https://evil.example/" } }),
      { code: "upstream_unavailable", reason: "sts_bad_response", requests: 1 },
    ],
    [
      "an oversized declared body",
      () => new Response("x", { status: 200, headers: { "content-length": String(MAX_STS_RESPONSE_BYTES + 1) } }),
      { code: "upstream_unavailable", reason: "sts_bad_response", requests: 1 },
    ],
    [
      "an oversized streamed body",
      () => {
        const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
        let sent = 0;
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            sent += 1;
            if (sent > 10) controller.close();
            else controller.enqueue(chunk);
          },
        });
        return new Response(body, { status: 200 });
      },
      { code: "upstream_unavailable", reason: "sts_bad_response", requests: 1 },
    ],
    [
      "a body that is not UTF-8",
      () => new Response(new Uint8Array([0x3c, 0xff, 0xfe, 0x3e]), { status: 200 }),
      { code: "upstream_unavailable", reason: "sts_bad_response", requests: 1 },
    ],
  ])("%s", async (_label, respond, expected) => {
    let requests = 0;
    const h = harness({
      handler: () => {
        requests += 1;
        return respond();
      },
    });
    const error = await failure(assumeRole(input, h.deps));
    expect({ code: error.code, reason: error.reason, requests }).toEqual(expected);
    if (error.code === "upstream_unavailable") expect(error.retryAfterSeconds).toBe(UPSTREAM_RETRY_AFTER_SECONDS);
    const text = printable(error);
    expect(text).not.toContain("arn:");
    expect(text).not.toContain("evil.example");
  });
});
