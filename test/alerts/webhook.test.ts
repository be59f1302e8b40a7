import { describe, expect, it } from "vitest";
import { alertingFailedMessage, alertMessage, postWebhook } from "../../src/alerts/webhook.ts";
import { ALERT_WEBHOOK_TIMEOUT_MS } from "../../src/alerts/constants.ts";
import { createFakeNetwork } from "../support/fake-network.ts";
import { manualTimers, settle } from "../support/manual-timers.ts";

const context = { dataset: "ds", windowEndMs: Date.UTC(2026, 10, 25, 12, 0, 0), cooldownMinutes: 60 };

describe("alert messages", () => {
  it("a summary quoting a name cannot become a Slack mention or link", () => {
    const { text } = alertMessage(
      {
        rule: "denials",
        subject: "x",
        value: 51,
        threshold: 50,
        summary: "51 requests of owner <!channel> & <https://evil.example|x>",
      },
      context,
    );
    expect(text).toContain("owner &lt;!channel&gt; &amp; &lt;https://evil.example|x&gt;");
    expect(text).not.toContain("<!channel>");
  });

  it("says when a message is an escalation within an open incident", () => {
    expect(
      alertMessage(
        { rule: "denials", value: 240, threshold: 50, summary: "s" },
        { ...context, escalated: true },
      ).text.split("\n")[0],
    ).toContain("grown 4x or more");
  });

  it("alerting failing: the failure class and status, never a token or account", () => {
    const { text } = alertingFailedMessage({ reason: "unauthorized", status: 401 }, context);
    expect(text).toContain("alerting is failing");
    expect(text).toContain("unauthorized (HTTP 401)");
  });
});

describe("postWebhook", () => {
  const HOOK = "https://hooks.example";
  const ELSEWHERE = "https://elsewhere.example";
  const message = { text: "alert" };

  it("delivers with a 2xx", async () => {
    const network = createFakeNetwork({ [HOOK]: () => new Response("ok") });
    expect(await postWebhook(`${HOOK}/T000/B000/secret`, message, network.fetch)).toEqual({ ok: true });
  });

  it.each([301, 302, 307, 308])(
    "a %i is not followed: http_error with the status, the alert never sent on",
    async (status) => {
      const network = createFakeNetwork({
        [HOOK]: () => new Response(null, { status, headers: { location: `${ELSEWHERE}/collect` } }),
        [ELSEWHERE]: () => new Response("ok"),
      });
      expect(await postWebhook(`${HOOK}/T000/B000/secret`, message, network.fetch)).toEqual({
        ok: false,
        status,
        reason: "http_error",
      });
      expect(network.callsTo(ELSEWHERE)).toHaveLength(0);
    },
  );

  it("no answer within ALERT_WEBHOOK_TIMEOUT_MS (its timer, injected): timeout", async () => {
    const timers = manualTimers();
    const pending = postWebhook(`${HOOK}/x`, message, () => new Promise<Response>(() => undefined), timers);
    await settle();
    expect(timers.started).toEqual([ALERT_WEBHOOK_TIMEOUT_MS]);
    timers.fire();
    expect(await pending).toEqual({ ok: false, status: undefined, reason: "timeout" });
  });
});
