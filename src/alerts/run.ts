// One alert evaluation (the Cron Trigger's job): query the SQL API for the rules' windows, evaluate, and post one
// webhook message per newly opened incident. Fetch, KV and log are injected; time is the cron's scheduled time.
import { AE_INGEST_LAG_MS } from "../constants.ts";
import type { AlertSettings } from "./config.ts";
import type { FetchFn, LogFn } from "../deps.ts";
import { runSql, SqlApiError, type SqlResult } from "../audit/sql-api.ts";
import { incidentKey, incidentTtlSeconds, onFiring, parseIncident, type IncidentState, type IncidentStore } from "./incidents.ts";
import { alertQueries, readAlertMetrics } from "./metrics.ts";
import { evaluateRules, type AlertMetrics, type RuleName } from "./rules.ts";
import { alertMessage, postWebhook } from "./webhook.ts";

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
    for (const query of queries) results.push(await runSql(query.sql, { accountId: settings.accountId, apiToken: settings.apiToken, fetch: deps.fetch }));
  } catch (error) {
    const reason = error instanceof SqlApiError ? error.reason : "unexpected";
    log({ message: "alerts_query_failed", reason, status: error instanceof SqlApiError ? error.status : undefined, error: errorName(error) });
    return { ...report, queryError: reason };
  }
  report.metrics = readAlertMetrics(settings.rules, queries, results);
  const firing = evaluateRules(settings.rules, report.metrics);
  const cooldownMs = settings.cooldownMinutes * 60_000;

  for (const fired of firing) {
    report.firing.push(fired.rule);
    const key = incidentKey(settings.dataset, fired.rule, fired.subject);
    let stored: IncidentState | undefined;
    try {
      stored = parseIncident(await deps.store.get(key, "text"));
    } catch (error) {
      // Unknown state: rather one message too many than a missed incident.
      log({ message: "alerts_state_failed", rule: fired.rule, op: "get", error: errorName(error) });
    }
    const decision = onFiring(stored, deps.scheduledTime, cooldownMs);
    if (decision.notify) {
      const message = alertMessage(fired, { dataset: settings.dataset, windowEndMs, cooldownMinutes: settings.cooldownMinutes });
      const sent = await postWebhook(settings.webhookUrl, message, deps.fetch);
      if (!sent.ok) {
        // Not recorded as notified: the next run tries again.
        report.failed.push(fired.rule);
        log({ message: "alerts_webhook_failed", rule: fired.rule, status: sent.status, reason: sent.reason });
        continue;
      }
      report.notified.push(fired.rule);
    } else {
      report.suppressed.push(fired.rule);
    }
    try {
      await deps.store.put(key, JSON.stringify(decision.state), { expirationTtl: incidentTtlSeconds(cooldownMs) });
    } catch (error) {
      log({ message: "alerts_state_failed", rule: fired.rule, op: "put", error: errorName(error) });
    }
  }

  log({
    message: "alerts_evaluated",
    window_end: new Date(windowEndMs).toISOString(),
    metrics: report.metrics,
    firing: report.firing,
    notified: report.notified,
    suppressed: report.suppressed,
    failed: report.failed,
  });
  return report;
}
