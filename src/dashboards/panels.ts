// What each panel of the Grafana dashboard shows: title, description, the plugin targets running panel-sql.ts's SQL,
// and the dashed threshold line of an alert rule. Only enabled rules get alert panels. Pure; no I/O.
import type { AlertRules } from "../alerts/rules.ts";
import {
  denialsSql,
  githubRateSql,
  issuanceSql,
  LATENCY_STAGES,
  latencyStageSql,
  type QueryFrame,
  replaysSql,
  topReposSql,
} from "../audit/query-sql.ts";
import {
  denialsAlertSql,
  githubAlertSql,
  issuanceDropSql,
  panelFrame,
  replayAlertSql,
  stsAlertSql,
} from "./panel-sql.ts";

export const PLUGIN_ID = "vertamedia-clickhouse-datasource";
// biome-ignore lint/suspicious/noTemplateCurlyInString: `${datasource}` is Grafana's variable syntax, not a template
export const DATASOURCE = { type: PLUGIN_ID, uid: "${datasource}" };

export type Json = Record<string, unknown>;

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
export interface PanelSpec {
  title: string;
  description: string;
  kind: "timeseries" | "table";
  targets: Json[];
  unit?: string;
  overrides?: Json[];
}
const cli = (command: string) => `Same SQL as \`npm run analytics -- ${command}\`.`;
/** Issuance by outcome, and the issuance_drop rule's floor when it is enabled. */
function issuancePanels(rules: AlertRules, filtered: QueryFrame): PanelSpec[] {
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
  return specs;
}

/** Denials and rejections, and the denials rule's series when it is enabled. */
function denialPanels(rules: AlertRules, filtered: QueryFrame): PanelSpec[] {
  const specs: PanelSpec[] = [
    {
      title: "Denials and rejections by reason and rule",
      description: `Denied and rejected requests in the time range by outcome, public code, internal reason and deciding rule. ${cli("denials")}`,
      kind: "table",
      targets: [target("A", denialsSql(filtered), "table")],
    },
  ];
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
  return specs;
}

/** Latency by stage, and the sts_p99 rule's series when it is enabled. */
function latencyPanels(rules: AlertRules, filtered: QueryFrame): PanelSpec[] {
  const specs: PanelSpec[] = [
    {
      title: "Latency p50/p99: total, verification, admission, GitHub, STS",
      description: `Weighted p50 and p99 per panel step, in ms, of the stages that ran. ${cli("latency")}`,
      kind: "timeseries",
      unit: "ms",
      targets: LATENCY_STAGES.filter((stage) => stage.key !== "total_issued").map((stage, i) =>
        target(String.fromCharCode(65 + i), latencyStageSql(filtered, stage, { series: true }), "time_series"),
      ),
    },
  ];
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
  return specs;
}

/** Top repositories, replays and rate limiting, and the replay rule's series when it is enabled. */
function repositoryPanels(rules: AlertRules, filtered: QueryFrame): PanelSpec[] {
  const specs: PanelSpec[] = [
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
  ];
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
  return specs;
}

/** The lowest GitHub rate limit left, with the github_rate_limit rule's minimum when it is enabled. */
function githubRatePanel(rules: AlertRules, filtered: QueryFrame): PanelSpec {
  return {
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
  };
}

/** The panels, in order: two per row. Alert panels only for enabled rules. */
export function panelSpecs(rules: AlertRules): PanelSpec[] {
  const filtered = panelFrame({ repositoryFilter: true });
  return [
    ...issuancePanels(rules, filtered),
    ...denialPanels(rules, filtered),
    ...latencyPanels(rules, filtered),
    ...repositoryPanels(rules, filtered),
    githubRatePanel(rules, filtered),
  ];
}
