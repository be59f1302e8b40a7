// The alert rules through the cron Worker's `scheduled` handler: what fires, the message it sends, what is queried.
import { describe, expect, it } from "vitest";
import { AE_INGEST_LAG_MS } from "../../src/alerts/constants.ts";
import { lines, setup, T0 } from "./cron-harness.ts";
import { ACCOUNT, API_TOKEN, auditPoint, insertSpread, MIN, WEBHOOK } from "./helpers.ts";

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
