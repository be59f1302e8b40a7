// The alert cron Worker under test: its scheduled handler (createAlertWorker), with the SQL API and the webhook behind
// the fake network and incident state in the real local KV of wrangler.alerts.toml (ALERT_STATE). Time is driven by
// scheduledTime. Runs in the `alerts` test project (vitest.config.ts), whose env is the cron Worker's.
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createAlertWorker } from "../../src/alerts/cron.ts";
import { createFakeNetwork, type FakeNetwork } from "../support/fake-network.ts";
import { createFakeSqlApi, createFakeWebhook, type FakeSqlApi, type FakeWebhook } from "../support/fake-analytics.ts";
import { ACCOUNT, API_TOKEN, insertSpread, MIN, WEBHOOK } from "./helpers.ts";

export const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/** The cron Worker's env as wrangler.alerts.toml declares it (its own KV namespace, its vars; no secret set). */
export const alertEnv = env as unknown as AlertEnv;

export interface CronHarness {
  network: FakeNetwork;
  logs: Array<Record<string, unknown>>;
  env: AlertEnv;
  /** Runs the Worker's `scheduled` handler at `scheduledTime` (default T0). */
  scheduled(options?: { scheduledTime?: number; cron?: string }): Promise<void>;
}

/** The cron Worker with wrangler.alerts.toml's env, `vars` laid over it (secrets included). */
export function createCronHarness(vars: Record<string, string> = {}): CronHarness {
  const network = createFakeNetwork();
  const logs: Array<Record<string, unknown>> = [];
  const worker = createAlertWorker({ fetch: network.fetch, log: (line) => logs.push(line) });
  const cronEnv = { ...alertEnv, ...vars } as AlertEnv;
  const ctx = { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} };
  return {
    network,
    logs,
    env: cronEnv,
    scheduled: async (options = {}) => {
      const controller = createScheduledController({
        scheduledTime: options.scheduledTime ?? T0,
        cron: options.cron ?? "*/5 * * * *",
      });
      await worker.scheduled?.(controller, cronEnv, ctx as unknown as ExecutionContext);
    },
  };
}

export interface Setup {
  h: CronHarness;
  sql: FakeSqlApi;
  webhook: FakeWebhook;
  dataset: string;
  /** Runs the cron at T0 + offset; returns the webhook messages it added. */
  run(offsetMs: number): Promise<string[]>;
}

/** Alerting configured (webhook, token, account id), a dataset of its own, and the SQL API and webhook fakes routed. */
export async function setup(vars: Record<string, string> = {}): Promise<Setup> {
  // A dataset per test: incident state in KV is keyed by dataset, and test files share local KV.
  const dataset = `ds_${crypto.randomUUID().replace(/-/g, "")}`;
  const h = createCronHarness({
    ALERT_WEBHOOK_URL: WEBHOOK,
    ANALYTICS_API_TOKEN: API_TOKEN,
    ANALYTICS_ACCOUNT_ID: ACCOUNT,
    AUDIT_DATASET: dataset,
    ...vars,
  });
  let scheduledTime = T0;
  const sql = createFakeSqlApi({ accountId: ACCOUNT, apiToken: API_TOKEN, now: () => scheduledTime });
  const webhook = createFakeWebhook();
  h.network.route("https://api.cloudflare.com", sql.handler);
  h.network.route(new URL(WEBHOOK).origin, webhook.handler);
  // The table exists once anything was written: one old row.
  insertSpread(sql, dataset, "issued", 1, T0 - 30 * 24 * 60 * MIN, T0 - 29 * 24 * 60 * MIN);
  return {
    h,
    sql,
    webhook,
    dataset,
    async run(offsetMs) {
      scheduledTime = T0 + offsetMs;
      const before = webhook.messages.length;
      await h.scheduled({ scheduledTime });
      return webhook.messages.slice(before).map((message) => message.text);
    },
  };
}

export const lines = (h: CronHarness, message: string) => h.logs.filter((line) => line.message === message);
