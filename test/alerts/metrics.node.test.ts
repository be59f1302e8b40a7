// Every alert query on a real ClickHouse engine (chdb): the cron's statements for all five rules over a table of data
// points the broker's encoder made (some sampled), read back by readAlertMetrics, compared with the truth.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertQueries, denialGroups, readAlertMetrics } from "../../src/alerts/metrics.ts";
import { defaultAlertRules } from "../../src/alerts/rules.ts";
import { parseSqlResponse } from "../../src/audit/sql-api.ts";
import { ALERT_REPLAY_MAX_REPOSITORIES } from "../../src/alerts/constants.ts";
import { createLocalAnalyticsEngine, type LocalAnalyticsEngine } from "../support/local-analytics/engine.ts";
import {
  indexOf,
  sampleTraffic,
  storedPoints,
  weightedCount,
  weightedQuantile,
  type Row,
} from "../support/local-analytics/sample-traffic.ts";

const DATASET = "ci_credential_broker";
/** A fixed instant: alert windows end at an explicit time, whatever NOW() says. */
const END_MS = Date.UTC(2026, 10, 25, 12, 0, 30);
let engine: LocalAnalyticsEngine;
let rows: Row[];

beforeAll(() => {
  engine = createLocalAnalyticsEngine();
  rows = sampleTraffic({ endMs: END_MS, spanMinutes: 80, count: 600, seed: 11 });
  engine.insert(DATASET, storedPoints(rows));
});
afterAll(() => engine?.close());

/** Rows in (end - minutes, end], at second resolution as the queries bound them. */
function within(minutes: number, endMs = END_MS): Row[] {
  const end = Math.floor(endMs / 1000);
  return rows.filter((row) => row.atMs / 1000 > end - minutes * 60 && row.atMs / 1000 <= end);
}

describe("alert queries on chdb", () => {
  it("every rule's statement runs, and the metrics equal the truth", () => {
    const rules = defaultAlertRules();
    const queries = alertQueries(rules, DATASET, END_MS);
    expect(queries.map((query) => query.kind)).toEqual(["counts", "denials", "sts", "replay", "github"]);
    const results = queries.map((query) => {
      const answer = engine.query(query.sql);
      if (!answer.ok) throw new Error(`${query.kind}: ${answer.message}`);
      return parseSqlResponse(answer.body);
    });
    const metrics = readAlertMetrics(rules, queries, results);

    const issued = (list: Row[]) => weightedCount(list.filter((row) => row.event.outcome === "issued"));
    const recent = within(5);
    expect(metrics.issuedRecent).toBe(issued(recent));
    expect(metrics.issuedBaseline).toBe(issued(within(65)) - issued(recent));

    const denied = within(60).filter((row) => row.event.outcome === "denied");
    const truthRows = new Map<string, { repository: string; reason: string; denials: number }>();
    for (const row of denied) {
      const key = `${row.event.repository}\n${row.event.reason}`;
      const entry = truthRows.get(key) ?? {
        repository: row.event.repository ?? "",
        reason: row.event.reason ?? "",
        denials: 0,
      };
      entry.denials += row.sampleInterval;
      truthRows.set(key, entry);
    }
    expect(metrics.denialGroups).toEqual(denialGroups([...truthRows.values()]));
    expect(metrics.denials).toBe(weightedCount(denied));

    const sts = within(15).flatMap((row) =>
      row.event.sts_ms === undefined ? [] : [{ value: row.event.sts_ms, weight: row.sampleInterval }],
    );
    expect(metrics.stsSamples).toBe(sts.reduce((sum, pair) => sum + pair.weight, 0));
    expect(metrics.stsP99Ms).toBe(weightedQuantile(sts, 0.99) ?? null);

    const replays = new Map<string, number>();
    for (const row of within(60).filter((r) => r.event.code === "token_reused"))
      replays.set(indexOf(row), (replays.get(indexOf(row)) ?? 0) + row.sampleInterval);
    expect(new Map(metrics.replays?.map((r) => [r.repository, r.count]))).toEqual(
      new Map([...replays].sort((a, b) => b[1] - a[1]).slice(0, ALERT_REPLAY_MAX_REPOSITORIES)),
    );

    const github = within(15).flatMap((row) =>
      row.event.github_rate_remaining === undefined ? [] : [row.event.github_rate_remaining],
    );
    expect(metrics.githubMinRemaining).toBe(github.length === 0 ? null : Math.min(...github));
  });

  it("a window with no rows: zeros and nulls, never an error", () => {
    const rules = defaultAlertRules();
    const queries = alertQueries(rules, DATASET, END_MS + 24 * 3600_000);
    const results = queries.map((query) => {
      const answer = engine.query(query.sql);
      if (!answer.ok) throw new Error(answer.message);
      return parseSqlResponse(answer.body);
    });
    expect(readAlertMetrics(rules, queries, results)).toEqual({
      issuedRecent: 0,
      issuedBaseline: 0,
      denialGroups: [],
      denials: 0,
      stsSamples: 0,
      stsP99Ms: null,
      replays: [],
      githubMinRemaining: null,
      githubTokensTooWide: 0,
    });
  });
});
