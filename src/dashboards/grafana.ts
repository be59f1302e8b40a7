// The Grafana dashboard (Grafana 10+, the Altinity ClickHouse plugin `vertamedia-clickhouse-datasource`) as a JSON
// value: panels built from panel-sql.ts, dashboard variables for the datasource, the dataset, a repository filter and
// each alert rule's threshold (defaults: the ALERT_RULES given, else the built-in ones). Pure; no I/O.
// `npm run dashboards` writes it to dashboards/grafana/ (src/cli/dashboards.ts); a test fails when that copy is stale.
import {
  denialsSql,
  githubRateSql,
  issuanceSql,
  LATENCY_STAGES,
  latencyStageSql,
  replaysSql,
  topReposSql,
} from "../audit/queries.ts";
import { AUDIT_DATASET_DEFAULT, SANDBOX_AUDIT_DATASET } from "../audit/constants.ts";
import type { AlertRules } from "../alerts/rules.ts";
import {
  denialsAlertSql,
  githubAlertSql,
  issuanceDropSql,
  panelFrame,
  replayAlertSql,
  stsAlertSql,
} from "./panel-sql.ts";

export const PLUGIN_ID = "vertamedia-clickhouse-datasource";
/** The uid the provisioning file gives the datasource (dashboards/grafana/datasource.yaml). */
export const DATASOURCE_UID = "cloudflare-analytics-engine";
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana template variable, resolved by Grafana, not JavaScript.
const DATASOURCE = { type: PLUGIN_ID, uid: "${datasource}" };

export interface DashboardOptions {
  rules: AlertRules;
  /** The dataset variable's choices, the first the default. */
  datasets?: readonly string[];
}

type Json = Record<string, unknown>;

/** One query of a panel: the plugin's target with Column:DateTime = timestamp (what $timeFilter/$timeSeries use). */
function target(refId: string, query: string, format: "time_series" | "table"): Json {
  return {
    refId,
    datasource: DATASOURCE,
    query,
    format,
    dateTimeType: "DATETIME",
    dateTimeColDataType: "timestamp",
    dateColDataType: "",
    database: "",
    table: "",
    round: "0s",
    intervalFactor: 1,
    extrapolate: false,
    skip_comments: true,
    editorMode: "sql",
  };
}

/** Draws a column as the alert's threshold: a red dashed line, no fill. */
function thresholdOverride(name: string, label: string): Json {
  return {
    matcher: { id: "byName", options: name },
    properties: [
      { id: "displayName", value: label },
      { id: "color", value: { mode: "fixed", fixedColor: "red" } },
      { id: "custom.lineStyle", value: { fill: "dash", dash: [10, 10] } },
      { id: "custom.fillOpacity", value: 0 },
      { id: "custom.lineInterpolation", value: "stepAfter" },
    ],
  };
}

interface PanelSpec {
  title: string;
  description: string;
  kind: "timeseries" | "table";
  targets: Json[];
  unit?: string;
  overrides?: Json[];
}

function panel(spec: PanelSpec, id: number, gridPos: { x: number; y: number; w: number; h: number }): Json {
  const base = {
    id,
    type: spec.kind,
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    gridPos,
    targets: spec.targets,
  };
  if (spec.kind === "table") {
    return {
      ...base,
      options: { showHeader: true, cellHeight: "sm" },
      fieldConfig: { defaults: { unit: spec.unit ?? "short" }, overrides: spec.overrides ?? [] },
    };
  }
  return {
    ...base,
    options: {
      legend: { displayMode: "list", placement: "bottom", showLegend: true },
      tooltip: { mode: "multi", sort: "none" },
    },
    fieldConfig: {
      defaults: {
        unit: spec.unit ?? "short",
        min: 0,
        custom: { drawStyle: "line", lineWidth: 1, fillOpacity: 10, spanNulls: true, showPoints: "auto" },
      },
      overrides: spec.overrides ?? [],
    },
  };
}

const cli = (command: string) => `Same SQL as \`npm run analytics -- ${command}\`.`;

