// The Grafana dashboard: the committed files are what `npm run dashboards` makes; the JSON imports (the plugin's
// datasource type, at least six panels, the variables); panels use only the plugin's documented macros; and every
// panel query, expanded as Grafana and the plugin expand it, runs on chdb and answers the truth.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlertRulesSchema, defaultAlertRules } from "../../src/alerts/rules.ts";
import { datasourceYaml } from "../../src/dashboards/datasource.ts";
import { buildDashboard, dashboardJson, PLUGIN_ID, REPOSITORY_VARIABLE_QUERY } from "../../src/dashboards/grafana.ts";
import { parseSqlResponse, type SqlResult } from "../../src/audit/sql-api.ts";
import { analyticsEngineViolations } from "../../sandbox/local-analytics/allowlist.ts";
import { createLocalAnalyticsEngine, type LocalAnalyticsEngine } from "../../sandbox/local-analytics/engine.ts";
import {
  expandPanelQuery,
  type GrafanaVariable,
  type PanelContext,
} from "../support/local-analytics/grafana-expand.ts";
import {
  ODD_REPOSITORY,
  sampleTraffic,
  storedPoints,
  weightedCount,
  weightedQuantile,
  indexOf,
  type Row,
} from "../support/local-analytics/sample-traffic.ts";

type Json = Record<string, any>;
const committed = (name: string) => readFileSync(new URL(`../../dashboards/grafana/${name}`, import.meta.url), "utf8");
const dashboard = JSON.parse(committed("ci-credential-broker.json")) as Json;
const targets = (board: Json): Json[] => board.panels.flatMap((panel: Json) => panel.targets);
const PLUGIN_MACROS = ["table", "timeFilter", "timeSeries", "from", "to", "interval"];

describe("the committed dashboard", () => {
  it("is what npm run dashboards generates (run it after changing a query or a panel)", () => {
    expect(committed("ci-credential-broker.json")).toBe(dashboardJson({ rules: defaultAlertRules() }));
    expect(committed("datasource.yaml")).toBe(datasourceYaml());
  });

  it("imports: Grafana 10 schema, the plugin's datasource on every panel and query, at least six panels", () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(6);
    for (const panel of dashboard.panels) {
      expect(panel.datasource.type).toBe(PLUGIN_ID);
      expect(panel.targets.length).toBeGreaterThan(0);
      for (const target of panel.targets)
        expect(target).toMatchObject({
          datasource: { type: PLUGIN_ID },
          dateTimeColDataType: "timestamp",
          dateTimeType: "DATETIME",
        });
    }
    expect(new Set(dashboard.panels.map((panel: Json) => panel.id)).size).toBe(dashboard.panels.length);
    const titles = dashboard.panels.map((panel: Json) => panel.title).join("\n");
    for (const wanted of [
      /Issuance rate by outcome/,
      /Denials and rejections by reason and rule/,
      /p50\/p99.*GitHub.*STS/,
      /Top repositories/,
      /Replays and rate limiting/,
      /Lowest GitHub rate limit left/,
    ])
      expect(titles).toMatch(wanted);
  });

  it("has a dataset variable, a repository filter and each rule's thresholds, defaulting to the built-in ones", () => {
    const variables = new Map<string, Json>(
      dashboard.templating.list.map((variable: Json) => [variable.name, variable]),
    );
    expect(variables.get("dataset")).toMatchObject({
      type: "custom",
      multi: false,
      includeAll: false,
      current: { value: "ci_credential_broker" },
    });
    expect(variables.get("repository")).toMatchObject({
      type: "query",
      multi: true,
      includeAll: true,
      allValue: "'*'",
    });
    const rules = defaultAlertRules();
    expect(
      Object.fromEntries(
        [...variables].filter(([, v]) => v.type === "textbox").map(([name, v]) => [name, v.current.value]),
      ),
    ).toEqual({
      issuance_drop_percent: String(rules.issuance_drop.drop_percent),
      issuance_window_minutes: String(rules.issuance_drop.window_minutes),
      issuance_baseline_minutes: String(rules.issuance_drop.baseline_minutes),
      issuance_min_baseline: String(rules.issuance_drop.min_baseline),
      denials_max: String(rules.denials.max),
      denials_window_minutes: String(rules.denials.window_minutes),
      sts_p99_ms: String(rules.sts_p99.p99_ms),
      sts_window_minutes: String(rules.sts_p99.window_minutes),
      sts_min_samples: String(rules.sts_p99.min_samples),
      replay_max: String(rules.replay.max),
      replay_window_minutes: String(rules.replay.window_minutes),
      github_min_remaining: String(rules.github_rate_limit.min_remaining),
    });
  });

  it("takes a deployment's ALERT_RULES: its thresholds become the defaults; a disabled rule has no panel", () => {
    const rules = AlertRulesSchema.parse({ denials: { max: 7 }, sts_p99: { enabled: false } });
    const board = buildDashboard({ rules });
    const denialsMax = board.templating as Json;
    expect(denialsMax.list.find((v: Json) => v.name === "denials_max").current.value).toBe("7");
    expect(denialsMax.list.some((v: Json) => v.name === "sts_p99_ms")).toBe(false);
    expect((board.panels as Json[]).some((panel) => /STS p99 per alert window/.test(panel.title))).toBe(false);
  });

  it("panels use only the plugin's documented macros and the dashboard's own variables", () => {
    const variables = dashboard.templating.list.map((variable: Json) => variable.name);
    for (const query of [...targets(dashboard).map((target) => target.query as string), REPOSITORY_VARIABLE_QUERY]) {
      for (const [, braced, bare] of query.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g)) {
        const name = braced ?? bare;
        expect([...PLUGIN_MACROS, ...variables], `${name} in ${query}`).toContain(name);
      }
    }
  });

  it("the datasource file: the plugin, the SQL API from the environment, no account id or token in it", () => {
    const yaml = committed("datasource.yaml");
    expect(yaml).toContain(`type: ${PLUGIN_ID}`);
    expect(yaml).toMatch(/^ {4}url: \$\{ANALYTICS_ENGINE_SQL_URL\}$/m);
    expect(yaml).toMatch(/^ {6}httpHeaderName1: Authorization$/m);
    expect(yaml).toMatch(/^ {6}httpHeaderValue1: Bearer \$\{ANALYTICS_ENGINE_API_TOKEN\}$/m);
    expect(
      yaml
        .split("\n")
        .filter((line) => !line.startsWith("#"))
        .join("\n"),
    ).not.toMatch(/[0-9a-f]{32}|sandbox-analytics-token/);
  });
});

