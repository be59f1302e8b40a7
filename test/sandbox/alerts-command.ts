// `npm run -s sandbox -- alerts run [--rules JSON] [--cooldown MINUTES]`: evaluate the alert rules (src/alerts, the
// cron's own code) against the sandbox's local Analytics Engine. The sandbox posts each new incident's message to its
// webhook sink and prints it; this prints what was measured, what fired and the messages. Rules as in ALERT_RULES
// (docs/alerts.md); `--rules` wins over the ALERT_RULES variable. Incident state lives as long as `npm start`.
import { SANDBOX_PORT } from "../../src/cli/constants.ts";
import type { AlertRunReport } from "../../src/alerts/run.ts";

export const ALERTS_USAGE = "alerts run [--rules JSON] [--cooldown MINUTES]";

/** The arguments, or an Error (usage). */
export function parseAlertsArgs(
  args: readonly string[],
  env: Record<string, string | undefined>,
): { rules: string; cooldownMinutes?: string } {
  if (args[0] !== "run") throw new Error(`expected ${ALERTS_USAGE}`);
  let rules = env.ALERT_RULES?.trim() || "{}";
  let cooldownMinutes: string | undefined;
  for (let i = 1; i < args.length; i += 2) {
    const value = args[i + 1];
    if (args[i] === "--rules" && value !== undefined) rules = value;
    else if (args[i] === "--cooldown" && value !== undefined && /^\d{1,5}$/.test(value)) cooldownMinutes = value;
    else throw new Error(`expected ${ALERTS_USAGE}`);
  }
  return { rules, ...(cooldownMinutes === undefined ? {} : { cooldownMinutes }) };
}

const show = (value: number | null | undefined) => (value === null || value === undefined ? "-" : String(value));

/** What one run measured and decided, a line per rule, then the messages sent. Pure. */
export function formatAlertRun(result: {
  report: AlertRunReport;
  deliveries: string[];
  logs: Array<Record<string, unknown>>;
}): string {
  const { report, deliveries } = result;
  const m = report.metrics;
  const lines: string[] = [];
  if (report.queryError !== undefined)
    lines.push(`the alert queries failed (${report.queryError}): nothing was evaluated`);
  else {
    const top = m.denialGroups?.[0];
    const worst = m.replays?.[0];
    lines.push(
      "measured (each rule over its own window, ending now):",
      `  issuance_drop      ${m.issuedRecent === undefined ? "off" : `${m.issuedRecent} issued in the window, ${show(m.issuedBaseline)} in the baseline before it`}`,
      `  denials            ${m.denials === undefined ? "off" : `${m.denials} denied by policy${top === undefined ? "" : `; most: owner ${top.owner}, ${top.reason}: ${top.count}`}`}`,
      `  sts_p99            ${m.stsSamples === undefined ? "off" : `${show(m.stsP99Ms)} ms over ${m.stsSamples} STS calls`}`,
      `  replay             ${m.replays === undefined ? "off" : worst === undefined ? "no token_reused" : `most: ${worst.repository}: ${worst.count}`}`,
      `  github_rate_limit  ${m.githubMinRemaining === undefined ? "off" : `lowest left ${show(m.githubMinRemaining)}`}`,
      `firing: ${report.firing.length === 0 ? "none" : report.firing.join(", ")}`,
    );
    if (report.firing.length > 0)
      lines.push(
        `notified: ${report.notified.join(", ") || "none"}; suppressed (incident already open): ${report.suppressed.join(", ") || "none"}; failed: ${report.failed.join(", ") || "none"}`,
      );
  }
  for (const line of result.logs) lines.push(`log: ${JSON.stringify(line)}`);
  for (const text of deliveries) lines.push("webhook message (npm start prints it too):", text.replace(/^/gm, "  | "));
  return lines.join("\n");
}

/** The sandbox CLI's `alerts` subcommand (test/sandbox/cli.ts). */
export const alertsCommand = {
  usage: ALERTS_USAGE,
  summary:
    "run the alert rules against the sandbox's local Analytics Engine (messages go to a webhook sink npm start prints)",
  needsSandbox: true,
  async run(args: string[]): Promise<number> {
    const { rules, cooldownMinutes } = parseAlertsArgs(args, process.env);
    const origin = process.env.SANDBOX_URL ?? `http://127.0.0.1:${SANDBOX_PORT}`;
    const response = await fetch(`${origin}/sandbox/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ rules, ...(cooldownMinutes === undefined ? {} : { cooldown_minutes: cooldownMinutes }) }),
    });
    const body = (await response.json()) as { error?: string } & Parameters<typeof formatAlertRun>[0];
    if (!response.ok) {
      console.error(`sandbox: alerts run: ${body.error ?? `HTTP ${response.status}`}`);
      return response.status === 400 ? 2 : 1;
    }
    console.log(formatAlertRun(body));
    return body.report.queryError === undefined ? 0 : 1;
  },
};
