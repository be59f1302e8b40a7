import { describe, expect, it } from "vitest";
import { alertingFailedMessage, alertMessage } from "../../src/alerts/webhook.ts";

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
