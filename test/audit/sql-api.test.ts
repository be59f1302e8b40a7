import { describe, expect, it } from "vitest";
import { parseSqlResponse, runSql, sqlEndpoint, SqlApiError, sqlString } from "../../src/audit/sql-api.ts";
import { SQL_API_TIMEOUT_MS } from "../../src/audit/constants.ts";
import { createFakeSqlApi } from "../support/fake-analytics.ts";
import { createFakeNetwork } from "../support/fake-network.ts";
import { manualTimers, settle } from "../support/manual-timers.ts";

const ACCOUNT = "0123456789abcdef0123456789abcdef";
const TOKEN = "test-analytics-token-0123456789";
const API = "https://api.cloudflare.com";

function setup() {
  const sql = createFakeSqlApi({ accountId: ACCOUNT, apiToken: TOKEN, now: () => Date.UTC(2026, 10, 25, 12) });
  const network = createFakeNetwork({ [API]: sql.handler });
  return { sql, network, options: { accountId: ACCOUNT, apiToken: TOKEN, fetch: network.fetch } };
}

async function failure(promise: Promise<unknown>): Promise<SqlApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SqlApiError) return error;
    throw error;
  }
  throw new Error("expected a SqlApiError");
}

describe("runSql against the fake SQL API", () => {
  it("POSTs the SQL with FORMAT JSON to the account's endpoint and normalises numbers", async () => {
    const { sql, network, options } = setup();
    sql.insert("ds", { indexes: ["acme/app"], blobs: ["issued"], doubles: [200] }, Date.UTC(2026, 10, 25, 11, 30), 10);
    const result = await runSql(
      "SELECT index1 AS repository, SUM(_sample_interval) AS requests FROM ds GROUP BY repository",
      options,
    );
    expect(network.calls).toEqual([
      { method: "POST", url: `${API}/client/v4/accounts/${ACCOUNT}/analytics_engine/sql` },
    ]);
    expect(sql.queries[0]).toMatch(/\nFORMAT JSON$/);
    // The API quotes UInt64 ("10"); the client hands back numbers.
    expect(result).toEqual({
      columns: [
        { name: "repository", type: "String" },
        { name: "requests", type: "UInt64" },
      ],
      rows: [{ repository: "acme/app", requests: 10 }],
    });
  });

  it("keeps an explicit FORMAT clause", async () => {
    const { sql, options } = setup();
    sql.insert("ds", {}, 0);
    await runSql("SELECT count() AS n FROM ds FORMAT JSON", options);
    expect(sql.queries[0]).toBe("SELECT count() AS n FROM ds FORMAT JSON");
  });

  it("a wrong token: unauthorized, and the error never contains the token", async () => {
    const { options } = setup();
    const error = await failure(runSql("SELECT 1 AS one FROM ds", { ...options, apiToken: "wrong-token-wrong-token" }));
    expect(error.reason).toBe("unauthorized");
    expect(error.status).toBe(401);
    expect(error.detail).toBe("Authentication error");
    expect(error.message).not.toContain("wrong-token-wrong-token");
  });

  it("a query error: bad_query with the API's message", async () => {
    const { sql, options } = setup();
    sql.insert("ds", {}, 0);
    const error = await failure(runSql("SELECT median(double1) AS m FROM ds", options));
    expect(error.reason).toBe("bad_query");
    expect(error.status).toBe(400);
    expect(error.detail).toContain("unknown function median");
  });

  it.each([
    [503, "unavailable"],
    [429, "unavailable"],
    [403, "unauthorized"],
    [422, "bad_query"],
  ] as const)("HTTP %i -> %s", async (status, reason) => {
    const { sql, options } = setup();
    sql.failNext(status, `upstream said ${TOKEN}`);
    const error = await failure(runSql("SELECT 1 AS one FROM ds", options));
    expect(error.reason).toBe(reason);
    expect(error.detail).toBe("upstream said [token]");
  });

  it("a network failure: unavailable", async () => {
    const error = await failure(
      runSql("SELECT 1", {
        accountId: ACCOUNT,
        apiToken: TOKEN,
        fetch: () => Promise.reject(new TypeError("connection reset")),
      }),
    );
    expect(error.reason).toBe("unavailable");
  });

  it("no answer within the timeout (its timer, injected): timeout", async () => {
    const timers = manualTimers();
    const pending = failure(
      runSql("SELECT 1", {
        accountId: ACCOUNT,
        apiToken: TOKEN,
        fetch: () => new Promise<Response>(() => undefined),
        startTimer: timers,
      }),
    );
    await settle();
    expect(timers.started).toEqual([SQL_API_TIMEOUT_MS]);
    timers.fire();
    expect((await pending).reason).toBe("timeout");
  });

  it.each([301, 302, 307, 308])(
    "a %i is refused, not followed: bad_response, the token never sent on, no Location in the error",
    async (status) => {
      const elsewhere = "https://elsewhere.example";
      const network = createFakeNetwork({
        [API]: () => new Response(null, { status, headers: { location: `${elsewhere}/sql` } }),
        [elsewhere]: () => new Response('{"meta":[],"data":[]}'),
      });
      const error = await failure(runSql("SELECT 1", { accountId: ACCOUNT, apiToken: TOKEN, fetch: network.fetch }));
      expect({ reason: error.reason, status: error.status }).toEqual({ reason: "bad_response", status });
      expect(error.message).not.toContain("elsewhere");
      expect(network.callsTo(elsewhere)).toHaveLength(0);
    },
  );

  it("a 200 that is not the JSON format, or is too large: bad_response", async () => {
    const text = await failure(
      runSql("SELECT 1", { accountId: ACCOUNT, apiToken: TOKEN, fetch: async () => new Response("a\tb\n") }),
    );
    expect(text.reason).toBe("bad_response");
    const large = await failure(
      runSql("SELECT 1", {
        accountId: ACCOUNT,
        apiToken: TOKEN,
        fetch: async () => new Response("x".repeat(2 * 1024 * 1024)),
      }),
    );
    expect(large.reason).toBe("bad_response");
  });

  it("refuses a malformed account id before any request", () => {
    expect(() => sqlEndpoint("../../zones")).toThrow(SqlApiError);
  });
});

describe("parseSqlResponse", () => {
  it("numbers from quoted 64-bit integers, nan and null to null, DateTime and strings as they are", () => {
    const text = JSON.stringify({
      meta: [
        { name: "t", type: "DateTime" },
        { name: "n", type: "UInt64" },
        { name: "p99", type: "Float64" },
        { name: "p50", type: "Nullable(Float64)" },
        { name: "reason", type: "String" },
      ],
      data: [{ t: "2026-11-25 12:00:00", n: "18446744", p99: "nan", p50: null, reason: "token_expired" }],
      rows: 1,
    });
    expect(parseSqlResponse(text).rows).toEqual([
      { t: "2026-11-25 12:00:00", n: 18446744, p99: null, p50: null, reason: "token_expired" },
    ]);
  });

  it("refuses answers without meta and data", () => {
    expect(() => parseSqlResponse('{"data":[]}')).toThrow(SqlApiError);
    expect(() => parseSqlResponse('{"meta":[{"name":1}],"data":[]}')).toThrow(SqlApiError);
  });

  it("sqlString doubles nothing it should not and escapes quotes and backslashes", () => {
    expect(sqlString("acme/app")).toBe("'acme/app'");
    expect(sqlString("x' OR '1'='1")).toBe("'x\\' OR \\'1\\'=\\'1'");
    expect(sqlString("a\\")).toBe("'a\\\\'");
  });
});
