// The alert message (Slack-compatible incoming-webhook JSON: {"text": ...}) and its delivery with the injected fetch.
// The text names the rule, numbers, windows and a CLI command: never the webhook URL, a token, an ARN or an account id.
import { ALERT_ESCALATION_FACTOR, ALERT_WEBHOOK_TIMEOUT_MS } from "./constants.ts";
import type { FetchFn } from "../deps.ts";
import type { StartTimer } from "../http/deadline.ts";
import { callUpstream, UpstreamError } from "../http/upstream.ts";
import type { Firing, RuleName } from "./rules.ts";

const INVESTIGATE: Record<RuleName, string> = {
  issuance_drop: "npm run analytics -- issuance --since 2h",
  denials: "npm run analytics -- denials --since 1h",
  sts_p99: "npm run analytics -- latency --since 1h",
  replay: "npm run analytics -- replays --since 1h",
  github_rate_limit: "the GitHub App's rate limit: docs/github-facts.md (cost and caching)",
  github_token_wide:
    "npm run analytics -- denials --since 2h, and the github_token_too_wide log lines (docs/operations.md)",
};

/**
 * Slack mrkdwn control characters (api.slack.com "Formatting text"): a summary quoting a name must not become a link or
 * a mention.
 */
function slackEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/**
 * Slack `text` (mrkdwn); other Slack-compatible receivers (Mattermost, Discord's /slack endpoint) read the same field.
 */
export function alertMessage(
  firing: Firing,
  context: { dataset: string; windowEndMs: number; cooldownMinutes: number; escalated?: boolean },
): { text: string } {
  const end = new Date(context.windowEndMs).toISOString().replace(/\.\d{3}Z$/, "Z");
  const escalated =
    context.escalated === true ? ` (grown ${ALERT_ESCALATION_FACTOR}x or more since the last message)` : "";
  return {
    text: [
      `:rotating_light: *ci-credential-broker alert: ${firing.rule}*${escalated} (dataset ${context.dataset})`,
      slackEscape(firing.summary),
      `Window ends ${end}. One message per incident: quiet until this rule has not fired for ${context.cooldownMinutes} min, unless it grows ${ALERT_ESCALATION_FACTOR}x.`,
      `Investigate: \`${INVESTIGATE[firing.rule]}\``,
    ].join("\n"),
  };
}

/**
 * The message when alerting itself is broken (the SQL API refuses or fails): without it, a revoked token would silence
 * every rule with nothing but a log line. Names the failure class and status only, never the token or account.
 */
export function alertingFailedMessage(
  failure: { reason: string; status: number | undefined },
  context: { dataset: string; cooldownMinutes: number },
): { text: string } {
  return {
    text: [
      `:warning: *ci-credential-broker alerting is failing* (dataset ${context.dataset})`,
      `The alert queries could not run: ${failure.reason}${failure.status === undefined ? "" : ` (HTTP ${failure.status})`}. No rule is evaluated until this is fixed.`,
      `Check the ANALYTICS_API_TOKEN secret (Account Analytics: Read) and ANALYTICS_ACCOUNT_ID. Quiet until it has worked for ${context.cooldownMinutes} min and fails again.`,
    ].join("\n"),
  };
}

export type WebhookResult =
  | { ok: true }
  | { ok: false; status: number | undefined; reason: "http_error" | "network_error" | "timeout" };

/** POST the message. Never throws; the caller logs the result (status only: the URL itself is a secret). */
export async function postWebhook(
  url: string,
  message: { text: string },
  fetchFn: FetchFn,
  startTimer?: StartTimer,
): Promise<WebhookResult> {
  try {
    // A redirect would carry the alert somewhere the operator did not configure: callUpstream refuses it.
    await callUpstream(fetchFn, url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(message),
      timeoutMs: ALERT_WEBHOOK_TIMEOUT_MS,
      maxBytes: 0,
      discardBody: true,
      accept: (status) => status >= 200 && status <= 299,
      startTimer,
    });
    return { ok: true };
  } catch (error) {
    const kind = error instanceof UpstreamError ? error.kind : "network";
    if (kind === "timeout" || kind === "budget") return { ok: false, status: undefined, reason: "timeout" };
    if (kind === "network") return { ok: false, status: undefined, reason: "network_error" };
    return { ok: false, status: (error as UpstreamError).status, reason: "http_error" };
  }
}
