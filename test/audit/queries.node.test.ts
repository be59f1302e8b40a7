// Every named query of `npm run analytics` on a real ClickHouse engine (chdb): a table of data points the broker's
// encoder made (some sampled, one repository named with a quote and a backslash), queried through the local SQL API
// and the real client (runSql), each answer compared with the truth computed here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planQuery, QUERY_NAMES, type QueryName } from "../../src/audit/queries.ts";
import { runSql, type SqlResult } from "../../src/audit/sql-api.ts";
import { createLocalAnalyticsEngine, type LocalAnalyticsEngine } from "../../sandbox/local-analytics/engine.ts";
import { createLocalSqlApi } from "../../sandbox/local-analytics/sql-api.ts";
import {
  indexOf,
  ODD_REPOSITORY,
  sampleTraffic,
  storedPoints,
  weightedCount,
  weightedQuantile,
  type Row,
} from "../support/local-analytics/sample-traffic.ts";

const DATASET = "ci_credential_broker";
const ACCOUNT = "0123456789abcdef0123456789abcdef";
const TOKEN = "queries-test-token";
let engine: LocalAnalyticsEngine;
let rows: Row[];

beforeAll(() => {
  engine = createLocalAnalyticsEngine();
  rows = sampleTraffic({ endMs: Date.now(), spanMinutes: 55, count: 400 });
  engine.insert(DATASET, storedPoints(rows));
});
afterAll(() => engine?.close());

const api = () => createLocalSqlApi({ accountId: ACCOUNT, apiToken: TOKEN, engine });
async function run(name: QueryName, argument?: string): Promise<SqlResult[]> {
  const plan = planQuery({ name, dataset: DATASET, sinceMinutes: 60, ...(argument === undefined ? {} : { argument }) });
  const handler = api();
  const results: SqlResult[] = [];
  for (const statement of plan.statements)
    results.push(
      await runSql(statement.sql, {
        accountId: ACCOUNT,
        apiToken: TOKEN,
        fetch: async (input, init) => handler(new Request(input, init)),
      }),
    );
  return results;
}
const first = async (name: QueryName, argument?: string) => ((await run(name, argument))[0] as SqlResult).rows;
const where = (predicate: (row: Row) => boolean) => rows.filter(predicate);
const utc = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);

