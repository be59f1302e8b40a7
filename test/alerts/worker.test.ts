// The cron Worker as deployed (src/alerts/worker.ts with wrangler.alerts.toml's env, the `alerts` test project): a
// scheduled handler and nothing else, off until configured.
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import cronWorker from "../../src/alerts/worker.ts";
import { alertEnv, T0 } from "./cron-harness.ts";

describe("the deployed Worker's own scheduled export", () => {
  afterEach(() => vi.restoreAllMocks());

  it("with wrangler.alerts.toml's vars (no account id, no secrets) alerting is off and makes no request", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const logSpy = vi.spyOn(console, "log").mockImplementation(() => undefined);
    expect(alertEnv.ANALYTICS_ACCOUNT_ID ?? "").toBe("");
    // The loopback service binding to this Worker: its scheduled() runs src/alerts/worker.ts's handler (types omit it).
    const worker = exports.default as unknown as {
      scheduled(options: { scheduledTime: number; cron: string }): Promise<unknown>;
    };
    await worker.scheduled({ scheduledTime: T0, cron: "*/5 * * * *" });
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(logSpy.mock.calls.map((call) => String(call[0]))).toContainEqual(
      expect.stringContaining('"message":"alerts_disabled"'),
    );
  });

  it("serves no request: the only handler is scheduled, and incident state has a namespace of its own", () => {
    expect(Object.keys(cronWorker)).toEqual(["scheduled"]);
    expect(Object.keys(alertEnv)).toContain("ALERT_STATE");
    expect(Object.keys(alertEnv)).not.toContain("JWKS_CACHE");
  });
});
