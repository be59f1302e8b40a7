// One alert evaluation (the Cron Trigger's job): query the SQL API for the rules' windows, evaluate, and post one
// webhook message per newly opened incident. Fetch, KV and log are injected; time is the cron's scheduled time.
import { AE_INGEST_LAG_MS } from "./constants.ts";
import type { AlertSettings } from "./config.ts";
import type { FetchFn, LogFn } from "../deps.ts";
import { runSql, SqlApiError, type SqlResult } from "../audit/sql-api.ts";
import {
  incidentKey,
  incidentTtlSeconds,
  onFiring,
  parseIncident,
  subjectIncidentKey,
  type IncidentState,
  type IncidentStore,
} from "./incidents.ts";
import { alertQueries, readAlertMetrics } from "./metrics.ts";
import { evaluateRules, type AlertMetrics, type RuleName } from "./rules.ts";
import { alertingFailedMessage, alertMessage, postWebhook } from "./webhook.ts";

export interface AlertRunDeps {
  settings: AlertSettings;
  fetch: FetchFn;
  store: IncidentStore;
  log: LogFn;
  /** The cron's scheduled time (ScheduledController.scheduledTime), ms since the epoch. */
  scheduledTime: number;
}

export interface AlertRunReport {
  metrics: AlertMetrics;
  firing: RuleName[];
  notified: RuleName[];
  suppressed: RuleName[];
  failed: RuleName[];
  /** Set when the SQL API could not be queried: nothing was evaluated. */
  queryError?: string;
  /** What became of the `alerting` incident (alerting itself failing) when the SQL API could not be queried. */
  alertingIncident?: "notified" | "suppressed" | "failed";
}

/** The incident name of alerting itself failing: not a rule, but notified through the same incident mechanism. */
export const ALERTING_INCIDENT = "alerting";

type IncidentOutcome = "notified" | "suppressed" | "failed";

/**
 * One firing incident: read its state, decide (onFiring), post when due, store the new state. A failed post is not
 * recorded as notified, so the next run tries again. State errors are logged: rather one message too many than none.
 */
async function handleIncident(
  deps: AlertRunDeps,
  incident: { key: string; label: string; value: number; message: (escalated: boolean) => { text: string } },
): Promise<IncidentOutcome> {
  const { log } = deps;
  const cooldownMs = deps.settings.cooldownMinutes * 60_000;
  let stored: IncidentState | undefined;
  try {
    stored = parseIncident(await deps.store.get(incident.key, "text"));
  } catch (error) {
    log({ message: "alerts_state_failed", rule: incident.label, op: "get", error: errorName(error) });
  }
  const decision = onFiring(stored, deps.scheduledTime, cooldownMs, incident.value);
  let outcome: IncidentOutcome = "suppressed";
  if (decision.notify) {
    const sent = await postWebhook(deps.settings.webhookUrl, incident.message(decision.escalated), deps.fetch);
    if (!sent.ok) {
      log({ message: "alerts_webhook_failed", rule: incident.label, status: sent.status, reason: sent.reason });
      return "failed";
    }
    outcome = "notified";
  }
  try {
    await deps.store.put(incident.key, JSON.stringify(decision.state), {
      expirationTtl: incidentTtlSeconds(cooldownMs),
    });
  } catch (error) {
    log({ message: "alerts_state_failed", rule: incident.label, op: "put", error: errorName(error) });
  }
  return outcome;
}

function errorName(error: unknown): string {
  return error instanceof Error && /^[A-Za-z]{1,40}$/.test(error.name) ? error.name : "unknown";
}

export async function runAlerts(deps: AlertRunDeps): Promise<AlertRunReport> {
  const { settings, log } = deps;
  // The newest rows take a little while to become queryable: a window ending "now" would undercount and cry wolf.
  const windowEndMs = deps.scheduledTime - AE_INGEST_LAG_MS;
  const report: AlertRunReport = { metrics: {}, firing: [], notified: [], suppressed: [], failed: [] };
  const queries = alertQueries(settings.rules, settings.dataset, windowEndMs);

  const results: SqlResult[] = [];
  try {
    for (const query of queries)
      results.push(
        await runSql(query.sql, { accountId: settings.accountId, apiToken: settings.apiToken, fetch: deps.fetch }),
      );
  } catch (error) {
    const reason = error instanceof SqlApiError ? error.reason : "unexpected";
    const status = error instanceof SqlApiError ? error.status : undefined;
    log({ message: "alerts_query_failed", reason, status, error: errorName(error) });
    // Alerting itself is down: say so once, through the incident mechanism and its cooldown, not only in a log line.
    const alertingIncident = await handleIncident(deps, {
      key: incidentKey(settings.dataset, ALERTING_INCIDENT),
      label: ALERTING_INCIDENT,
      value: 1,
      message: () =>
        alertingFailedMessage(
          { reason, status },
          { dataset: settings.dataset, cooldownMinutes: settings.cooldownMinutes },
        ),
    });
    return { ...report, queryError: reason, alertingIncident };
  }
  report.metrics = readAlertMetrics(settings.rules, queries, results);
  const firing = evaluateRules(settings.rules, report.metrics);

  for (const fired of firing) {
    report.firing.push(fired.rule);
    const outcome = await handleIncident(deps, {
      key: await subjectIncidentKey(settings.dataset, fired.rule, fired.subject),
      label: fired.rule,
      value: fired.value,
      message: (escalated) =>
        alertMessage(fired, {
          dataset: settings.dataset,
          windowEndMs,
          cooldownMinutes: settings.cooldownMinutes,
          escalated,
        }),
    });
    report[outcome].push(fired.rule);
  }

  log({
    message: "alerts_evaluated",
    window_end: new Date(windowEndMs).toISOString(),
    // The groups themselves can number ALERT_DENIAL_GROUPS_LIMIT: the line keeps the totals and how many groups there
    // were.
    metrics: { ...report.metrics, denialGroups: report.metrics.denialGroups?.length },
    firing: report.firing,
    notified: report.notified,
    suppressed: report.suppressed,
    failed: report.failed,
  });
  return report;
}