/** The panels, in order: two per row. Alert panels only for enabled rules. */
export function panelSpecs(rules: AlertRules): PanelSpec[] {
  const filtered = panelFrame({ repositoryFilter: true });
  const specs: PanelSpec[] = [
    {
      title: "Issuance rate by outcome",
      description: `Requests per panel step by outcome: issued, denied (policy), rejected (bad request or token, replay, rate limit), errors. ${cli("issuance")}`,
      kind: "timeseries",
      targets: [target("A", issuanceSql(filtered), "time_series")],
    },
  ];
  if (rules.issuance_drop.enabled) {
    const { issued, floor } = issuanceDropSql();
    specs.push({
      title: "Issuance per alert window vs the issuance_drop floor",
      description:
        "Credentials issued per issuance_drop window (all repositories), and the level below which the rule fires: the rate of the baseline before, less drop_percent, once the baseline had min_baseline issuances. The floor uses the previous baseline-sized bucket; the cron's baseline slides.",
      kind: "timeseries",
      targets: [target("A", issued, "time_series"), target("B", floor, "time_series")],
      overrides: [thresholdOverride("alert_floor", "issuance_drop fires below")],
    });
  }
  specs.push({
    title: "Denials and rejections by reason and rule",
    description: `Denied and rejected requests in the time range by outcome, public code, internal reason and deciding rule. ${cli("denials")}`,
    kind: "table",
    targets: [target("A", denialsSql(filtered), "table")],
  });
  if (rules.denials.enabled) {
    specs.push({
      title: "Most denials of one owner and reason per alert window",
      description:
        "The largest count of policy denials of one repository owner for one reason per denials window (all repositories), and the rule's maximum: the rule fires above it.",
      kind: "timeseries",
      targets: [target("A", denialsAlertSql(), "time_series")],
      overrides: [thresholdOverride("alert_threshold", "denials fires above")],
    });
  }
  specs.push({
    title: "Latency p50/p99: total, verification, admission, GitHub, STS",
    description: `Weighted p50 and p99 per panel step, in ms, of the stages that ran. ${cli("latency")}`,
    kind: "timeseries",
    unit: "ms",
    targets: LATENCY_STAGES.filter((stage) => stage.key !== "total_issued").map((stage, i) =>
      target(String.fromCharCode(65 + i), latencyStageSql(filtered, stage, { series: true }), "time_series"),
    ),
  });
  if (rules.sts_p99.enabled) {
    specs.push({
      title: "STS p99 per alert window",
      description:
        "STS p99 (all attempts of a request) per sts_p99 window with at least min_samples STS calls (all repositories), and the rule's limit: the rule fires above it.",
      kind: "timeseries",
      unit: "ms",
      targets: [target("A", stsAlertSql(), "time_series")],
      overrides: [thresholdOverride("alert_threshold", "sts_p99 fires above")],
    });
  }
  specs.push(
    {
      title: "Top repositories",
      description: `Repositories by requests in the time range, with their outcomes. ${cli("top-repos")}`,
      kind: "table",
      targets: [target("A", topReposSql(filtered), "table")],
    },
    {
      title: "Replays and rate limiting",
      description: `Replayed tokens (token_reused) and rate-limited requests by repository, first and last seen. ${cli("replays")}`,
      kind: "table",
      targets: [target("A", replaysSql(filtered), "table")],
    },
  );
  if (rules.replay.enabled) {
    specs.push({
      title: "Most replays of one repository per alert window",
      description:
        "The largest count of token_reused answers of one repository per replay window (all repositories), and the rule's maximum: the rule fires above it.",
      kind: "timeseries",
      targets: [target("A", replayAlertSql(), "time_series")],
      overrides: [thresholdOverride("alert_threshold", "replay fires above")],
    });
  }
  specs.push({
    title: "Lowest GitHub rate limit left",
    description: `The lowest x-ratelimit-remaining GitHub reported per panel step (steps where an exchange called GitHub). ${cli("github-rate")}${rules.github_rate_limit.enabled ? " The dashed line is the github_rate_limit rule's minimum: it fires below." : ""}`,
    kind: "timeseries",
    targets: [
      target("A", githubRateSql(filtered), "time_series"),
      ...(rules.github_rate_limit.enabled ? [target("B", githubAlertSql(), "time_series")] : []),
    ],
    overrides: [
      {
        matcher: { id: "byName", options: "exchanges" },
        properties: [{ id: "custom.hideFrom", value: { viz: true, legend: true, tooltip: false } }],
      },
      ...(rules.github_rate_limit.enabled
        ? [thresholdOverride("alert_threshold", "github_rate_limit fires below")]
        : []),
    ],
  });
  return specs;
}

function textbox(name: string, label: string, value: number): Json {
  const text = String(value);
  return {
    type: "textbox",
    name,
    label,
    query: text,
    current: { text, value: text },
    options: [{ selected: true, text, value: text }],
    hide: 0,
  };
}

