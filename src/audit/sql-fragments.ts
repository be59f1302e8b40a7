// SQL fragments over the audit schema that the named queries, the alert queries and the dashboards share: counts
// weighted by `_sample_interval` (a sampled row stands for that many events), conditions on outcome and code, stages
// that ran, weighted quantiles. Pure; no I/O. A small module of its own: the alert cron (in the Worker) imports it.
import { AUDIT_NOT_MEASURED } from "./constants.ts";
import { blob, double, type AuditDouble } from "./schema.ts";
import { sqlString } from "./sql-api.ts";

/** Counts of events: a sampled row stands for `_sample_interval` of them. */
export const COUNT = "SUM(_sample_interval)";
export const countWhere = (condition: string) => `SUM(if(${condition}, _sample_interval, 0))`;
export const outcomeIs = (outcome: string) => `${blob("outcome")} = ${sqlString(outcome)}`;
export const codeIs = (code: string) => `${blob("code")} = ${sqlString(code)}`;
/** A timing or counter double that was recorded (AUDIT_NOT_MEASURED when the stage did not run). */
export const measured = (column: AuditDouble) => `${double(column)} > ${AUDIT_NOT_MEASURED}`;
/** The weighted quantile of a double: sampled rows weigh `_sample_interval`. */
export const quantileOf = (level: number, column: AuditDouble) =>
  `quantileExactWeighted(${level})(${double(column)}, _sample_interval)`;
