import { describe, expect, it } from "vitest";
import type { ExchangeEvent } from "../../src/audit/event.ts";
import {
  AUDIT_BLOBS,
  AUDIT_DOUBLES,
  blob,
  double,
  REDACTED,
  scrubEvent,
  toDataPoint,
  truncateUtf8,
} from "../../src/audit/schema.ts";
import {
  AE_MAX_BLOBS,
  AE_MAX_BLOBS_TOTAL_BYTES,
  AE_MAX_DOUBLES,
  AE_MAX_INDEX_BYTES,
  AUDIT_MAX_BLOB_BYTES,
} from "../../src/audit/constants.ts";

const utf8 = new TextEncoder();
const bytes = (value: string) => utf8.encode(value).byteLength;

function event(overrides: Partial<ExchangeEvent>): ExchangeEvent {
  return {
    request_id: "0b6f1a52-3c2d-4e5f-8a9b-0c1d2e3f4a5b",
    kind: "aws",
    outcome: "issued",
    code: undefined,
    reason: undefined,
    issuer: undefined,
    repository: undefined,
    ref: undefined,
    event_name: undefined,
    rule_id: undefined,
    role_alias: undefined,
    token_sha256: undefined,
    status: 200,
    total_ms: 0,
    verify_ms: undefined,
    admission_ms: undefined,
    sts_ms: undefined,
    sts_attempts: undefined,
    ...overrides,
  };
}

describe("toDataPoint: the exact data point for each outcome", () => {
  it("issued: every field at its position, timings as measured", () => {
    const point = toDataPoint(
      event({
        outcome: "issued",
        issuer: "github",
        repository: "acme/app",
        ref: "refs/heads/main",
        event_name: "push",
        rule_id: "acme-app-main-deploy",
        role_alias: "deploy",
        token_sha256: "9f86d081884c7d65",
        status: 200,
        total_ms: 212,
        verify_ms: 31,
        admission_ms: 4,
        sts_ms: 170,
        sts_attempts: 1,
      }),
    );
    expect(point).toEqual({
      indexes: ["acme/app"],
      blobs: [
        "issued",
        "",
        "",
        "github",
        "acme/app",
        "refs/heads/main",
        "push",
        "acme-app-main-deploy",
        "deploy",
        "0b6f1a52-3c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "9f86d081884c7d65",
        "",
        "aws",
        "",
        "",
        "",
        "",
      ],
      doubles: [200, 212, 31, 4, 170, 1, 1, -1, -1],
    });
  });

  it("denied: code, reason and the denying rule; no role, STS never called (-1 ms, 0 attempts)", () => {
    const point = toDataPoint(
      event({
        outcome: "denied",
        code: "forbidden",
        reason: "explicit_deny",
        issuer: "github",
        repository: "acme/app",
        ref: "refs/heads/dev",
        event_name: "pull_request_target",
        rule_id: "no-prt",
        token_sha256: "00ff00ff00ff00ff",
        status: 403,
        total_ms: 40,
        verify_ms: 35,
      }),
    );
    expect(point).toEqual({
      indexes: ["acme/app"],
      blobs: [
        "denied",
        "forbidden",
        "explicit_deny",
        "github",
        "acme/app",
        "refs/heads/dev",
        "pull_request_target",
        "no-prt",
        "",
        "0b6f1a52-3c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "00ff00ff00ff00ff",
        "",
        "aws",
        "",
        "",
        "",
        "",
      ],
      doubles: [403, 40, 35, -1, -1, 0, 1, -1, -1],
    });
  });

  it("rejected before verification: repository unknown, so the index is '-'", () => {
    const point = toDataPoint(
      event({
        outcome: "rejected",
        code: "invalid_token",
        reason: "token_expired",
        token_sha256: "abcdefabcdefabcd",
        status: 401,
        total_ms: 3,
        verify_ms: 2,
      }),
    );
    expect(point).toEqual({
      indexes: ["-"],
      blobs: [
        "rejected",
        "invalid_token",
        "token_expired",
        "",
        "",
        "",
        "",
        "",
        "",
        "0b6f1a52-3c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "abcdefabcdefabcd",
        "",
        "aws",
        "",
        "",
        "",
        "",
      ],
      doubles: [401, 3, 2, -1, -1, 0, 1, -1, -1],
    });
  });

  it("error after STS retries: attempts and STS time are kept", () => {
    const point = toDataPoint(
      event({
        outcome: "error",
        code: "upstream_unavailable",
        reason: "sts_unavailable",
        issuer: "github",
        repository: "acme/app",
        rule_id: "acme-app-main-deploy",
        role_alias: "deploy",
        status: 503,
        total_ms: 5000,
        verify_ms: 10,
        admission_ms: 2,
        sts_ms: 4000,
        sts_attempts: 4,
      }),
    );
    expect(point.blobs.slice(0, 3)).toEqual(["error", "upstream_unavailable", "sts_unavailable"]);
    expect(point.doubles).toEqual([503, 5000, 10, 2, 4000, 4, 1, -1, -1]);
  });
});

