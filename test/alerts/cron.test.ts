// The alert cron through the Worker's `scheduled` handler (createScheduledController), with the SQL API and the
// webhook behind the fake network and incident state in the real local KV. Time is driven by scheduledTime.
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { subjectIncidentKey } from "../../src/alerts/incidents.ts";
import { AE_INGEST_LAG_MS } from "../../src/alerts/constants.ts";
import { createHarness, type Harness } from "../support/broker-harness.ts";
import { createFakeSqlApi, createFakeWebhook, type FakeSqlApi, type FakeWebhook } from "../support/fake-analytics.ts";
import { ACCOUNT, API_TOKEN, auditPoint, insertSpread, MIN, WEBHOOK } from "./helpers.ts";

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

interface Setup {
  h: Harness;
  sql: FakeSqlApi;
  webhook: FakeWebhook;
  dataset: string;
  /** Runs the cron at T0 + offset; returns the webhook messages it added. */
  run(offsetMs: number): Promise<string[]>;
}

async function setup(vars: Record<string, string> = {}): Promise<Setup> {
  // A dataset per test: incident state in KV is keyed by dataset, and test files share local KV.
  const dataset = `ds_${crypto.randomUUID().replace(/-/g, "")}`;
  const h = await createHarness({
    env: {
      ALERT_WEBHOOK_URL: WEBHOOK,
      ANALYTICS_API_TOKEN: API_TOKEN,
      ANALYTICS_ACCOUNT_ID: ACCOUNT,
      AUDIT_DATASET: dataset,
      ...vars,
    },
  });
  let scheduledTime = T0;
  const sql = createFakeSqlApi({ accountId: ACCOUNT, apiToken: API_TOKEN, now: () => scheduledTime });
  const webhook = createFakeWebhook();
  h.network.route("https://api.cloudflare.com", sql.handler);
  h.network.route(new URL(WEBHOOK).origin, webhook.handler);
  // The table exists once anything was written: one old row.
  insertSpread(sql, dataset, "issued", 1, T0 - 30 * 24 * 60 * MIN, T0 - 29 * 24 * 60 * MIN);
  return {
    h,
    sql,
    webhook,
    dataset,
    async run(offsetMs) {
      scheduledTime = T0 + offsetMs;
      const before = webhook.messages.length;
      await h.scheduled({ scheduledTime });
      return webhook.messages.slice(before).map((message) => message.text);
    },
  };
}

const lines = (h: Harness, message: string) => h.logs.filter((line) => line.message === message);

