import { describe, expect, it } from "vitest";
import {
  bucketMinutesFor,
  parseSince,
  planQuery,
  QUERY_NAMES,
  QueryInputError,
  type QueryName,
} from "../../src/audit/queries.ts";
import { shapeResult } from "../../src/audit/query-shape.ts";

const ID = "0b6f1a52-3c2d-4e5f-8a9b-0c1d2e3f4a5b";
const argumentFor = (name: QueryName) =>
  (({ request: ID, token: "0123456789abcdef", repository: "acme/app" }) as Partial<Record<QueryName, string>>)[name];
const plan = (name: QueryName, sinceMinutes = 60) => {
  const argument = argumentFor(name);
  return planQuery({
    name,
    dataset: "ci_credential_broker",
    sinceMinutes,
    ...(argument === undefined ? {} : { argument }),
  });
};

describe("named queries honour sampling", () => {
  it.each(QUERY_NAMES)("%s: counts are SUM(_sample_interval), quantiles weighted, never count()", (name) => {
    for (const statement of plan(name).statements) {
      expect(statement.sql).not.toMatch(/count\(/i);
      expect(statement.sql).not.toMatch(/\bavg\(|\bquantile\(/i);
      if (/SUM\(/.test(statement.sql)) expect(statement.sql).toMatch(/SUM\((if\(.*, )?_sample_interval(, 0\))?\)/);
      for (const quantile of statement.sql.match(/quantile\w*\([^)]*\)\([^)]*\)/g) ?? [])
        expect(quantile).toMatch(/^quantileExactWeighted\(0\.\d+\)\(double\d, _sample_interval\)$/);
      expect(statement.sql).toContain("FROM ci_credential_broker");
      expect(statement.sql).toContain("timestamp > NOW() - INTERVAL '");
    }
  });

  it("issuance buckets by toStartOfInterval and counts each outcome", () => {
    const { statements, bucketMinutes, shape } = plan("issuance", 60);
    expect(shape).toBe("series");
    expect(bucketMinutes).toBe(2);
    expect(statements[0]?.sql).toContain("toStartOfInterval(timestamp, INTERVAL '2' MINUTE) AS t");
    expect(statements[0]?.sql).toContain("SUM(if(blob1 = 'issued', _sample_interval, 0)) AS issued");
  });

  it("latency runs one statement per stage, skipping stages that did not run (-1)", () => {
    const { statements } = plan("latency");
    expect(statements.map((s) => s.label)).toEqual(["total", "total (issued)", "verify", "admission", "github", "sts"]);
    expect(statements[4]?.sql).toContain("double8 > -1");
    expect(statements[5]?.sql).toContain("double5 > -1");
    expect(statements[1]?.sql).toContain("blob1 = 'issued'");
  });

  it("request, token and repository look up blob10 / blob11 / blob5 with a validated literal", () => {
    expect(plan("request").statements[0]?.sql).toContain(`blob10 = '${ID}'`);
    expect(plan("token").statements[0]?.sql).toContain("blob11 = '0123456789abcdef'");
    expect(plan("repository").statements[0]?.sql).toContain("blob5 = 'acme/app'");
  });

  it.each([
    ["request", "x' OR '1'='1"],
    ["request", `${ID}'--`],
    ["request", ""],
    ["token", "0123456789abcdeg"],
    ["token", "0123456789abcdef0"],
    ["repository", "acme"],
    ["repository", "acme/app' OR '1'='1"],
    ["repository", "acme/app\\"],
  ] as const)("%s refuses %j before any SQL is built", (name, argument) => {
    expect(() => planQuery({ name, dataset: "ds", sinceMinutes: 60, argument })).toThrow(QueryInputError);
  });
});

describe("--since and buckets", () => {
  it.each([
    ["30m", 30],
    ["1h", 60],
    ["24h", 1440],
    ["7d", 10080],
    ["90d", 129600],
  ])("%s is %i minutes", (text, minutes) => {
    expect(parseSince(text)).toBe(minutes);
  });

  it.each(["", "1", "1w", "-1h", "0m", "1.5h", "93d", "1h;DROP"])("%j is refused", (text) => {
    expect(() => parseSince(text)).toThrow(QueryInputError);
  });

  it.each([
    [30, 1],
    [60, 2],
    [360, 15],
    [1440, 60],
    [10080, 360],
    [129600, 1440],
  ])("a %i-minute window uses %i-minute buckets (about 30 bars; never coarser than a day)", (since, bucket) => {
    expect(bucketMinutesFor(since)).toBe(bucket);
  });
});

describe("shapeResult", () => {
  const now = Date.UTC(2026, 10, 25, 12, 7, 30);

  it("fills the buckets the API omitted with zeros, oldest first", () => {
    const issuance = plan("issuance", 10);
    expect(issuance.bucketMinutes).toBe(1);
    const table = shapeResult(
      issuance,
      [
        {
          columns: ["t", "issued", "denied", "rejected", "errors", "max_sample_interval"].map((name) => ({
            name,
            type: name === "t" ? "DateTime" : "UInt64",
          })),
          rows: [
            { t: "2026-11-25 11:59:00", issued: 4, denied: 1, rejected: 0, errors: 0, max_sample_interval: 1 },
            { t: "2026-11-25 12:05:00", issued: 7, denied: 0, rejected: 2, errors: 1, max_sample_interval: 1 },
          ],
        },
      ],
      { sinceMinutes: 10, nowMs: now },
    );
    expect(table.columns).toEqual(["t", "issued", "denied", "rejected", "errors"]);
    expect(table.rows.map((row) => row[0])).toEqual(
      ["11:57", "11:58", "11:59", "12:00", "12:01", "12:02", "12:03", "12:04", "12:05", "12:06", "12:07"].map(
        (hm) => `2026-11-25 ${hm}:00`,
      ),
    );
    expect(table.rows[2]).toEqual(["2026-11-25 11:59:00", 4, 1, 0, 0]);
    expect(table.rows[3]).toEqual(["2026-11-25 12:00:00", 0, 0, 0, 0]);
    expect(table.series?.points.map((p) => p.value)).toEqual([0, 0, 4, 0, 0, 0, 0, 0, 7, 0, 0]);
    expect(table.maxSampleInterval).toBe(1);
  });

  it("latency rows show '-' (null) for a stage with no requests", () => {
    const latency = plan("latency");
    const results = latency.statements.map((_, i) => ({
      columns: [],
      rows: [
        i === 5
          ? { p50_ms: null, p99_ms: null, requests: 0, max_sample_interval: 0 }
          : { p50_ms: 120, p99_ms: 480.5, requests: 40, max_sample_interval: 5 },
      ],
    }));
    const table = shapeResult(latency, results, { sinceMinutes: 60, nowMs: now });
    expect(table.rows[0]).toEqual(["total", 120, 480.5, 40]);
    expect(table.rows[5]).toEqual(["sts", null, null, 0]);
    expect(table.maxSampleInterval).toBe(5);
  });
});