describe("every panel query on chdb, expanded as Grafana and the plugin expand it", () => {
  const DATASET = "ci_credential_broker";
  const TO_MS = Date.UTC(2026, 10, 25, 12, 0, 0);
  const FROM_MS = TO_MS - 3 * 3600_000;
  let engine: LocalAnalyticsEngine;
  let rows: Row[];
  beforeAll(() => {
    engine = createLocalAnalyticsEngine();
    rows = sampleTraffic({ endMs: TO_MS - 60_000, spanMinutes: 170, count: 700, seed: 23 });
    engine.insert(DATASET, storedPoints(rows));
  });
  afterAll(() => engine?.close());

  function context(repository: readonly string[] = ["$__all"]): PanelContext {
    const variables: Record<string, GrafanaVariable> = {
      dataset: { value: DATASET },
      repository: { value: repository, multi: true, includeAll: true, allValue: "'*'" },
    };
    for (const v of dashboard.templating.list as Json[])
      if (v.type === "textbox") variables[v.name] = { value: v.current.value };
    return { fromMs: FROM_MS, toMs: TO_MS, intervalSeconds: 300, variables };
  }
  function runPanel(title: RegExp, refId = "A", repository?: readonly string[]): SqlResult {
    const panel = (dashboard.panels as Json[]).find((p) => title.test(p.title)) as Json;
    const target = (panel.targets as Json[]).find((t) => t.refId === refId) as Json;
    const answer = engine.query(expandPanelQuery(target.query, context(repository)));
    if (!answer.ok) throw new Error(`${panel.title} ${refId}: ${answer.message}`);
    return parseSqlResponse(answer.body);
  }
  const bucket = (row: Row, seconds: number, offset = 0) =>
    (Math.floor(row.atMs / 1000 / seconds) + offset) * seconds * 1000;
  const inRange = (row: Row) => row.atMs >= FROM_MS && row.atMs <= TO_MS;

  it("every target, raw and expanded, is Analytics Engine SQL, and runs", () => {
    for (const target of [...targets(dashboard), { query: REPOSITORY_VARIABLE_QUERY }]) {
      const expanded = expandPanelQuery(target.query, context());
      expect(analyticsEngineViolations(expanded), expanded).toEqual([]);
      const answer = engine.query(expanded);
      expect(answer.ok ? "" : answer.message, expanded).toBe("");
    }
  });

  it("issuance rate: each outcome's weighted count per panel step", () => {
    const answer = runPanel(/Issuance rate by outcome/).rows;
    for (const row of answer) {
      const mine = rows.filter((r) => inRange(r) && bucket(r, 300) === row.t);
      expect(row).toMatchObject({
        issued: weightedCount(mine.filter((r) => r.event.outcome === "issued")),
        denied: weightedCount(mine.filter((r) => r.event.outcome === "denied")),
      });
    }
    expect(
      answer.reduce(
        (sum, row) =>
          sum + (row.issued as number) + (row.denied as number) + (row.rejected as number) + (row.errors as number),
        0,
      ),
    ).toBe(weightedCount(rows.filter(inRange)));
  });

  it("the repository filter selects the odd name exactly (quote and backslash escaped by the plugin); All selects all", () => {
    const odd = runPanel(/Top repositories/, "A", [ODD_REPOSITORY]).rows;
    expect(odd).toEqual([
      expect.objectContaining({
        repository: ODD_REPOSITORY,
        requests: weightedCount(rows.filter((r) => inRange(r) && r.event.repository === ODD_REPOSITORY)),
      }),
    ]);
    const two = runPanel(/Top repositories/, "A", [ODD_REPOSITORY, "acme/app"]).rows;
    expect(two.map((row) => row.repository).sort()).toEqual(["acme/app", ODD_REPOSITORY].sort());
    expect(
      runPanel(/Top repositories/)
        .rows.map((row) => row.repository)
        .sort(),
    ).toEqual([...new Set(rows.filter(inRange).map(indexOf))].sort());
    const variable = engine.query(expandPanelQuery(REPOSITORY_VARIABLE_QUERY, context()));
    expect(variable.ok && parseSqlResponse(variable.body).rows.map((row) => row.repository)).toContain(ODD_REPOSITORY);
  });

  it("latency: the STS p99 of each step is the weighted quantile of the STS times in it", () => {
    const panel = (dashboard.panels as Json[]).find((p) => /p50\/p99/.test(p.title)) as Json;
    const refId = (panel.targets as Json[]).find((t) => /sts_p99_ms/.test(t.query))?.refId as string;
    for (const row of runPanel(/p50\/p99/, refId).rows) {
      const pairs = rows
        .filter((r) => inRange(r) && r.event.sts_ms !== undefined && bucket(r, 300) === row.t)
        .map((r) => ({ value: r.event.sts_ms as number, weight: r.sampleInterval }));
      expect(row.sts_p99_ms).toBe(weightedQuantile(pairs, 0.99));
    }
  });

  it("alert panels: each window's value and the rule's threshold", () => {
    const rules = defaultAlertRules();
    const denials = runPanel(/Most denials of one owner/).rows;
    expect(denials.length).toBeGreaterThan(0);
    for (const row of denials) {
      const counts = new Map<string, number>();
      for (const r of rows.filter(
        (r) => inRange(r) && r.event.outcome === "denied" && bucket(r, rules.denials.window_minutes * 60) === row.t,
      )) {
        const key = `${(r.event.repository ?? "").split("/")[0]}\n${r.event.reason}`;
        counts.set(key, (counts.get(key) ?? 0) + r.sampleInterval);
      }
      expect(row).toEqual({
        t: row.t,
        most_denied_owner_reason: Math.max(...counts.values()),
        alert_threshold: rules.denials.max,
      });
    }
    const replays = runPanel(/Most replays of one repository/).rows;
    const sts = runPanel(/STS p99 per alert window/).rows;
    const floor = runPanel(/issuance_drop floor/, "B").rows;
    expect([replays.length, sts.length, floor.length].every((n) => n > 0)).toBe(true);
    for (const row of replays) {
      const counts = new Map<string, number>();
      for (const r of rows.filter(
        (r) => inRange(r) && r.event.code === "token_reused" && bucket(r, rules.replay.window_minutes * 60) === row.t,
      ))
        counts.set(indexOf(r), (counts.get(indexOf(r)) ?? 0) + r.sampleInterval);
      expect(row).toMatchObject({
        most_replays_repository: Math.max(...counts.values()),
        alert_threshold: rules.replay.max,
      });
    }
    for (const row of sts) {
      const pairs = rows
        .filter(
          (r) => inRange(r) && r.event.sts_ms !== undefined && bucket(r, rules.sts_p99.window_minutes * 60) === row.t,
        )
        .map((r) => ({ value: r.event.sts_ms as number, weight: r.sampleInterval }));
      expect(pairs.reduce((sum, p) => sum + p.weight, 0)).toBeGreaterThanOrEqual(rules.sts_p99.min_samples);
      expect(row).toMatchObject({ sts_p99_ms: weightedQuantile(pairs, 0.99), alert_threshold: rules.sts_p99.p99_ms });
    }
    const { window_minutes: w, baseline_minutes: b, min_baseline: min, drop_percent: drop } = rules.issuance_drop;
    for (const row of floor) {
      const issued = weightedCount(
        rows.filter(
          (r) => r.event.outcome === "issued" && r.atMs >= FROM_MS - b * 60_000 && bucket(r, b * 60, 1) === row.t,
        ),
      );
      expect(row.alert_floor).toBeCloseTo(issued >= min ? (((issued * w) / b) * (100 - drop)) / 100 : 0, 6);
    }
    const github = runPanel(/Lowest GitHub rate limit left/, "A").rows;
    expect(github.length).toBeGreaterThan(0);
    for (const row of github)
      expect(row.lowest_remaining).toBe(
        Math.min(
          ...rows
            .filter((r) => inRange(r) && r.event.github_rate_remaining !== undefined && bucket(r, 300) === row.t)
            .map((r) => r.event.github_rate_remaining as number),
        ),
      );
    expect(
      runPanel(/Lowest GitHub rate limit left/, "B").rows.every(
        (row) => row.alert_threshold === rules.github_rate_limit.min_remaining,
      ),
    ).toBe(true);
  });
});
