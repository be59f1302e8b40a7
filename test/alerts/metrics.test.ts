import { describe, expect, it } from "vitest";
import { alertQueries, readAlertMetrics } from "../../src/alerts/metrics.ts";
import { AlertRulesSchema, defaultAlertRules } from "../../src/alerts/rules.ts";
import { runSql } from "../../src/audit/sql-api.ts";
import { createFakeSqlApi } from "../support/fake-analytics.ts";
import { createFakeNetwork } from "../support/fake-network.ts";
import { ACCOUNT, API_TOKEN, auditPoint, insertSpread, MIN } from "./helpers.ts";

const END = Date.UTC(2026, 10, 25, 12, 0, 0);
const S = END / 1000;

describe("alertQueries", () => {
  it("default rules: one count query (issuance windows), one denials query (per repository and reason), one STS p99 query, one replay query and one GitHub rate-limit query, bound to explicit instants", () => {
    const queries = alertQueries(defaultAlertRules(), "ci_credential_broker", END);
    expect(queries.map((q) => q.kind)).toEqual(["counts", "denials", "sts", "replay", "github"]);
    expect(queries[0]?.sql).toBe(`SELECT
  SUM(if(blob1 = 'issued' AND timestamp > toDateTime(${S - 300}), _sample_interval, 0)) AS issued_recent,
  SUM(if(blob1 = 'issued' AND timestamp <= toDateTime(${S - 300}) AND timestamp > toDateTime(${S - 3900}), _sample_interval, 0)) AS issued_baseline,
  SUM(if(blob3 = 'github_token_wider_than_asked' AND timestamp > toDateTime(${S - 3600}), _sample_interval, 0)) AS github_tokens_too_wide
FROM ci_credential_broker
WHERE timestamp > toDateTime(${S - 3900}) AND timestamp <= toDateTime(${S})`);
    expect(queries[1]?.sql).toBe(`SELECT
  blob5 AS repository,
  blob3 AS reason,
  SUM(_sample_interval) AS denials
FROM ci_credential_broker
WHERE timestamp > toDateTime(${S - 3600}) AND timestamp <= toDateTime(${S}) AND blob1 = 'denied'
GROUP BY repository, reason
ORDER BY denials DESC
LIMIT 1000`);
    expect(queries[2]?.sql).toBe(`SELECT
  quantileExactWeighted(0.99)(double5, _sample_interval) AS sts_p99_ms,
  SUM(_sample_interval) AS sts_samples
FROM ci_credential_broker
WHERE timestamp > toDateTime(${S - 900}) AND timestamp <= toDateTime(${S}) AND double5 > -1`);
    expect(queries[4]?.sql).toBe(`SELECT
  MIN(double9) AS github_min_remaining,
  SUM(_sample_interval) AS github_samples
FROM ci_credential_broker
WHERE timestamp > toDateTime(${S - 900}) AND timestamp <= toDateTime(${S}) AND double9 > -1`);
  });

  it("only the enabled rules are queried", () => {
    const onlyDenials = AlertRulesSchema.parse({
      issuance_drop: { enabled: false },
      sts_p99: { enabled: false },
      replay: { enabled: false },
      github_rate_limit: { enabled: false },
      github_token_wide: { enabled: false },
    });
    const queries = alertQueries(onlyDenials, "ds", END);
    expect(queries).toHaveLength(1);
    expect(queries[0]?.sql).not.toContain("issued");
    const none = AlertRulesSchema.parse({
      issuance_drop: { enabled: false },
      denials: { enabled: false },
      sts_p99: { enabled: false },
      replay: { enabled: false },
      github_rate_limit: { enabled: false },
      github_token_wide: { enabled: false },
    });
    expect(alertQueries(none, "ds", END)).toEqual([]);
  });
});

