import { describe, expect, it } from "vitest";
import { createLogView } from "../../sandbox/log-view.ts";

const at = new Date(2026, 10, 29, 18, 52, 3);
const quiet = () => createLogView({ verbose: false, now: () => at });

const denied = {
  message: "credential_exchange",
  request_id: "2c51e793-c19f-4478-ac26-9bfd4bb42185",
  outcome: "denied",
  code: "forbidden",
  reason: "guard_self_hosted_runner",
  issuer: "github",
  repository: "acme/app",
  ref: "refs/heads/main",
  rule_id: "acme-app-main-deploy",
  token_sha256: "720ec438439ff327",
  status: 403,
  total_ms: 180,
};

describe("createLogView", () => {
  it("turns an exchange log line into one line: time, status, code, reason, rule, repository, request id", () => {
    expect(quiet()(JSON.stringify(denied))).toBe(
      "18:52:03 403 forbidden reason=guard_self_hosted_runner rule=acme-app-main-deploy repository=acme/app request_id=2c51e793-c19f-4478-ac26-9bfd4bb42185",
    );
  });

  it("shows an issuance with its rule and role, and a refusal before the claims were trusted with repository -", () => {
    const view = quiet();
    const issued = {
      message: "credential_exchange",
      request_id: "r1",
      outcome: "issued",
      rule_id: "acme-app-main-deploy",
      role_alias: "deploy",
      repository: "acme/app",
      status: 200,
    };
    expect(view(JSON.stringify(issued))).toBe(
      "18:52:03 200 issued rule=acme-app-main-deploy role=deploy repository=acme/app request_id=r1",
    );
    const rejected = {
      message: "credential_exchange",
      request_id: "r2",
      outcome: "rejected",
      code: "invalid_token",
      reason: "audience_mismatch",
      status: 401,
    };
    expect(view(JSON.stringify(rejected))).toBe(
      "18:52:03 401 invalid_token reason=audience_mismatch repository=- request_id=r2",
    );
  });

  it("shows a shadow-mode difference as one line with both decisions", () => {
    const shadow = {
      message: "policy_shadow",
      request_id: "r3",
      repository: "acme/app",
      ref: "refs/heads/release/1.2",
      live: { allowed: false, reason: "no_matching_rule" },
      candidate: { allowed: true, rule_id: "acme-app-release-deploy", role: "deploy", duration_seconds: 900 },
    };
    expect(quiet()(JSON.stringify(shadow))).toBe(
      "18:52:03 shadow live=deny:no_matching_rule candidate=allow:acme-app-release-deploy:deploy repository=acme/app ref=refs/heads/release/1.2 request_id=r3",
    );
  });

  it("drops wrangler's start-up chatter, bindings table included, and blank lines", () => {
    const view = quiet();
    const chatter = [
      " ⛅️ wrangler 4.164.0",
      "────────────────────",
      "Using secrets defined in .dev.vars.sandbox",
      "Your Worker has access to the following bindings:",
      "Binding                                   Resource                      Mode",
      'env.AWS_REGION ("us-east-1")              Environment Variable          local',
      "",
      "⎔ Starting local server...",
      "[wrangler:info] Ready on http://127.0.0.1:8787",
      "\u001b[32m[wrangler:info] POST /v1/credentials 403 Forbidden (261ms)\u001b[0m",
      "   ",
    ];
    for (const line of chatter) expect(view(line), line).toBeUndefined();
  });

  it("passes through anything else as it is: warnings, errors, other Worker log lines", () => {
    const view = quiet();
    for (const line of [
      "\u001b[33m▲ [WARNING]\u001b[0m something wrangler wants you to know",
      "✘ [ERROR] Build failed",
      '{"message":"config_invalid","variable":"ISSUERS"}',
      "Error: getaddrinfo ENOTFOUND example.com",
      "{not json",
    ]) {
      expect(view(line)).toBe(line);
    }
  });

  it("passes every line through unchanged with --verbose", () => {
    const view = createLogView({ verbose: true, now: () => at });
    for (const line of [JSON.stringify(denied), "[wrangler:info] Ready on http://127.0.0.1:8787", ""])
      expect(view(line)).toBe(line);
  });
});
