// The alert cron's own behaviour through the cron Worker's `scheduled` handler: not configured, misconfigured, and the
// SQL API failing (alerting itself down). The rules (cron-rules.test.ts) and the cooldown (cron-cooldown.test.ts)
// apart.
import { describe, expect, it } from "vitest";
import { alertEnv, createCronHarness, lines, setup, T0 } from "./cron-harness.ts";
import { ACCOUNT, API_TOKEN, insertSpread, MIN, WEBHOOK } from "./helpers.ts";

describe("not configured", () => {
  it("does nothing and logs once per isolate", async () => {
    const h = createCronHarness();
    await h.scheduled();
    await h.scheduled();
    expect(h.network.calls).toEqual([]);
    expect(h.logs).toEqual([
      {
        message: "alerts_disabled",
        missing: ["ALERT_WEBHOOK_URL", "ANALYTICS_API_TOKEN", "ANALYTICS_ACCOUNT_ID"],
        cron: "*/5 * * * *",
      },
    ]);
  });

  it("an invalid setting is logged by name (not value) and nothing runs", async () => {
    const h = createCronHarness({
      ALERT_WEBHOOK_URL: WEBHOOK,
      ANALYTICS_API_TOKEN: API_TOKEN,
      ANALYTICS_ACCOUNT_ID: ACCOUNT,
      ALERT_RULES: '{"denials":{"max":"many"}}',
    });
    await h.scheduled();
    expect(h.network.calls).toEqual([]);
    expect(h.logs).toEqual([
      expect.objectContaining({
        message: "alerts_config_invalid",
        reason: "alert_config_invalid",
        detail: "invalid settings: ALERT_RULES.denials.max",
      }),
    ]);
  });
});

describe("failures", () => {
  it("the SQL API refusing the token: logged, and one `alerting is failing` message through the incident cooldown", async () => {
    const s = await setup({ ANALYTICS_API_TOKEN: "a-revoked-analytics-token" });
    insertSpread(s.sql, s.dataset, "denied", 80, T0 - 30 * MIN, T0 - 2 * MIN);
    const [message] = await s.run(0);
    expect(message).toContain("*ci-credential-broker alerting is failing*");
    expect(message).toContain("unauthorized (HTTP 401)");
    expect(lines(s.h, "alerts_query_failed")).toEqual([
      { message: "alerts_query_failed", reason: "unauthorized", status: 401, error: "SqlApiError" },
    ]);
    // Still failing on every run: no second message within the incident.
    for (const minute of [5, 10, 30, 55]) expect(await s.run(minute * MIN)).toEqual([]);
    const everything = JSON.stringify([s.h.logs, s.webhook.requests.map((r) => r.body)]);
    expect(everything).not.toContain("a-revoked-analytics-token");
    expect(everything).not.toContain(ACCOUNT);
    expect(await alertEnv.ALERT_STATE.get(`alerts:v1:incident:${s.dataset}:denials`)).toBeNull();
    expect(
      JSON.parse((await alertEnv.ALERT_STATE.get(`alerts:v1:incident:${s.dataset}:alerting`)) ?? "null"),
    ).toMatchObject({
      opened_at: T0,
      notified_at: T0,
    });
  });

  it("the SQL API down: logged as unavailable; the next run recovers", async () => {
    const s = await setup();
    insertSpread(s.sql, s.dataset, "denied", 80, T0 - 30 * MIN, T0 - 2 * MIN);
    s.sql.failNext(503, "upstream connect error");
    expect(await s.run(0)).toEqual([expect.stringContaining("alerting is failing")]);
    expect(lines(s.h, "alerts_query_failed")[0]).toMatchObject({ reason: "unavailable", status: 503 });
    expect(await s.run(5 * MIN)).toEqual([expect.stringContaining("alert: denials*")]);
  });
});