describe("metrics read back from the SQL API (sampling honoured)", () => {
  async function measure(fill: (sql: ReturnType<typeof createFakeSqlApi>) => void) {
    const sql = createFakeSqlApi({ accountId: ACCOUNT, apiToken: API_TOKEN, now: () => END });
    fill(sql);
    const network = createFakeNetwork({ "https://api.cloudflare.com": sql.handler });
    const rules = defaultAlertRules();
    const queries = alertQueries(rules, "ds", END);
    const results = [];
    for (const query of queries)
      results.push(await runSql(query.sql, { accountId: ACCOUNT, apiToken: API_TOKEN, fetch: network.fetch }));
    return readAlertMetrics(rules, queries, results);
  }

  it("counts each window, weights sampled rows, and ignores rows outside every window", async () => {
    const metrics = await measure((sql) => {
      sql.insert("ds", { blobs: ["issued"], doubles: [200, 100, 10, 1, 90, 1, 1] }, END - 2 * MIN); // recent
      insertSpread(sql, "ds", "issued", 12, END - 65 * MIN + 1, END - 5 * MIN, { sampleInterval: 10 }); // baseline: 120 events
      insertSpread(sql, "ds", "denied", 7, END - 60 * MIN + 1, END, { sampleInterval: 8 }); // 56 denials
      insertSpread(sql, "ds", "denied", 100, END - 3 * 60 * MIN, END - 61 * MIN); // too old
      insertSpread(sql, "ds", "issued", 100, END + 1, END + 10 * MIN); // after the window end (ingest lag)
    });
    expect(metrics).toMatchObject({
      issuedRecent: 1,
      issuedBaseline: 120,
      denials: 56,
      denialGroups: [{ owner: "acme", reason: "no_matching_rule", count: 56, repositories: 1 }],
    });
  });

  it("denials grouped per owner and reason, with distinct repositories, largest first", async () => {
    const metrics = await measure((sql) => {
      for (const repository of ["evil/a", "evil/b", "evil/c"])
        insertSpread(sql, "ds", "denied", 5, END - 30 * MIN, END, { repository });
      insertSpread(sql, "ds", "denied", 20, END - 30 * MIN, END, { repository: "acme/app" });
      insertSpread(sql, "ds", "denied", 2, END - 30 * MIN, END, { repository: "group/sub/project" });
    });
    expect(metrics.denials).toBe(37);
    expect(metrics.denialGroups).toEqual([
      { owner: "acme", reason: "no_matching_rule", count: 20, repositories: 1 },
      { owner: "evil", reason: "no_matching_rule", count: 15, repositories: 3 },
      { owner: "group", reason: "no_matching_rule", count: 2, repositories: 1 },
    ]);
  });

  it("STS p99 over requests that reached STS only, weighted by _sample_interval", async () => {
    const metrics = await measure((sql) => {
      insertSpread(sql, "ds", "issued", 98, END - 10 * MIN, END, { stsMs: 120 });
      insertSpread(sql, "ds", "issued", 2, END - 10 * MIN, END, { stsMs: 900, sampleInterval: 1 });
      insertSpread(sql, "ds", "denied", 500, END - 10 * MIN, END); // double5 = -1: excluded
    });
    expect(metrics.stsSamples).toBe(100);
    expect(metrics.stsP99Ms).toBe(900);
  });

  it("replays: token_reused per repository within the hour, the most first, sampling honoured", async () => {
    const metrics = await measure((sql) => {
      const reused = (repository: string, at: number, sampleInterval = 1) =>
        sql.insert("ds", auditPoint("rejected", { repository, code: "token_reused" }), at, sampleInterval);
      for (let i = 0; i < 4; i++) reused("acme/app", END - (10 + i) * MIN);
      reused("acme/infra", END - 20 * MIN, 9);
      reused("acme/app", END - 61 * MIN); // too old
      insertSpread(sql, "ds", "rejected", 50, END - 30 * MIN, END); // invalid_token: not a replay
    });
    expect(metrics.replays).toEqual([
      { repository: "acme/infra", count: 9 },
      { repository: "acme/app", count: 4 },
    ]);
  });

  it("no traffic: zero counts and no p99 (null)", async () => {
    const metrics = await measure((sql) =>
      insertSpread(sql, "ds", "issued", 1, END - 30 * 24 * 60 * MIN, END - 29 * 24 * 60 * MIN),
    );
    expect(metrics).toEqual({
      issuedRecent: 0,
      issuedBaseline: 0,
      denials: 0,
      denialGroups: [],
      stsSamples: 0,
      stsP99Ms: null,
      replays: [],
      githubMinRemaining: null,
      githubTokensTooWide: 0,
    });
  });
});
