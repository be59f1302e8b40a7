// Incidents through the cron Worker's `scheduled` handler: one message per incident, the cooldown, escalation, and a
// failed post retried; incident state in the cron Worker's own KV namespace (ALERT_STATE).
import { describe, expect, it } from "vitest";
import { subjectIncidentKey } from "../../src/alerts/incidents.ts";
import { alertEnv, lines, setup, T0 } from "./cron-harness.ts";
import { insertSpread, MIN } from "./helpers.ts";

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
      (await alertEnv.ALERT_STATE.get(await subjectIncidentKey(s.dataset, "denials", "acme no_matching_rule"))) ??
        "null",
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
