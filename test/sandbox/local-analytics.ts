// The sandbox's local Analytics Engine (docs/sandbox.md "Local analytics"): the broker's data points, captured from
// its `credential_exchange` log lines (analytics-capture.ts), stored in chdb, and served by the SQL API emulation on
// the sandbox port; plus the alert rules run against it, posting to a webhook sink whose deliveries the sandbox prints.
// When chdb cannot be loaded the sandbox still runs: the SQL API answers 503 saying why, in one line at start.
import { AE_INGEST_LAG_MS, ALERT_DEFAULT_COOLDOWN_MINUTES } from "../../src/alerts/constants.ts";
import { CLOUDFLARE_API_BASE_URL, SANDBOX_AUDIT_DATASET } from "../../src/audit/constants.ts";
import { SANDBOX_ANALYTICS_ACCOUNT_ID, SANDBOX_ANALYTICS_API_TOKEN } from "../../src/cli/constants.ts";
import { parseAlertConfig } from "../../src/alerts/config.ts";
import type { IncidentStore } from "../../src/alerts/incidents.ts";
import { runAlerts, type AlertRunReport } from "../../src/alerts/run.ts";
import { isBrokerError } from "../../src/errors.ts";
import { ChdbUnavailableError } from "../support/local-analytics/chdb.ts";
import { createLocalAnalyticsEngine, type LocalAnalyticsEngine } from "../support/local-analytics/engine.ts";
import { createLocalSqlApi, isSqlApiPath } from "../support/local-analytics/sql-api.ts";
import { dataPointFromLogLine } from "./analytics-capture.ts";
import { json } from "./endpoints.ts";

/** Where the sandbox's alert runs post: an https URL (as the alert config demands) that never leaves the process. */
export const SANDBOX_WEBHOOK_URL = "https://hooks.sandbox.invalid/services/ccb-sandbox";

export interface SandboxAnalytics {
  /** One line for the start banner: on (where) or off (why). */
  status: string;
  /** Feed every line the broker prints; `credential_exchange` lines become data points. */
  capture(line: string): void;
  /** Answers the sandbox routes it owns (SQL API, POST /sandbox/alerts), or undefined. */
  route(request: Request): Promise<Response | undefined>;
  close(): void;
}

export interface SandboxAnalyticsOptions {
  origin: string;
  /** Where deliveries and problems are printed (the npm start terminal). */
  print: (line: string) => void;
  now: () => number;
}

/** Incident state across alert runs of one sandbox (KV in production), with KV's expiry. */
function memoryIncidentStore(now: () => number): IncidentStore {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  return {
    async get(key) {
      const entry = entries.get(key);
      return entry !== undefined && entry.expiresAt > now() ? entry.value : null;
    },
    async put(key, value, options) {
      entries.set(key, { value, expiresAt: now() + options.expirationTtl * 1000 });
    },
  };
}

export function startSandboxAnalytics(options: SandboxAnalyticsOptions): SandboxAnalytics {
  let engine: LocalAnalyticsEngine | undefined;
  let off = "";
  try {
    engine = createLocalAnalyticsEngine();
    engine.ensureDataset(SANDBOX_AUDIT_DATASET);
  } catch (error) {
    off =
      error instanceof ChdbUnavailableError
        ? `chdb is not available (${error.reason})`
        : error instanceof Error
          ? error.message
          : String(error);
  }
  const sqlApi = createLocalSqlApi({
    accountId: SANDBOX_ANALYTICS_ACCOUNT_ID,
    apiToken: SANDBOX_ANALYTICS_API_TOKEN,
    engine: engine ?? { off },
  });
  const sqlUrl = `${options.origin}/client/v4/accounts/${SANDBOX_ANALYTICS_ACCOUNT_ID}/analytics_engine/sql`;
  const store = memoryIncidentStore(options.now);

  /** The alert run's network: the SQL API and the webhook, both in this process. */
  const deliveries: string[] = [];
  const alertFetch = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    if (request.url.startsWith(`${CLOUDFLARE_API_BASE_URL}/`))
      return sqlApi(new Request(request.url.replace(CLOUDFLARE_API_BASE_URL, `${options.origin}/client/v4`), request));
    if (request.url === SANDBOX_WEBHOOK_URL && request.method === "POST") {
      const { text } = (await request.json()) as { text?: unknown };
      if (typeof text !== "string") return new Response("invalid_payload", { status: 400 });
      deliveries.push(text);
      options.print(`alert webhook delivery:\n${text.replace(/^/gm, "  | ")}`);
      return new Response("ok");
    }
    return new Response("sandbox alert run: no such host", { status: 502 });
  };

  async function runSandboxAlerts(request: Request): Promise<Response> {
    const body = (await request.json().catch(() => ({}))) as { rules?: unknown; cooldown_minutes?: unknown };
    let config;
    try {
      config = parseAlertConfig({
        ALERT_WEBHOOK_URL: SANDBOX_WEBHOOK_URL,
        ANALYTICS_API_TOKEN: SANDBOX_ANALYTICS_API_TOKEN,
        ANALYTICS_ACCOUNT_ID: SANDBOX_ANALYTICS_ACCOUNT_ID,
        AUDIT_DATASET: SANDBOX_AUDIT_DATASET,
        ALERT_RULES: typeof body.rules === "string" ? body.rules : "{}",
        ALERT_COOLDOWN_MINUTES:
          typeof body.cooldown_minutes === "string" ? body.cooldown_minutes : String(ALERT_DEFAULT_COOLDOWN_MINUTES),
      });
    } catch (error) {
      return json(
        { error: isBrokerError(error) && error.cause !== undefined ? String(error.cause) : "invalid alert settings" },
        400,
      );
    }
    if (!config.enabled) return json({ error: `alerting is missing ${config.missing.join(", ")}` }, 500);
    const from = deliveries.length;
    const logs: Array<Record<string, unknown>> = [];
    // The cron's windows end AE_INGEST_LAG_MS before its scheduled time, for rows still on their way; here a row is
    // queryable as soon as the broker printed it, so the window ends now.
    const report: AlertRunReport = await runAlerts({
      settings: config.settings,
      fetch: alertFetch,
      store,
      log: (line) => logs.push(line),
      scheduledTime: options.now() + AE_INGEST_LAG_MS,
    });
    return json({
      report,
      deliveries: deliveries.slice(from),
      logs: logs.filter((line) => line.message !== "alerts_evaluated"),
    });
  }

  return {
    status:
      engine === undefined
        ? `local analytics off: ${off}`
        : `local Analytics Engine (chdb): SQL API ${sqlUrl}, dataset ${SANDBOX_AUDIT_DATASET}, token ${SANDBOX_ANALYTICS_API_TOKEN}`,
    capture(line) {
      if (engine === undefined) return;
      const point = dataPointFromLogLine(line);
      if (point === undefined) return;
      try {
        engine.insert(SANDBOX_AUDIT_DATASET, [{ point, atMs: options.now() }]);
      } catch (error) {
        options.print(
          `local analytics: could not store a data point (${error instanceof Error ? error.message.split("\n")[0] : String(error)})`,
        );
      }
    },
    async route(request) {
      const { pathname } = new URL(request.url);
      if (isSqlApiPath(pathname)) return sqlApi(request);
      if (pathname === "/sandbox/alerts" && request.method === "POST") return runSandboxAlerts(request);
      return undefined;
    },
    close() {
      engine?.close();
    },
  };
}