describe("schema limits (Analytics Engine: 20 blobs, 20 doubles, one 96-byte index, blobs 16 KB total)", () => {
  it("stays within the counts, and the worst case stays under 5120 bytes of blobs", () => {
    expect(AUDIT_BLOBS.length).toBeLessThanOrEqual(AE_MAX_BLOBS);
    expect(AUDIT_DOUBLES.length).toBeLessThanOrEqual(AE_MAX_DOUBLES);
    const huge = "é".repeat(10_000);
    const point = toDataPoint(
      event({
        outcome: "rejected",
        code: "invalid_token",
        reason: huge,
        issuer: huge,
        repository: huge,
        ref: huge,
        event_name: huge,
        rule_id: huge,
        role_alias: huge,
        request_id: huge,
        token_sha256: huge,
      }),
    );
    expect(point.blobs.every((value) => bytes(value) <= AUDIT_MAX_BLOB_BYTES)).toBe(true);
    expect(point.blobs.reduce((sum, value) => sum + bytes(value), 0)).toBeLessThanOrEqual(AE_MAX_BLOBS_TOTAL_BYTES);
    expect(bytes(point.indexes[0])).toBeLessThanOrEqual(AE_MAX_INDEX_BYTES);
    // Cut on a code point boundary: no replacement characters.
    expect(point.blobs.join("")).not.toContain("\uFFFD");
    expect(point.indexes[0]).toBe("é".repeat(48));
  });

  it("a 100-character repository (GitHub's longest name) is cut to a 96-byte index but kept whole in blob5", () => {
    const repository = `a-very-long-owner-name/${"r".repeat(100)}`;
    const point = toDataPoint(event({ repository }));
    expect(point.indexes[0]).toBe(repository.slice(0, 96));
    expect(point.blobs[4]).toBe(repository);
  });

  it.each([
    ["ascii", "abcdef", 4, "abcd"],
    ["two-byte", "éééé", 5, "éé"],
    ["four-byte (emoji)", "😀😀", 7, "😀"],
    ["fits", "ok", 96, "ok"],
    ["zero", "abc", 0, ""],
  ])("truncateUtf8 %s", (_name, value, max, expected) => {
    expect(truncateUtf8(value, max)).toBe(expected);
  });

  it("blob()/double() name the SQL columns of the schema", () => {
    expect([blob("outcome"), blob("reason"), blob("repository"), blob("request_id"), blob("token_sha256")]).toEqual([
      "blob1",
      "blob3",
      "blob5",
      "blob10",
      "blob11",
    ]);
    expect([double("status"), double("total_ms"), double("sts_ms"), double("sts_attempts")]).toEqual([
      "double1",
      "double2",
      "double5",
      "double6",
    ]);
  });
});

describe("scrubEvent: nothing shaped like a secret reaches a sink", () => {
  it.each([
    ["a role ARN", "arn:aws:iam::111122223333:role/deploy", REDACTED, "111122223333"],
    ["a GovCloud ARN", "refs/heads/arn:aws-us-gov:iam::111122223333:role/x", `refs/heads/${REDACTED}`, "111122223333"],
    ["an access key id", "AKIAIOSFODNN7EXAMPLE", REDACTED, "AKIAIOSFODNN7EXAMPLE"],
    ["a session key id", "ASIAXXXXXXXXXXXXXXXX", REDACTED, "ASIAXXXXXXXXXXXXXXXX"],
    ["a JWT", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", REDACTED, "eyJ"],
  ])("%s in a claim is masked, and only it", (_name, value, masked, secret) => {
    const scrubbed = scrubEvent(event({ repository: value, ref: value, reason: value }));
    expect([scrubbed.repository, scrubbed.ref, scrubbed.reason]).toEqual([masked, masked, masked]);
    expect(JSON.stringify(toDataPoint(scrubbed))).not.toContain(secret);
  });

  it("ordinary values pass unchanged", () => {
    const original = event({
      repository: "acme/app",
      ref: "refs/heads/main",
      reason: "no_matching_rule",
      rule_id: "r1",
      role_alias: "deploy",
    });
    expect(scrubEvent(original)).toEqual(original);
  });
});