describe("named queries on chdb", () => {
  it("the traffic has what the tests need: sampled rows, every outcome, the odd repository", () => {
    expect(rows.some((row) => row.sampleInterval > 1)).toBe(true);
    for (const outcome of ["issued", "denied", "rejected", "error"])
      expect(rows.some((row) => row.event.outcome === outcome)).toBe(true);
    expect(rows.some((row) => row.event.repository === ODD_REPOSITORY)).toBe(true);
  });

  it("issuance: per 2-minute bucket, each outcome's weighted count", async () => {
    const answer = await first("issuance");
    const bucket = (row: Row) => utc(Math.floor(row.atMs / 120_000) * 120_000);
    const buckets = [...new Set(rows.map(bucket))].sort();
    expect(answer.map((row) => row.t)).toEqual(buckets);
    for (const row of answer) {
      const inBucket = where((r) => bucket(r) === row.t);
      expect(row).toMatchObject({
        issued: weightedCount(inBucket.filter((r) => r.event.outcome === "issued")),
        github_tokens: weightedCount(
          inBucket.filter((r) => r.event.outcome === "issued" && r.event.kind === "github_token"),
        ),
        denied: weightedCount(inBucket.filter((r) => r.event.outcome === "denied")),
        rejected: weightedCount(inBucket.filter((r) => r.event.outcome === "rejected")),
        errors: weightedCount(inBucket.filter((r) => r.event.outcome === "error")),
        max_sample_interval: Math.max(...inBucket.map((r) => r.sampleInterval)),
      });
    }
  });

  it("denials: weighted counts per outcome, code, reason and rule, largest first", async () => {
    const answer = await first("denials");
    const truth = new Map<string, number>();
    for (const row of where((r) => r.event.outcome === "denied" || r.event.outcome === "rejected")) {
      const key = JSON.stringify([
        row.event.kind,
        row.event.outcome,
        row.event.code ?? "",
        row.event.reason ?? "",
        row.event.rule_id ?? "",
      ]);
      truth.set(key, (truth.get(key) ?? 0) + row.sampleInterval);
    }
    expect(
      new Map(
        answer.map((row) => [JSON.stringify([row.kind, row.outcome, row.code, row.reason, row.rule_id]), row.requests]),
      ),
    ).toEqual(truth);
    expect(answer.map((row) => row.requests)).toEqual([...truth.values()].sort((a, b) => b - a));
  });

  it("top-repos: per repository (the odd name whole), requests and outcomes", async () => {
    const answer = await first("top-repos");
    const names = [...new Set(rows.map(indexOf))];
    expect(answer.map((row) => row.repository).sort()).toEqual(names.sort());
    for (const row of answer) {
      const mine = where((r) => indexOf(r) === row.repository);
      expect(row).toMatchObject({
        requests: weightedCount(mine),
        issued: weightedCount(mine.filter((r) => r.event.outcome === "issued")),
        denied: weightedCount(mine.filter((r) => r.event.outcome === "denied")),
      });
    }
    expect(answer.find((row) => row.repository === ODD_REPOSITORY)?.requests).toBe(
      weightedCount(where((r) => r.event.repository === ODD_REPOSITORY)),
    );
  });

  it("latency: weighted p50/p99 of each stage over the rows where it ran", async () => {
    const results = await run("latency");
    const stages: Array<[string, (row: Row) => number | undefined]> = [
      ["total", (r) => r.event.total_ms],
      ["total (issued)", (r) => (r.event.outcome === "issued" ? r.event.total_ms : undefined)],
      ["verify", (r) => r.event.verify_ms],
      ["admission", (r) => r.event.admission_ms],
      ["github", (r) => r.event.github_ms],
      ["sts", (r) => r.event.sts_ms],
    ];
    stages.forEach(([label, value], i) => {
      const pairs = rows.flatMap((r) =>
        value(r) === undefined ? [] : [{ value: value(r) as number, weight: r.sampleInterval }],
      );
      const answer = results[i]?.rows[0] ?? {};
      expect({ label, ...answer }).toMatchObject({
        label,
        p50_ms: weightedQuantile(pairs, 0.5),
        p99_ms: weightedQuantile(pairs, 0.99),
        requests: pairs.reduce((sum, p) => sum + p.weight, 0),
      });
    });
  });

  it("replays: token_reused and rate_limited per repository, with first and last seen", async () => {
    const answer = await first("replays");
    const mine = where((r) => r.event.code === "token_reused" || r.event.code === "rate_limited");
    expect(answer.reduce((sum, row) => sum + (row.events as number), 0)).toBe(weightedCount(mine));
    for (const row of answer) {
      const group = mine.filter((r) => indexOf(r) === row.repository && r.event.code === row.code);
      expect(row).toMatchObject({
        events: weightedCount(group),
        first_seen: utc(Math.min(...group.map((r) => r.atMs))),
        last_seen: utc(Math.max(...group.map((r) => r.atMs))),
      });
    }
  });

  it("github-rate: the lowest rate limit left per bucket, over exchanges that called GitHub", async () => {
    const answer = await first("github-rate");
    const bucket = (row: Row) => utc(Math.floor(row.atMs / 120_000) * 120_000);
    const called = where((r) => r.event.github_rate_remaining !== undefined);
    expect(answer.map((row) => row.t)).toEqual([...new Set(called.map(bucket))].sort());
    for (const row of answer) {
      const mine = called.filter((r) => bucket(r) === row.t);
      expect(row).toMatchObject({
        lowest_remaining: Math.min(...mine.map((r) => r.event.github_rate_remaining as number)),
        exchanges: weightedCount(mine),
      });
    }
  });

  it("request and token: the row of one request (the odd repository whole), every use of one token", async () => {
    const odd = rows.find((r) => r.event.repository === ODD_REPOSITORY) as Row;
    const [record] = await first("request", odd.event.request_id);
    expect(record).toMatchObject({
      request_id: odd.event.request_id,
      repository: ODD_REPOSITORY,
      outcome: odd.event.outcome,
      total_ms: odd.event.total_ms,
      _sample_interval: odd.sampleInterval,
      timestamp: utc(odd.atMs),
    });
    expect((await first("token", odd.event.token_sha256)).map((row) => row.request_id)).toEqual([odd.event.request_id]);
  });

  it("request and token for a GitHub token: its kind, grant, repositories and permissions; found by the minted token's hash too", async () => {
    const minted = rows.find((r) => r.event.kind === "github_token" && r.event.outcome === "issued") as Row;
    const [record] = await first("request", minted.event.request_id);
    expect(record).toMatchObject({
      kind: "github_token",
      github_token: "homebrew-tap",
      github_repositories: "acme/homebrew-tap",
      github_permissions: "contents:write,metadata:read",
      minted_sha256: minted.event.minted_sha256,
      role_alias: "",
    });
    expect((await first("token", minted.event.minted_sha256)).map((row) => row.request_id)).toEqual([
      minted.event.request_id,
    ]);
  });

  it("repository: one repository's rows, newest first, each with its rule, role and token hash", async () => {
    const name = rows.find((r) => r.event.repository !== ODD_REPOSITORY && r.event.repository !== undefined)?.event
      .repository as string;
    const mine = where((r) => r.event.repository === name).sort((a, b) => b.atMs - a.atMs);
    const answer = await first("repository", name);
    expect(answer).toHaveLength(Math.min(mine.length, 50));
    expect(answer.map((row) => row.timestamp)).toEqual(mine.slice(0, 50).map((r) => utc(r.atMs)));
    const top = mine[0] as Row;
    expect(answer[0]).toMatchObject({
      outcome: top.event.outcome,
      rule_id: top.event.rule_id ?? "",
      role_alias: top.event.role_alias ?? "",
      token_sha256: top.event.token_sha256,
      max_sample_interval: top.sampleInterval,
    });
  });

  it("covers every named query", () => {
    expect(QUERY_NAMES).toEqual([
      "issuance",
      "denials",
      "top-repos",
      "latency",
      "replays",
      "github-rate",
      "request",
      "token",
      "repository",
    ]);
  });
});
