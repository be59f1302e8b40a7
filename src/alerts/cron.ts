// The alert cron Worker's `scheduled` handler (wrangler.alerts.toml): read the alert settings, and evaluate the rules
// once per Cron Trigger. Not configured (no webhook, token or account id): does nothing, and says so in the log once.
import { redactingLog } from "../audit/redact.ts";
import { parseAlertConfig, type AlertConfig } from "./config.ts";
import type { FetchFn, LogFn } from "../deps.ts";
import { isBrokerError } from "../errors.ts";
import type { IncidentStore } from "./incidents.ts";
import { runAlerts, type AlertRunReport } from "./run.ts";

export interface AlertCronOptions {
  fetch: FetchFn;
  log: LogFn;
  /** Where incident state lives; default: the cron Worker's own ALERT_STATE namespace (keys prefixed `alerts:`). */
  store?: (env: AlertEnv) => IncidentStore;
}

export type ScheduledRun = (
  controller: Pick<ScheduledController, "scheduledTime" | "cron">,
  env: AlertEnv,
) => Promise<AlertRunReport | undefined>;

export function createAlertCron(options: AlertCronOptions): ScheduledRun {
  let disabledLogged = false;
  return async (controller, env) => {
    let config: AlertConfig;
    try {
      config = parseAlertConfig(env);
    } catch (error) {
      // Names the variables only (config.ts never echoes values).
      const detail = isBrokerError(error) && error.cause !== undefined ? String(error.cause) : undefined;
      options.log({
        message: "alerts_config_invalid",
        reason: isBrokerError(error) ? error.reason : "unexpected",
        detail,
        cron: controller.cron,
      });
      return undefined;
    }
    if (!config.enabled) {
      if (!disabledLogged) {
        disabledLogged = true;
        options.log({ message: "alerts_disabled", missing: config.missing, cron: controller.cron });
      }
      return undefined;
    }
    return runAlerts({
      settings: config.settings,
      fetch: options.fetch,
      store: options.store?.(env) ?? env.ALERT_STATE,
      log: options.log,
      scheduledTime: controller.scheduledTime,
    });
  };
}

/**
 * The cron Worker's handlers: `scheduled` only. It serves no request (no fetch handler, no route, no workers.dev URL).
 */
export function createAlertWorker(options: AlertCronOptions): ExportedHandler<AlertEnv> {
  // Every log line passes the secret-shape check, as the request Worker's do (src/audit/redact.ts).
  const alerts = createAlertCron({ ...options, log: redactingLog(options.log) });
  return {
    scheduled: async (controller, env) => {
      await alerts(controller, env);
    },
  };
}
