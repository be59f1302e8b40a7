// `npm run analytics` (src/cli/analytics-run.ts) over the same scenario: sampled rows, usage, and failures (bad
// arguments, credentials, the SQL API refusing or failing), each with its exit code.
import { describe, expect, it } from "vitest";
import { runAnalyticsCli, USAGE } from "../../src/cli/analytics-run.ts";
import { SANDBOX_AUDIT_DATASET } from "../../src/audit/constants.ts";
import { SANDBOX_ANALYTICS_ACCOUNT_ID, SANDBOX_ANALYTICS_API_TOKEN, SANDBOX_PORT } from "../../src/cli/constants.ts";
import type { Harness } from "../support/broker-harness.ts";
import { createFakeSqlApi } from "../support/fake-analytics.ts";
import { createFakeNetwork } from "../support/fake-network.ts";
import { ACCOUNT, API_TOKEN, cli, ENV, s, useScenario } from "./analytics-scenario.ts";

useScenario();

describe("sampling", () => {
  it("counts are SUM(_sample_interval) estimates, and the output says the data was sampled", async () => {
    const sql = createFakeSqlApi({ accountId: ACCOUNT, apiToken: API_TOKEN, now: () => s.end });
    sql.ingest("sampled", s.harnesses[0]?.dataset as Harness["dataset"], 10);
    const network = createFakeNetwork({ "https://api.cloudflare.com": sql.handler });
    const run = (format: string) =>
      runAnalyticsCli({
        argv: ["top-repos", "--dataset", "sampled", "--format", format],
        env: ENV,
        fetch: network.fetch,
        now: () => s.end,
      });
    const data = JSON.parse((await run("json")).stdout) as {
      rows: Array<Record<string, unknown>>;
      max_sample_interval: number;
    };
    expect(data.rows).toContainEqual(expect.objectContaining({ repository: "acme/other", requests: 30 }));
    expect(data.max_sample_interval).toBe(10);
    expect((await run("table")).stdout).toContain("sampled data (up to 1 row kept per 10 events)");
  });
});

describe("usage and failures", () => {
  it("no arguments or --help: usage, exit 0", async () => {
    for (const argv of [[], ["--help"]]) {
      const result = await cli(argv);
      expect(result).toEqual({ exitCode: 0, stdout: `${USAGE}\n`, stderr: "" });
    }
    expect(USAGE).toContain("top-repos");
  });

  it.each([
    [["nope"], /unknown query "nope"/],
    [["issuance", "--format", "xml"], /--format must be table, json or csv/],
    [["issuance", "--since", "1y"], /--since must look like/],
    [["issuance", "extra"], /unexpected argument "extra"/],
    [["request"], /request needs an argument/],
    [["request", "x' OR '1'='1"], /request needs a request id/],
    [["issuance", "--dataset", "x; DROP"], /dataset name must be a SQL identifier/],
    [["issuance", "--colour"], /unknown option --colour/],
  ])("%j -> exit 2 and a message", async (argv, message) => {
    const result = await cli(argv);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe("");
  });

  it("one variable alone is reported missing the other; no request is made", async () => {
    const before = s.network.calls.length;
    const result = await cli(["issuance"], { CLOUDFLARE_ACCOUNT_ID: ACCOUNT });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("set CLOUDFLARE_API_TOKEN");
    expect((await cli(["issuance"], { ...ENV, CLOUDFLARE_ACCOUNT_ID: "my-account" })).stderr).toContain(
      "32-hex-character",
    );
    expect(s.network.calls.length).toBe(before);
  });

  it("with neither variable it asks the sandbox's local SQL API, never Cloudflare; none running: exit 2 naming both ways", async () => {
    const before = s.network.calls.length;
    const result = await cli(["issuance"], {});
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("set CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN");
    expect(result.stderr).toContain("npm start");
    expect(s.network.calls.slice(before).map((call) => new URL(call.url).origin)).toEqual([
      `http://127.0.0.1:${SANDBOX_PORT}`,
    ]);
  });

  it("with neither variable and the sandbox running: its dataset, its token, a note on stderr", async () => {
    const local = createFakeSqlApi({
      accountId: SANDBOX_ANALYTICS_ACCOUNT_ID,
      apiToken: SANDBOX_ANALYTICS_API_TOKEN,
      now: () => s.end,
    });
    local.ingest(SANDBOX_AUDIT_DATASET, (s.harnesses[0] as Harness).dataset);
    const network = createFakeNetwork({ [`http://127.0.0.1:${SANDBOX_PORT}`]: local.handler });
    const result = await runAnalyticsCli({
      argv: ["denials", "--format", "csv"],
      env: {},
      fetch: network.fetch,
      now: () => s.end,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("denied,forbidden,explicit_deny,deny-archived-repositories,1");
    expect(result.stderr).toBe(
      `(no Cloudflare account configured: the local Analytics Engine of npm start, dataset ${SANDBOX_AUDIT_DATASET})\n`,
    );
    expect(
      network.calls.every((call) =>
        call.url.startsWith(
          `http://127.0.0.1:${SANDBOX_PORT}/client/v4/accounts/${SANDBOX_ANALYTICS_ACCOUNT_ID}/analytics_engine/sql`,
        ),
      ),
    ).toBe(true);
  });

  it("a refused token: exit 1 with the API's reason, never the token", async () => {
    const result = await cli(["issuance"], { ...ENV, CLOUDFLARE_API_TOKEN: "a-revoked-token-value-0000" });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("unauthorized (HTTP 401): Authentication error");
    expect(result.stderr).not.toContain("a-revoked-token-value-0000");
  });

  it("an unknown dataset: exit 1 with the query error", async () => {
    const result = await cli(["issuance", "--dataset", "missing_dataset"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("unknown table missing_dataset");
  });
});