/** The threshold variables of the enabled rules, their defaults from `rules`. */
function thresholdVariables(rules: AlertRules): Json[] {
  const variables: Json[] = [];
  const { issuance_drop: drop, denials, sts_p99: sts, replay, github_rate_limit: github } = rules;
  if (drop.enabled) {
    variables.push(
      textbox("issuance_drop_percent", "issuance_drop: % down", drop.drop_percent),
      textbox("issuance_window_minutes", "issuance_drop: window min", drop.window_minutes),
      textbox("issuance_baseline_minutes", "issuance_drop: baseline min", drop.baseline_minutes),
      textbox("issuance_min_baseline", "issuance_drop: min baseline", drop.min_baseline),
    );
  }
  if (denials.enabled)
    variables.push(
      textbox("denials_max", "denials: max", denials.max),
      textbox("denials_window_minutes", "denials: window min", denials.window_minutes),
    );
  if (sts.enabled) {
    variables.push(
      textbox("sts_p99_ms", "sts_p99: ms", sts.p99_ms),
      textbox("sts_window_minutes", "sts_p99: window min", sts.window_minutes),
      textbox("sts_min_samples", "sts_p99: min calls", sts.min_samples),
    );
  }
  if (replay.enabled)
    variables.push(
      textbox("replay_max", "replay: max", replay.max),
      textbox("replay_window_minutes", "replay: window min", replay.window_minutes),
    );
  if (github.enabled)
    variables.push(textbox("github_min_remaining", "github_rate_limit: min left", github.min_remaining));
  return variables;
}

/** The repository variable's query: the repositories seen in the time range, busiest first ($from/$to: plugin macros). */
export const REPOSITORY_VARIABLE_QUERY =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana template variable, resolved by Grafana, not JavaScript.
  "SELECT index1 AS repository, SUM(_sample_interval) AS requests FROM ${dataset:raw} WHERE timestamp >= toDateTime($from) AND timestamp <= toDateTime($to) GROUP BY repository ORDER BY requests DESC LIMIT 500";

export function buildDashboard(options: DashboardOptions): Json {
  const datasets = options.datasets ?? [AUDIT_DATASET_DEFAULT, SANDBOX_AUDIT_DATASET];
  const specs = panelSpecs(options.rules);
  const panels = specs.map((spec, i) => panel(spec, i + 1, { x: (i % 2) * 12, y: Math.floor(i / 2) * 9, w: 12, h: 9 }));
  const first = datasets[0] ?? AUDIT_DATASET_DEFAULT;
  return {
    title: "ci-credential-broker",
    uid: "ci-credential-broker",
    description:
      "Credential exchanges from the audit dataset in Workers Analytics Engine (docs/dashboards.md). Generated by `npm run dashboards`.",
    tags: ["ci-credential-broker", "analytics-engine"],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 38,
    version: 1,
    time: { from: "now-6h", to: "now" },
    timezone: "utc",
    refresh: "1m",
    __requires: [
      { type: "grafana", id: "grafana", name: "Grafana", version: "10.0.0" },
      { type: "datasource", id: PLUGIN_ID, name: "Altinity plugin for ClickHouse", version: "3.0.0" },
      { type: "panel", id: "timeseries", name: "Time series", version: "" },
      { type: "panel", id: "table", name: "Table", version: "" },
    ],
    annotations: { list: [] },
    templating: {
      list: [
        {
          type: "datasource",
          name: "datasource",
          label: "Data source",
          query: PLUGIN_ID,
          current: { text: "Cloudflare Analytics Engine", value: DATASOURCE_UID },
          hide: 0,
          refresh: 1,
        },
        {
          type: "custom",
          name: "dataset",
          label: "Dataset",
          query: datasets.join(","),
          multi: false,
          includeAll: false,
          current: { text: first, value: first },
          options: datasets.map((name) => ({ selected: name === first, text: name, value: name })),
          hide: 0,
        },
        {
          type: "query",
          name: "repository",
          label: "Repository",
          datasource: DATASOURCE,
          query: REPOSITORY_VARIABLE_QUERY,
          definition: REPOSITORY_VARIABLE_QUERY,
          refresh: 2,
          multi: true,
          includeAll: true,
          allValue: "'*'",
          current: { text: ["All"], value: ["$__all"] },
          options: [],
          sort: 0,
          hide: 0,
        },
        ...thresholdVariables(options.rules),
      ],
    },
    panels,
  };
}

/** The dashboard file's text: two-space JSON and a final newline (stable, so the staleness test compares text). */
export function dashboardJson(options: DashboardOptions): string {
  return `${JSON.stringify(buildDashboard(options), null, 2)}\n`;
}
