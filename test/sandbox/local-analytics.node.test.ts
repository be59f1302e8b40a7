// The sandbox's local Analytics Engine, as `npm start` runs it: log lines in, the SQL API as Cloudflare documents it
// (POST body, GET ?query= with the plugin's trailing slash, Bearer token, FORMAT JSON, text errors), and alert runs
// posting to the webhook sink with one message per incident.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SANDBOX_AUDIT_DATASET } from "../../src/audit/constants.ts";
import { SANDBOX_ANALYTICS_ACCOUNT_ID, SANDBOX_ANALYTICS_API_TOKEN } from "../../src/cli/constants.ts";
import { startSandboxAnalytics, type SandboxAnalytics } from "./local-analytics.ts";
import { createLocalSqlApi } from "../support/local-analytics/sql-api.ts";

const ORIGIN = "http://127.0.0.1:8788";
const SQL = `${ORIGIN}/client/v4/accounts/${SANDBOX_ANALYTICS_ACCOUNT_ID}/analytics_engine/sql`;
const AUTH = { authorization: `Bearer ${SANDBOX_ANALYTICS_API_TOKEN}` };
let analytics: SandboxAnalytics;
const printed: string[] = [];
let now = Date.UTC(2026, 10, 25, 12, 0, 0);

function line(i: number, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    message: "credential_exchange",
    request_id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    outcome: "denied",
    code: "forbidden",
    reason: "guard_self_hosted_runner",
    repository: "acme/app",
    status: 403,
    total_ms: 2,
    verify_ms: 1,
    ...overrides,
  });
}

beforeAll(() => {
  analytics = startSandboxAnalytics({ origin: ORIGIN, print: (text) => printed.push(text), now: () => now });
  for (let i = 0; i < 6; i++) analytics.capture(line(i));
  analytics.capture(line(99, { outcome: "issued", code: undefined, reason: undefined, status: 200, sts_ms: 40 }));
  analytics.capture("⎔ Reloading local server...");
});
afterAll(() => analytics?.close());

const route = async (request: Request) => (await analytics.route(request)) as Response;

describe("the SQL API on the sandbox port", () => {
  it("is on", () => {
    expect(analytics.status).toContain(SQL);
  });

  it("POST: the SQL as the body; FORMAT JSON by default, {meta, data, rows}", async () => {
    const response = await route(
      new Request(SQL, {
        method: "POST",
        headers: AUTH,
        body: `SELECT blob1 AS outcome, SUM(_sample_interval) AS n FROM ${SANDBOX_AUDIT_DATASET} GROUP BY outcome ORDER BY outcome`,
      }),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { meta: unknown[]; data: unknown[]; rows: number };
    expect(body.data).toEqual([
      { outcome: "denied", n: "6" },
      { outcome: "issued", n: "1" },
    ]);
    expect(body.rows).toBe(2);
    expect(body.meta).toEqual([
      { name: "outcome", type: "String" },
      { name: "n", type: "UInt64" },
    ]);
  });

  it("GET ?query= as the Altinity plugin sends it (datasource URL + /?query=... FORMAT JSON)", async () => {
    const query = `SELECT count() AS n FROM ${SANDBOX_AUDIT_DATASET} FORMAT JSON`;
    const response = await route(new Request(`${SQL}/?query=${encodeURIComponent(query)}`, { headers: AUTH }));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: unknown[] }).data).toEqual([{ n: "7" }]);
  });

  it("errors: a bad query is plain text with a 4xx; a bad token or account is Cloudflare's JSON 401; no query 400", async () => {
    const bad = await route(
      new Request(SQL, {
        method: "POST",
        headers: AUTH,
        body: `SELECT blob1 FROM ${SANDBOX_AUDIT_DATASET} GROUP BY blob2`,
      }),
    );
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toContain("text/plain");
    expect(await bad.text()).toContain("blob1");
    const undocumented = await route(
      new Request(SQL, {
        method: "POST",
        headers: AUTH,
        body: `SELECT uniqExact(blob1) FROM ${SANDBOX_AUDIT_DATASET}`,
      }),
    );
    expect(undocumented.status).toBe(422);
    const other = await route(new Request(SQL, { method: "POST", headers: AUTH, body: "SELECT 1 FROM system.tables" }));
    expect(other.status).toBe(422);
    for (const request of [
      new Request(SQL, { method: "POST", body: "SELECT 1" }),
      new Request(SQL.replace(SANDBOX_ANALYTICS_ACCOUNT_ID, "f".repeat(32)), {
        method: "POST",
        headers: AUTH,
        body: "SELECT 1",
      }),
    ]) {
      const response = await route(request);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ success: false, errors: [{ code: 10000 }] });
    }
    expect((await route(new Request(SQL, { method: "POST", headers: AUTH, body: " " }))).status).toBe(400);
    expect(await analytics.route(new Request(`${ORIGIN}/token`, { method: "POST" }))).toBeUndefined();
  });

  it("with local analytics off, the API says so (503), in plain text", async () => {
    const off = createLocalSqlApi({
      accountId: SANDBOX_ANALYTICS_ACCOUNT_ID,
      apiToken: SANDBOX_ANALYTICS_API_TOKEN,
      engine: { off: "chdb is not installed" },
    });
    const response = await off(new Request(SQL, { method: "POST", headers: AUTH, body: "SELECT 1" }));
    expect(response.status).toBe(503);
    expect(await response.text()).toContain("local analytics is off: chdb is not installed");
  });
});

describe("alert runs against the sandbox", () => {
  const run = async (rules: string) =>
    (await (
      await route(new Request(`${ORIGIN}/sandbox/alerts`, { method: "POST", body: JSON.stringify({ rules }) }))
    ).json()) as { report: { firing: string[]; notified: string[]; suppressed: string[] }; deliveries: string[] };

  it("the denials rule fires after a burst, posts one message to the sink (printed), then stays quiet", async () => {
    now += 1000;
    const first = await run('{"denials":{"max":5}}');
    expect(first.report).toMatchObject({ firing: ["denials"], notified: ["denials"] });
    expect(first.deliveries).toHaveLength(1);
    expect(first.deliveries[0]).toContain(
      "6 requests of owner acme (1 repository) denied by policy as guard_self_hosted_runner",
    );
    expect(printed.join("\n")).toContain("alert webhook delivery:");
    const second = await run('{"denials":{"max":5}}');
    expect(second.report).toMatchObject({ firing: ["denials"], notified: [], suppressed: ["denials"] });
    expect(second.deliveries).toEqual([]);
    expect((await run("{}")).report.firing).toEqual([]);
  });

  it("refuses rules ALERT_RULES would refuse", async () => {
    const response = await route(
      new Request(`${ORIGIN}/sandbox/alerts`, {
        method: "POST",
        body: JSON.stringify({ rules: '{"denials":{"maxx":5}}' }),
      }),
    );
    expect(response.status).toBe(400);
  });
});
