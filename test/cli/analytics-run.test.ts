// `npm run analytics` end to end, minus Node: real exchanges through the Worker write data points (harness), the fake
// SQL API holds them as dataset rows, and the CLI core queries it through the fake network and renders the answers.
import { beforeAll, describe, expect, it } from "vitest";
import { runAnalyticsCli, USAGE } from "../../src/cli/analytics-run.ts";
import { SANDBOX_AUDIT_DATASET } from "../../src/audit/constants.ts";
import { SANDBOX_ANALYTICS_ACCOUNT_ID, SANDBOX_ANALYTICS_API_TOKEN, SANDBOX_PORT } from "../../src/cli/constants.ts";
import { createHarness, type Harness } from "../support/broker-harness.ts";
import { createFakeSqlApi, type FakeSqlApi } from "../support/fake-analytics.ts";
import { createFakeNetwork, type FakeNetwork } from "../support/fake-network.ts";

const ACCOUNT = "0123456789abcdef0123456789abcdef";
const API_TOKEN = "cli-test-token-0123456789abcdef";
const ENV = { CLOUDFLARE_ACCOUNT_ID: ACCOUNT, CLOUDFLARE_API_TOKEN: API_TOKEN };
const DATASET = "ci_credential_broker";

interface Scenario {
  harnesses: Harness[];
  sql: FakeSqlApi;
  network: FakeNetwork;
  end: number;
  deniedRequestId: string;
  replayedToken: string;
}

let s: Scenario;

async function sha256Prefix(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, 16);
}

beforeAll(async () => {
  // An hour of traffic: two deploys every 5 minutes, a few denials, an expired token, a replay.
  const h = await createHarness();
  for (let i = 0; i < 12; i++) {
    h.advance(5 * 60_000);
    for (let j = 0; j < 2; j++) expect((await h.request(await h.mint())).status).toBe(200);
  }
  for (let i = 0; i < 3; i++) expect((await h.request(await h.mint({ repository: "acme/other" }))).status).toBe(403);
  const denied = await h.request(await h.mint({ repository: "acme/legacy-billing" }));
  expect(denied.status).toBe(403);
  const t = Math.floor(h.now() / 1000);
  expect((await h.request(await h.mint({ iat: t - 300, nbf: t - 600, exp: t - 60 }))).status).toBe(401);
  // Two GitHub tokens (issued, and a grant the rule does not give: denied).
  expect((await h.githubToken(await h.mint(), "private-deps")).status).toBe(200);
  expect((await h.githubToken(await h.mint(), "homebrew-tap")).status).toBe(403);
  const replayedToken = await h.mint();
  expect((await h.request(replayedToken)).status).toBe(200);
  expect((await h.request(replayedToken)).status).toBe(401);
  // A second broker with a tight repository limit, half an hour in: one request rate limited (and queued).
  const limited = await createHarness({ admission: { repositoryLimit: { perMinute: 2, burst: 1 } } });
  limited.advance(30 * 60_000);
  expect((await limited.request(await limited.mint())).status).toBe(200);
  expect((await limited.request(await limited.mint())).status).toBe(429);

  const end = h.now();
  const sql = createFakeSqlApi({ accountId: ACCOUNT, apiToken: API_TOKEN, now: () => end });
  sql.ingest(DATASET, h.dataset);
  sql.ingest(DATASET, limited.dataset);
  const network = createFakeNetwork({ "https://api.cloudflare.com": sql.handler });
  s = {
    harnesses: [h, limited],
    sql,
    network,
    end,
    deniedRequestId: denied.headers.get("x-request-id") as string,
    replayedToken,
  };
});

const cli = (argv: string[], env: Record<string, string | undefined> = ENV) =>
  runAnalyticsCli({ argv, env, fetch: s.network.fetch, now: () => s.end });
const events = () => s.harnesses.flatMap((h) => h.events());
const count = (predicate: (event: Record<string, unknown>) => boolean) => events().filter(predicate).length;

