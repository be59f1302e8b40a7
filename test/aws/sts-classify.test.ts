// What an STS answer means (src/aws/sts-classify.ts), through the client: final errors that are never retried, and
// answers that are not STS's (HTML pages, redirects, oversized or non-UTF-8 bodies), none of which leak an ARN.
import { describe, expect, it } from "vitest";
import type { AssumeRoleInput } from "../../src/aws/session.ts";
import { assumeRole } from "../../src/aws/sts-client.ts";
import { MAX_STS_RESPONSE_BYTES, STS_MAX_ATTEMPTS } from "../../src/aws/constants.ts";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../../src/http/constants.ts";
import { failure, harness, type Harness, input, printable, ROLE_ARN, testPrincipal } from "./sts-helpers.ts";

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
