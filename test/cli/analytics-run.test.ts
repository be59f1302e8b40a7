// `npm run analytics` end to end, minus Node: real exchanges through the Worker write data points (harness), the fake
// SQL API holds them as dataset rows, and the CLI core queries it through the fake network and renders the answers.
// The named queries; sampling, usage and failures are analytics-run-failures.test.ts.
import { describe, expect, it } from "vitest";
import { cli, count, events, json, s, sha256Prefix, useScenario } from "./analytics-scenario.ts";

useScenario();

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