describe("not configured", () => {
  it("does nothing and logs once per isolate", async () => {
    const h = await createHarness();
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
    const h = await createHarness({
      env: {
        ALERT_WEBHOOK_URL: WEBHOOK,
        ANALYTICS_API_TOKEN: API_TOKEN,
        ANALYTICS_ACCOUNT_ID: ACCOUNT,
        ALERT_RULES: '{"denials":{"max":"many"}}',
      },
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

  describe("the deployed Worker's own scheduled export", () => {
    afterEach(() => vi.restoreAllMocks());

    it("with wrangler.toml's vars (no account id, no secrets) alerting is off and makes no request", async () => {
      const fetchSpy = vi.spyOn(globalThis, "fetch");
      const logSpy = vi.spyOn(console, "log").mockImplementation(() => undefined);
      expect(env.ANALYTICS_ACCOUNT_ID ?? "").toBe("");
      // The loopback service binding to this Worker: its scheduled() runs src/index.ts's handler (types omit it).
      const worker = exports.default as unknown as {
        scheduled(options: { scheduledTime: number; cron: string }): Promise<unknown>;
      };
      await worker.scheduled({ scheduledTime: T0, cron: "*/5 * * * *" });
      expect(fetchSpy).not.toHaveBeenCalled();
      expect(logSpy.mock.calls.map((call) => String(call[0]))).toContainEqual(
        expect.stringContaining('"message":"alerts_disabled"'),
      );
    });
  });
});

describe("rules through the cron", () => {
  it("issuance drop: one Slack-compatible message naming the rule and numbers, and no secret", async () => {
    const s = await setup();
    const end = T0 - AE_INGEST_LAG_MS;
    insertSpread(s.sql, s.dataset, "issued", 120, end - 65 * MIN + 1, end - 5 * MIN); // 10 per 5 min in the baseline hour
    insertSpread(s.sql, s.dataset, "issued", 1, end - 4 * MIN, end); // then 1
    const messages = await s.run(0);
    expect(messages).toEqual([
      [
        `:rotating_light: *ci-credential-broker alert: issuance_drop* (dataset ${s.dataset})`,
        "Issuance down 90%: 1 credentials issued in the last 5 min, against 10 expected from the previous 60 min (120 issued). Threshold: more than 80% down.",
        "Window ends 2026-11-25T11:59:00Z. One message per incident: quiet until this rule has not fired for 60 min, unless it grows 4x.",
        "Investigate: `npm run analytics -- issuance --since 2h`",
      ].join("\n"),
    ]);
    const request = s.webhook.requests[0];
    expect(request).toMatchObject({ method: "POST", url: WEBHOOK, contentType: "application/json" });
    expect(Object.keys(JSON.parse(request?.body ?? "{}"))).toEqual(["text"]);
    const everything = JSON.stringify([s.webhook.requests.map((r) => r.body), s.h.logs]);
    for (const secret of [API_TOKEN, ACCOUNT, "XXXXSECRETXXXX", "arn:aws"]) expect(everything).not.toContain(secret);
    // The windows end at the scheduled time minus the ingestion lag.
    expect(s.sql.queries[0]).toContain(`timestamp <= toDateTime(${end / 1000})`);
    expect(lines(s.h, "alerts_evaluated")).toEqual([
      {
        message: "alerts_evaluated",
        window_end: "2026-11-25T11:59:00.000Z",
        metrics: expect.objectContaining({ issuedRecent: 1, issuedBaseline: 120, denials: 0, stsP99Ms: 150 }),
        firing: ["issuance_drop"],
        notified: ["issuance_drop"],
        suppressed: [],
        failed: [],
      },
    ]);
  });

  it("more than 50 denials in an hour, and STS p99 above 500 ms: one message per rule", async () => {
    const s = await setup();
    insertSpread(s.sql, s.dataset, "denied", 51, T0 - 50 * MIN, T0 - 2 * MIN);
    insertSpread(s.sql, s.dataset, "issued", 10, T0 - 10 * MIN, T0 - 2 * MIN, { stsMs: 700 });
    const messages = await s.run(0);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toContain("*ci-credential-broker alert: denials*");
    expect(messages[0]).toContain(
      "51 requests of owner acme (1 repository) denied by policy as no_matching_rule in the last 60 min. Threshold: more than 50 per owner and reason.",
    );
    expect(messages[1]).toContain("*ci-credential-broker alert: sts_p99*");
    expect(messages[1]).toContain("STS p99 is 700 ms over 10 calls in the last 15 min. Threshold: above 500 ms.");
  });

  it("replay: more than N token_reused an hour, one incident per repository", async () => {
    const s = await setup({ ALERT_RULES: '{"replay":{"max":2}}' });
    const reused = (repository: string, count: number, from: number) => {
      for (let i = 0; i < count; i++)
        s.sql.insert(s.dataset, auditPoint("rejected", { repository, code: "token_reused" }), from + i * MIN);
    };
    reused("acme/app", 3, T0 - 30 * MIN);
    reused("acme/infra", 2, T0 - 30 * MIN); // at the threshold: quiet
    const first = await s.run(0);
    expect(first).toHaveLength(1);
    expect(first[0]).toContain("*ci-credential-broker alert: replay*");
    expect(first[0]).toContain("acme/app");
    expect(first[0]).toContain("`npm run analytics -- replays --since 1h`");
    // Five minutes on: acme/app's incident is open (quiet); acme/infra crosses the threshold and alerts on its own.
    reused("acme/infra", 1, T0);
    const second = await s.run(5 * MIN);
    expect(second).toHaveLength(1);
    expect(second[0]).toContain("acme/infra");
    expect(lines(s.h, "alerts_evaluated").at(-1)).toMatchObject({
      firing: ["replay", "replay"],
      notified: ["replay"],
      suppressed: ["replay"],
    });
  });

  it("at the thresholds (50 denials, p99 500 ms) nothing is sent", async () => {
    const s = await setup();
    insertSpread(s.sql, s.dataset, "denied", 50, T0 - 50 * MIN, T0 - 2 * MIN);
    insertSpread(s.sql, s.dataset, "issued", 10, T0 - 10 * MIN, T0 - 2 * MIN, { stsMs: 500 });
    expect(await s.run(0)).toEqual([]);
  });

  it("thresholds and rules come from ALERT_RULES; disabled rules are not queried", async () => {
    const s = await setup({
      ALERT_RULES:
        '{"denials":{"max":3,"window_minutes":10},"issuance_drop":{"enabled":false},"sts_p99":{"enabled":false},"replay":{"enabled":false},"github_rate_limit":{"enabled":false},"github_token_wide":{"enabled":false}}',
    });
    insertSpread(s.sql, s.dataset, "denied", 4, T0 - 9 * MIN, T0 - 2 * MIN);
    const messages = await s.run(0);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(
      "4 requests of owner acme (1 repository) denied by policy as no_matching_rule in the last 10 min. Threshold: more than 3 per owner and reason.",
    );
    expect(s.sql.queries).toHaveLength(1);
    expect(s.sql.queries[0]).not.toContain("issued");
  });
});

describe("cooldown: one incident, one message", () => {
  it("quiet while an incident lasts or flaps within the cooldown; a new message after a full cooldown without firing", async () => {
    const s = await setup({ ALERT_COOLDOWN_MINUTES: "30" });
    // Three bursts of 60 denials. Each fires while it is inside the 60-minute window (minus the minute of lag).
    for (const at of [T0 - 10 * MIN, T0 + 60 * MIN, T0 + 150 * MIN])
      insertSpread(s.sql, s.dataset, "denied", 60, at, at + 1);
    const sent: number[] = [];
    for (let minute = 0; minute <= 160; minute += 5) if ((await s.run(minute * MIN)).length > 0) sent.push(minute);
    // Burst 1 fires at 0..50 (one message at 0). Burst 2 fires at 65..120: 15 min after the last firing, the same
    // incident (flapping), so no message. Burst 3 fires at 155: 35 min after the last firing, a new incident.
    expect(sent).toEqual([0, 155]);
    expect(s.webhook.messages).toHaveLength(2);
    const evaluated = lines(s.h, "alerts_evaluated");
    expect(evaluated.filter((line) => (line.suppressed as string[]).includes("denials"))).toHaveLength(10 + 12 + 1);
    const stored = JSON.parse(
      (await env.JWKS_CACHE.get(await subjectIncidentKey(s.dataset, "denials", "acme no_matching_rule"))) ?? "null",
    );
    expect(stored).toEqual({
      opened_at: T0 + 155 * MIN,
      last_fired_at: T0 + 160 * MIN,
      notified_at: T0 + 155 * MIN,
      notified_value: 60,
    });
  });

  it("a stranger's steady trickle cannot hold our incident quiet: incidents are per owner and reason", async () => {
    const s = await setup();
    // Any github.com owner can mint tokens for our audience: 60 denials an hour from `evil`, all the time.
    for (let at = T0 - 60 * MIN; at < T0 + 60 * MIN; at += MIN)
      insertSpread(s.sql, s.dataset, "denied", 1, at, at + 1, { repository: "evil/x" });
    expect(await s.run(0)).toEqual([expect.stringContaining("owner evil")]);
    expect(await s.run(5 * MIN)).toEqual([]);
    // Our own spike, later, inside evil's open incident: its own message.
    insertSpread(s.sql, s.dataset, "denied", 55, T0 + 7 * MIN, T0 + 8 * MIN, { repository: "acme/app" });
    expect(await s.run(10 * MIN)).toEqual([expect.stringContaining("55 requests of owner acme")]);
  });

  it("a jump by the escalation factor within the cooldown notifies again", async () => {
    const s = await setup();
    insertSpread(s.sql, s.dataset, "denied", 60, T0 - 10 * MIN, T0 - 9 * MIN);
    expect(await s.run(0)).toHaveLength(1);
    insertSpread(s.sql, s.dataset, "denied", 120, T0 + 1 * MIN, T0 + 2 * MIN);
    expect(await s.run(5 * MIN)).toEqual([]); // 180: three times, not four
    insertSpread(s.sql, s.dataset, "denied", 60, T0 + 6 * MIN, T0 + 7 * MIN);
    const [message] = await s.run(10 * MIN); // 240: four times the 60 notified
    expect(message).toContain("grown 4x or more since the last message");
    expect(message).toContain("240 requests of owner acme");
    expect(await s.run(15 * MIN)).toEqual([]);
  });

  it("a failed webhook post is not an incident notified: the next run tries again, then stays quiet", async () => {
    const s = await setup();
    insertSpread(s.sql, s.dataset, "denied", 80, T0 - 30 * MIN, T0 - 2 * MIN);
    s.webhook.answer(500);
    expect(await s.run(0)).toEqual([]);
    expect(lines(s.h, "alerts_webhook_failed")).toEqual([
      { message: "alerts_webhook_failed", rule: "denials", status: 500, reason: "http_error" },
    ]);
    s.webhook.answer(200);
    expect(await s.run(5 * MIN)).toHaveLength(1);
    expect(await s.run(10 * MIN)).toEqual([]);
  });

  it("incidents are per rule: a second rule firing later gets its own message", async () => {
    const s = await setup();
    insertSpread(s.sql, s.dataset, "denied", 80, T0 - 30 * MIN, T0 - 2 * MIN);
    insertSpread(s.sql, s.dataset, "issued", 20, T0 + 1 * MIN, T0 + 3 * MIN, { stsMs: 1500 });
    expect((await s.run(0)).map((text) => text.split("\n")[0])).toEqual([expect.stringContaining("alert: denials*")]);
    expect((await s.run(5 * MIN)).map((text) => text.split("\n")[0])).toEqual([
      expect.stringContaining("alert: sts_p99*"),
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
    expect(await env.JWKS_CACHE.get(`alerts:v1:incident:${s.dataset}:denials`)).toBeNull();
    expect(JSON.parse((await env.JWKS_CACHE.get(`alerts:v1:incident:${s.dataset}:alerting`)) ?? "null")).toMatchObject({
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
