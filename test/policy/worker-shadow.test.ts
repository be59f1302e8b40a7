import { describe, expect, it } from "vitest";
import candidatePolicy from "../fixtures/policies/candidate.ts";
import testPolicy from "../fixtures/policies/index.ts";
import { definePolicy } from "../../src/policy/define.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";
import { createHarness, type Harness } from "../support/broker-harness.ts";

describe("shadow mode", () => {
  const shadowLines = (h: Harness) => h.logs.filter((line) => line.message === "policy_shadow");

  it("logs one line when the candidate decides differently, and answers with the live decision", async () => {
    const h = await createHarness({ candidatePolicy, env: { SHADOW_POLICY: "on" } });
    // The test candidate policy also deploys from release/*; the live policy does not.
    const response = await h.request(await h.mint({ ref: "refs/heads/release/1.2" }));
    expect(response.status).toBe(403);
    expect(h.sts.requestCount).toBe(0);
    const [line, ...rest] = shadowLines(h);
    expect(rest).toEqual([]);
    expect(line).toMatchObject({
      request_id: response.headers.get("x-request-id"),
      issuer: "github",
      repository: "acme/app",
      ref: "refs/heads/release/1.2",
      live: { allowed: false, reason: "no_matching_rule", rule_id: undefined },
      candidate: { allowed: true, rule_id: "acme-app-main-deploy", role: "deploy", duration_seconds: 900 },
      grant_differs: false,
    });
    expect(JSON.stringify(line)).not.toContain("arn:aws");
  });

  it("a candidate that denies what the live policy allows never takes the credentials away", async () => {
    const strict = definePolicy({
      roles: testPolicy.roles,
      rules: [{ id: "deny-all-acme", effect: "deny", match: { repository_owner: "acme" } }],
    });
    const h = await createHarness({ candidatePolicy: strict, env: { SHADOW_POLICY: "on" } });
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(shadowLines(h)[0]).toMatchObject({
      live: { allowed: true, rule_id: "acme-app-main-deploy" },
      candidate: { allowed: false, reason: "explicit_deny", rule_id: "deny-all-acme" },
    });
  });

  it("logs nothing when both agree, and nothing at all when SHADOW_POLICY is off", async () => {
    const on = await createHarness({ candidatePolicy, env: { SHADOW_POLICY: "on" } });
    expect((await on.request(await on.mint())).status).toBe(200);
    expect(shadowLines(on)).toEqual([]);
    const off = await createHarness({ candidatePolicy });
    expect((await off.request(await off.mint({ ref: "refs/heads/release/1.2" }))).status).toBe(403);
    expect(shadowLines(off)).toEqual([]);
  });

  it("a candidate that does not compile is logged once and ignored; the live policy keeps answering", async () => {
    const broken = {
      roles: {},
      rules: [{ id: "x", match: { repository: "*/*" }, roles: ["nope"] }],
    } as PolicyDefinition;
    const h = await createHarness({ candidatePolicy: broken, env: { SHADOW_POLICY: "on" } });
    expect((await h.request(await h.mint())).status).toBe(200);
    expect((await h.request(await h.mint())).status).toBe(200);
    expect(h.logs.filter((line) => line.message === "policy_shadow_disabled")).toHaveLength(1);
  });

  it("SHADOW_POLICY on without a candidate policy is logged once (candidate_policy_missing); the live policy keeps answering", async () => {
    const h = await createHarness({ env: { SHADOW_POLICY: "on" } });
    expect((await h.request(await h.mint())).status).toBe(200);
    expect((await h.request(await h.mint({ ref: "refs/heads/release/1.2" }))).status).toBe(403);
    expect(h.logs.filter((line) => line.message === "policy_shadow_disabled")).toEqual([
      { message: "policy_shadow_disabled", reason: "candidate_policy_missing" },
    ]);
    expect(shadowLines(h)).toEqual([]);
  });

  it("refuses a SHADOW_POLICY value that is neither on nor off (config_invalid)", async () => {
    const h = await createHarness({ candidatePolicy, env: { SHADOW_POLICY: "yes" } });
    expect((await h.request(await h.mint())).status).toBe(500);
  });
});