async function json(
  argv: string[],
): Promise<{ columns: string[]; rows: Array<Record<string, unknown>>; max_sample_interval: number }> {
  const result = await cli([...argv, "--format", "json"]);
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
  return JSON.parse(result.stdout);
}

describe("named queries against the fake SQL API", () => {
  it("issuance: a chart with axis labels, then the gap-filled table; totals match the exchanges", async () => {
    const result = await cli(["issuance"]);
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe("Issuance per 2 min (last 1h)");
    expect(result.stdout).toContain("issued per 2 min");
    expect(lines.some((line) => /^ *\d+ ┤/.test(line))).toBe(true);
    expect(lines.some((line) => /^ *0 └─+$/.test(line))).toBe(true);
    expect(result.stdout).toContain("time (UTC), bucket start");
    expect(result.stdout).toMatch(/\nt {20}issued {2}github_tokens {2}denied {2}rejected {2}errors\n/);

    const data = await json(["issuance"]);
    expect(data.columns).toEqual(["t", "issued", "github_tokens", "denied", "rejected", "errors"]);
    expect(data.rows).toHaveLength(31); // 60 min in 2-min buckets, both ends included
    const total = (column: string) => data.rows.reduce((sum, row) => sum + (row[column] as number), 0);
    expect(total("issued")).toBe(count((e) => e.outcome === "issued"));
    expect(total("github_tokens")).toBe(1);
    expect(total("denied")).toBe(count((e) => e.outcome === "denied"));
    expect(total("rejected")).toBe(count((e) => e.outcome === "rejected"));
  });

  it("denials: by kind, outcome, code, reason and rule", async () => {
    const data = await json(["denials"]);
    expect(data.columns).toEqual(["kind", "outcome", "code", "reason", "rule_id", "requests"]);
    expect(data.rows).toContainEqual({
      kind: "aws",
      outcome: "denied",
      code: "forbidden",
      reason: "no_matching_rule",
      rule_id: "",
      requests: 3,
    });
    expect(data.rows).toContainEqual({
      kind: "aws",
      outcome: "rejected",
      code: "invalid_token",
      reason: "token_expired",
      rule_id: "",
      requests: 1,
    });
    expect(data.rows).toContainEqual({
      kind: "github_token",
      outcome: "denied",
      code: "forbidden",
      reason: "grant_not_granted",
      rule_id: "",
      requests: 1,
    });
    expect(data.rows).toContainEqual(
      expect.objectContaining({ outcome: "rejected", code: "token_reused", requests: 1 }),
    );
    expect(data.rows).toContainEqual(
      expect.objectContaining({
        outcome: "rejected",
        code: "rate_limited",
        reason: "rate_limited_repository",
        requests: 1,
      }),
    );
    expect(data.rows[0]?.requests).toBe(3); // ordered by count
    const table = (await cli(["denials"])).stdout;
    expect(table).toMatch(/kind +outcome +code +reason +rule_id +requests\n-+ +-+/);
  });

  it("top-repos: ordered by requests, '-' for tokens rejected before the repository was known", async () => {
    const data = await json(["top-repos"]);
    expect(data.rows[0]).toMatchObject({ repository: "acme/app", requests: count((e) => e.repository === "acme/app") });
    expect(data.rows).toContainEqual(
      expect.objectContaining({ repository: "acme/other", requests: 3, denied: 3, issued: 0 }),
    );
    expect(data.rows).toContainEqual(expect.objectContaining({ repository: "-", rejected: 1 }));
  });

  it("latency: p50/p99 per stage; STS only over requests that reached STS", async () => {
    const data = await json(["latency"]);
    expect(data.rows.map((row) => row.stage)).toEqual([
      "total",
      "total (issued)",
      "verify",
      "admission",
      "github",
      "sts",
    ]);
    const sts = data.rows[5] as Record<string, unknown>;
    expect(sts.requests).toBe(count((e) => typeof e.sts_ms === "number"));
    expect(sts.p50_ms).toBe(0); // the harness clock does not move during STS calls
    expect((data.rows[0] as Record<string, unknown>).requests).toBe(events().length);
  });

  it("replays: token_reused and rate_limited by repository, with first/last seen", async () => {
    const data = await json(["replays"]);
    expect(data.rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ repository: "acme/app", code: "token_reused", events: 1 }),
        expect.objectContaining({
          repository: "acme/app",
          code: "rate_limited",
          reason: "rate_limited_repository",
          events: 1,
          first_seen: "2026-11-25 12:30:00",
        }),
      ]),
    );
    expect(data.rows).toHaveLength(2);
  });

  it("request <id>: traces one denied job to its reason and rule", async () => {
    const logged = events().find((e) => e.request_id === s.deniedRequestId) as Record<string, unknown>;
    const result = await cli(["request", s.deniedRequestId]);
    expect(result.exitCode).toBe(0);
    const out = result.stdout;
    expect(out).toContain(`Request ${s.deniedRequestId} (last 7d)`);
    expect(out).toMatch(/\noutcome +denied\n/);
    expect(out).toMatch(/\ncode +forbidden\n/);
    expect(out).toMatch(new RegExp(`\\nreason +${String(logged.reason)}\\n`));
    expect(out).toMatch(new RegExp(`\\nrule_id +${logged.rule_id === undefined ? "-" : String(logged.rule_id)}\\n`));
    expect(out).toMatch(/\nrepository +acme\/legacy-billing\n/);
    expect(out).toMatch(/\nstatus +403\n/);
    const data = await json(["request", s.deniedRequestId.toUpperCase()]);
    expect(data.rows).toHaveLength(1);
    expect(data.rows[0]).toMatchObject({ request_id: s.deniedRequestId, outcome: "denied", reason: logged.reason });
  });

  it("request <id> not found: says where else to look", async () => {
    const result = await cli(["request", "00000000-0000-4000-8000-000000000000"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("(no rows)");
    expect(result.stdout).toContain("Workers Logs");
  });

  it("token <sha256 prefix>: every request made with one token (the replay)", async () => {
    const data = await json(["token", await sha256Prefix(s.replayedToken)]);
    expect(data.rows.map((row) => row.outcome).sort()).toEqual(["issued", "rejected"]);
  });

  it("repository <owner/name>: that repository's requests, newest first, with rule, role and request id (an incident's first question)", async () => {
    const data = await json(["repository", "acme/other"]);
    expect(data.columns).toEqual([
      "timestamp",
      "outcome",
      "reason",
      "issuer",
      "rule_id",
      "role_alias",
      "ref",
      "event_name",
      "request_id",
      "token_sha256",
    ]);
    expect(data.rows).toHaveLength(3);
    expect(data.rows.every((row) => row.outcome === "denied" && row.reason === "no_matching_rule")).toBe(true);
    const issued = await json(["repository", "acme/app", "--since", "2h"]);
    expect(issued.rows.filter((row) => row.outcome === "issued").length).toBe(
      count((e) => e.repository === "acme/app" && e.outcome === "issued"),
    );
    expect(issued.rows[0]).toMatchObject({
      rule_id: "acme-app-main-deploy",
      role_alias: "deploy",
      ref: "refs/heads/main",
    });
    expect((await cli(["repository"])).exitCode).toBe(2);
    expect((await cli(["repository", "acme/app' OR '1'='1"])).exitCode).toBe(2);
  });

  it("csv: a header and one line per row", async () => {
    const result = await cli(["denials", "--format=csv", "--since", "2h"]);
    const lines = result.stdout.trimEnd().split("\r\n");
    expect(lines[0]).toBe("kind,outcome,code,reason,rule_id,requests");
    expect(lines).toContain("aws,denied,forbidden,no_matching_rule,,3");
    expect(s.sql.queries.at(-1)).toContain("INTERVAL '120' MINUTE");
  });
});

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
