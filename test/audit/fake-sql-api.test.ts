// The fake SQL API is what the CLI and alert tests trust: these pin its semantics to the documented ones
// (developers.cloudflare.com/analytics/analytics-engine/sql-reference/ and .../sql-api/#sampling).
import { describe, expect, it } from "vitest";
import { createFakeSqlApi } from "../support/fake-analytics.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

function api() {
  const fake = createFakeSqlApi({ accountId: "0".repeat(32), apiToken: "t".repeat(20), now: () => NOW });
  // Three requests for acme/app, one of them sampled 1-in-10; one for acme/web.
  fake.insert("ds", { indexes: ["acme/app"], blobs: ["issued"], doubles: [200, 100] }, NOW - 10 * 60_000);
  fake.insert("ds", { indexes: ["acme/app"], blobs: ["issued"], doubles: [200, 300] }, NOW - 9 * 60_000, 10);
  fake.insert("ds", { indexes: ["acme/app"], blobs: ["denied"], doubles: [403, 20] }, NOW - 2 * 60_000);
  fake.insert("ds", { indexes: ["acme/web"], blobs: ["issued"], doubles: [200, 50] }, NOW - 3 * 3_600_000);
  return fake;
}

describe("fake SQL API semantics", () => {
  it("SUM(_sample_interval) counts a sampled row as many events; count() does not", () => {
    const { data } = api().query(
      "SELECT index1 AS repo, SUM(_sample_interval) AS events, count() AS rows_kept FROM ds GROUP BY repo ORDER BY events DESC",
    );
    expect(data).toEqual([
      { repo: "acme/app", events: "12", rows_kept: "3" },
      { repo: "acme/web", events: "1", rows_kept: "1" },
    ]);
  });

  it("WHERE with NOW() - INTERVAL, IN, and if() inside SUM", () => {
    const { data } = api().query(
      "SELECT SUM(if(blob1 = 'issued', _sample_interval, 0)) AS issued, SUM(if(blob1 IN ('denied', 'rejected'), _sample_interval, 0)) AS refused FROM ds WHERE timestamp > NOW() - INTERVAL '1' HOUR",
    );
    expect(data).toEqual([{ issued: "11", refused: "1" }]);
  });

  it("quantileExactWeighted weights each value by _sample_interval", () => {
    // total_ms: 100 (w1), 300 (w10), 20 (w1): the sampled 300 ms row dominates the median.
    const { data } = api().query(
      "SELECT quantileExactWeighted(0.5)(double2, _sample_interval) AS p50, quantileExactWeighted(0.99)(double2, _sample_interval) AS p99 FROM ds WHERE index1 = 'acme/app'",
    );
    expect(data).toEqual([{ p50: 300, p99: 300 }]);
  });

  it("an aggregate over no rows is one row (zero sums, null quantile); GROUP BY over no rows is none", () => {
    const fake = api();
    expect(
      fake.query(
        "SELECT SUM(_sample_interval) AS n, quantileExactWeighted(0.99)(double2, _sample_interval) AS p FROM ds WHERE blob1 = 'error'",
      ).data,
    ).toEqual([{ n: "0", p: null }]);
    expect(
      fake.query("SELECT blob1 AS o, SUM(_sample_interval) AS n FROM ds WHERE blob1 = 'error' GROUP BY o").data,
    ).toEqual([]);
  });

  it("toStartOfInterval buckets, DateTime rendered as 'YYYY-MM-DD hh:mm:ss', toDateTime(unix seconds)", () => {
    const { data, meta } = api().query(
      `SELECT toStartOfInterval(timestamp, INTERVAL '5' MINUTE) AS t, SUM(_sample_interval) AS n FROM ds WHERE timestamp > toDateTime(${(NOW - 3_600_000) / 1000}) GROUP BY t ORDER BY t ASC`,
    );
    expect(meta).toEqual([
      { name: "t", type: "DateTime" },
      { name: "n", type: "UInt64" },
    ]);
    expect(data).toEqual([
      { t: "2026-11-25 11:50:00", n: "11" },
      { t: "2026-11-25 11:55:00", n: "1" },
    ]);
  });

  it("refuses what the reference does not document, and unknown tables and columns", () => {
    const fake = api();
    expect(() => fake.query("SELECT median(double1) AS m FROM ds")).toThrow(/unknown function/);
    expect(() => fake.query("SELECT blob21 AS b FROM ds")).toThrow(/unknown column/);
    expect(() => fake.query("SELECT 1 AS one FROM other")).toThrow(/unknown table/);
    expect(() => fake.query("SELECT 1 AS one FROM ds FORMAT CSV")).toThrow(/FORMAT JSON/);
  });
});
