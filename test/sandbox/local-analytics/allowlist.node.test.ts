// The allowlist of Analytics Engine SQL (Cloudflare's documented functions and clauses): every query the project
// generates passes it; what only ClickHouse accepts does not.
import { describe, expect, it } from "vitest";
import { alertQueries } from "../../../src/alerts/metrics.ts";
import { defaultAlertRules } from "../../../src/alerts/rules.ts";
import { planQuery, QUERY_NAMES } from "../../../src/audit/queries.ts";
import { buildDashboard, REPOSITORY_VARIABLE_QUERY } from "../../../src/dashboards/grafana.ts";
import { analyticsEngineViolations } from "../../../sandbox/local-analytics/allowlist.ts";

describe("every generated query is documented Analytics Engine SQL", () => {
  it.each(QUERY_NAMES)("npm run analytics -- %s", (name) => {
    const argument = (
      { request: "0b6f1a52-3c2d-4e5f-8a9b-0c1d2e3f4a5b", token: "0123456789abcdef", repository: "acme/app" } as Partial<
        Record<typeof name, string>
      >
    )[name];
    for (const since of [30, 60, 7 * 1440]) {
      for (const statement of planQuery({
        name,
        dataset: "ci_credential_broker",
        sinceMinutes: since,
        ...(argument === undefined ? {} : { argument }),
      }).statements) {
        expect(analyticsEngineViolations(statement.sql), statement.sql).toEqual([]);
      }
    }
  });

  it("every alert query", () => {
    for (const query of alertQueries(defaultAlertRules(), "ci_credential_broker", Date.UTC(2026, 10, 25, 12)))
      expect(analyticsEngineViolations(query.sql), query.sql).toEqual([]);
  });

  it("every panel query and the repository variable's (macros and variables unexpanded; expanded: test/dashboards)", () => {
    const board = buildDashboard({ rules: defaultAlertRules() }) as {
      panels: Array<{ targets: Array<{ query: string }> }>;
    };
    // Unexpanded text holds $macros and ${variables}: blank them to identifiers and numbers for the check.
    const blank = (sql: string) =>
      sql
        .replace(/\$\{\w+:raw\}/g, "1")
        .replace(/\$\{?\w+\}?/g, "1")
        .replace(/'\*' IN \(1\)/g, "'*' IN ('x')");
    for (const query of [
      ...board.panels.flatMap((panel) => panel.targets.map((target) => target.query)),
      REPOSITORY_VARIABLE_QUERY,
    ]) {
      expect(analyticsEngineViolations(blank(query).replace(/FROM 1/g, "FROM ci_credential_broker")), query).toEqual(
        [],
      );
    }
  });
});

describe("what only ClickHouse accepts is refused", () => {
  it.each([
    ["SELECT uniqExact(blob1) FROM ds", /uniqExact/],
    ["SELECT quantile(0.5)(double1) FROM ds", /quantile\(\)/],
    ["SELECT blob1 FROM ds ARRAY JOIN x", /FROM names one table|ARRAY/],
    ["SELECT blob1 FROM ds JOIN other ON 1", /FROM names one table/],
    ["SELECT blob1 FROM ds UNION ALL SELECT blob2 FROM ds", /UNION/],
    ["SELECT blob1 FROM ds SETTINGS max_threads = 1", /SETTINGS/],
    ["WITH 1 AS x SELECT x FROM ds", /one SELECT/],
    ["SELECT 1; SELECT 2", /not part of Analytics Engine SQL/],
    ["SELECT * FROM file('/etc/passwd')", /FROM names one table|file/],
    ["SELECT blob1 FROM ds WHERE timestamp > NOW() - INTERVAL 5 MINUTE", /INTERVAL is written/],
    ["SELECT blob1 FROM ds FORMAT CSV", /FORMAT CSV/],
    ['SELECT blob1 FROM ds WHERE blob1 = "x"', /not part of Analytics Engine SQL/],
    ["SELECT arr[1] FROM ds", /not part of Analytics Engine SQL/],
    ["SELECT blob21 FROM ds", /blob21/],
    ["INSERT INTO ds VALUES (1)", /one SELECT/],
    ["SELECT DISTINCT blob1 FROM ds", /DISTINCT only inside/],
  ])("%s", (sql, problem) => {
    expect(analyticsEngineViolations(sql).join("\n")).toMatch(problem);
  });

  it("accepts the documented forms: parametric aggregates, IN lists, BETWEEN, LIKE, HAVING, subqueries, SHOW", () => {
    for (const sql of [
      "SELECT quantileExactWeighted(0.99)(double1, _sample_interval) AS p FROM ds",
      "SELECT topK(10)(blob1) AS top, count(DISTINCT blob2) AS n FROM ds WHERE blob1 NOT IN ('a', 'b') AND double1 BETWEEN 1 AND 2",
      "SELECT blob1 AS b, SUM(_sample_interval) AS n FROM ds WHERE blob2 LIKE 'acme/%' GROUP BY b HAVING n > 10 ORDER BY n DESC LIMIT 10 OFFSET 5 FORMAT JSONEachRow",
      "SELECT t, max(n) AS m FROM (SELECT intDiv(toUInt32(timestamp), 60) * 60 AS t, blob1 AS b, count() AS n FROM ds GROUP BY t, b) GROUP BY t",
      "SELECT position(':' IN blob1) AS p, extract(SECOND from timestamp) AS s FROM ds",
      "SHOW TABLES",
      "SHOW TIMEZONE FORMAT JSON",
    ]) {
      expect(analyticsEngineViolations(sql), sql).toEqual([]);
    }
  });

  it("names only the dataset tables it is given", () => {
    expect(analyticsEngineViolations("SELECT blob1 FROM system", { tables: ["ci_credential_broker"] }).join()).toMatch(
      /not a dataset/,
    );
  });
});
