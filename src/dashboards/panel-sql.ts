// The SQL of the Grafana panels. Pure; no I/O. Two kinds:
// - the named queries of `npm run analytics` (src/audit/query-sql.ts) in the panel frame: the dashboard's dataset
//   variable, the Altinity plugin's $timeFilter and $timeSeries macros, and the repository filter;
// - one series per alert rule, from the same count, condition and quantile fragments as the alert queries
//   (src/alerts/metrics.ts), bucketed by the rule's own window, with the rule's threshold as a column (drawn as a
//   line). Thresholds and windows are dashboard variables (defaults: ALERT_RULES), so ALERT_RULES can change at run
// time.
// Only functions Analytics Engine documents (intDiv, toUInt32 as in the plugin's own $timeSeries; position, substring).
import { whereClause, type QueryFrame } from "../audit/query-sql.ts";
import { codeIs, COUNT, countWhere, measured, outcomeIs, quantileOf } from "../audit/sql-fragments.ts";
import { blob, INDEX_COLUMN } from "../audit/schema.ts";

/** A dashboard variable's value as it is (Grafana's `raw` format): the dataset name and the numeric thresholds. */
export const variable = (name: string) => `\${${name}:raw}`;

/**
 * The dashboard's repository filter: a multi-value variable whose "All" is the custom value '*' (matches every row).
 */
export const REPOSITORY_FILTER = `(${INDEX_COLUMN} IN ($repository) OR '*' IN ($repository))`;

/** The frame of every panel: the chosen dataset, the panel's time range and step, the repository filter. */
export function panelFrame(options: { repositoryFilter: boolean }): QueryFrame {
  return {
    table: variable("dataset"),
    window: "$timeFilter",
    bucket: "$timeSeries",
    sampleColumn: false,
    ...(options.repositoryFilter ? { filter: REPOSITORY_FILTER } : {}),
  };
}

/** A time bucket of `minutes` (a variable), in the plugin's $timeSeries shape: ms since the epoch. */
function windowBucket(minutes: string, offsetWindows = 0): string {
  return `(intDiv(toUInt32(timestamp), ${minutes} * 60)${offsetWindows === 0 ? "" : ` + ${offsetWindows}`}) * ${minutes} * 60 * 1000`;
}

/**
 * GitHub `owner/name` -> owner, GitLab `group/sub/project` -> top-level group: as the denials alert groups (ownerOf).
 */
const OWNER = `if(position('/' IN ${blob("repository")}) > 0, substring(${blob("repository")}, 1, position('/' IN ${blob("repository")}) - 1), ${blob("repository")})`;

/** The alert panels read the whole dataset, as the cron does: no repository filter. */
const ALERT_FRAME = panelFrame({ repositoryFilter: false });

/**
 * issuance_drop: issued per alert window, and the floor below which the rule fires: the rate of the baseline before
 * it, less drop_percent, once the baseline has min_baseline issuances. The baseline is the previous tumbling
 * baseline-sized bucket (the cron's baseline slides), so the floor is a step line that approximates the rule.
 */
export function issuanceDropSql(): { issued: string; floor: string } {
  const window = variable("issuance_window_minutes");
  const baseline = variable("issuance_baseline_minutes");
  const issued = countWhere(outcomeIs("issued"));
  return {
    issued: `SELECT
  ${windowBucket(window)} AS t,
  ${issued} AS issued_per_window
FROM ${ALERT_FRAME.table}
${whereClause(ALERT_FRAME)}
GROUP BY t
ORDER BY t ASC`,
    floor: `SELECT
  ${windowBucket(baseline, 1)} AS t,
  if(${issued} >= ${variable("issuance_min_baseline")}, ${issued} * ${window} / ${baseline} * (100 - ${variable("issuance_drop_percent")}) / 100, 0) AS alert_floor
FROM ${ALERT_FRAME.table}
WHERE timestamp >= toDateTime($from - ${baseline} * 60) AND timestamp <= toDateTime($to)
GROUP BY t
ORDER BY t ASC`,
  };
}

/**
 * The largest count of one group (owner and reason; repository) per alert window, beside the rule's maximum: a
 * per-group rule fires when any group goes above it, so the worst group is the one to draw.
 */
function mostOfOneGroupSql(options: {
  window: string;
  groups: Array<[string, string]>;
  condition: string;
  value: string;
  threshold: string;
}): string {
  return `SELECT
  t,
  max(events) AS ${options.value},
  ${variable(options.threshold)} AS alert_threshold
FROM (
  SELECT
    ${windowBucket(variable(options.window))} AS t,
    ${options.groups.map(([expression, name]) => `${expression} AS ${name}`).join(",\n    ")},
    ${COUNT} AS events
  FROM ${ALERT_FRAME.table}
  ${whereClause(ALERT_FRAME, options.condition)}
  GROUP BY t, ${options.groups.map(([, name]) => name).join(", ")}
)
GROUP BY t
ORDER BY t ASC`;
}

/** denials: the most policy denials of one owner for one reason per alert window, and the rule's maximum. */
export function denialsAlertSql(): string {
  return mostOfOneGroupSql({
    window: "denials_window_minutes",
    groups: [
      [OWNER, "owner"],
      [blob("reason"), "reason"],
    ],
    condition: outcomeIs("denied"),
    value: "most_denied_owner_reason",
    threshold: "denials_max",
  });
}

/** sts_p99: STS p99 per alert window that had at least min_samples STS calls, and the rule's limit. */
export function stsAlertSql(): string {
  return `SELECT
  ${windowBucket(variable("sts_window_minutes"))} AS t,
  ${quantileOf(0.99, "sts_ms")} AS sts_p99_ms,
  ${variable("sts_p99_ms")} AS alert_threshold
FROM ${ALERT_FRAME.table}
${whereClause(ALERT_FRAME, measured("sts_ms"))}
GROUP BY t
HAVING ${COUNT} >= ${variable("sts_min_samples")}
ORDER BY t ASC`;
}

/** replay: the most `token_reused` answers of one repository per alert window, and the rule's maximum. */
export function replayAlertSql(): string {
  return mostOfOneGroupSql({
    window: "replay_window_minutes",
    groups: [[INDEX_COLUMN, "repository"]],
    condition: codeIs("token_reused"),
    value: "most_replays_repository",
    threshold: "replay_max",
  });
}

/** github_rate_limit: the rule's minimum, per panel step where an exchange called GitHub (drawn beside github-rate). */
export function githubAlertSql(): string {
  return `SELECT
  $timeSeries AS t,
  ${variable("github_min_remaining")} AS alert_threshold
FROM ${ALERT_FRAME.table}
${whereClause(ALERT_FRAME, measured("github_rate_remaining"))}
GROUP BY t
ORDER BY t ASC`;
}
