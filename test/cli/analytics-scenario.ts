// What the analytics CLI tests share: an hour of real exchanges through two brokers (one rate limited), held by the
// fake
// SQL API, and the CLI core run against it through the fake network.
import { beforeAll, expect } from "vitest";
import { runAnalyticsCli } from "../../src/cli/analytics-run.ts";
import { createHarness, type Harness } from "../support/broker-harness.ts";
import { createFakeSqlApi, type FakeSqlApi } from "../support/fake-analytics.ts";
import { createFakeNetwork, type FakeNetwork } from "../support/fake-network.ts";

export const ACCOUNT = "0123456789abcdef0123456789abcdef";
export const API_TOKEN = "cli-test-token-0123456789abcdef";
export const ENV = { CLOUDFLARE_ACCOUNT_ID: ACCOUNT, CLOUDFLARE_API_TOKEN: API_TOKEN };
export const DATASET = "ci_credential_broker";

export interface Scenario {
  harnesses: Harness[];
  sql: FakeSqlApi;
  network: FakeNetwork;
  end: number;
  deniedRequestId: string;
  replayedToken: string;
}

/** The scenario of the file that called useScenario, built before its tests. */
export let s: Scenario;

export async function sha256Prefix(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, 16);
}

/** An hour of traffic through two brokers, in the fake SQL API; one build per test file. */
async function buildScenario(): Promise<Scenario> {
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
  return {
    harnesses: [h, limited],
    sql,
    network,
    end,
    deniedRequestId: denied.headers.get("x-request-id") as string,
    replayedToken,
  };
}

/** Builds the scenario before the calling file's tests. */
export function useScenario(): void {
  beforeAll(async () => {
    s = await buildScenario();
  });
}

export const cli = (argv: string[], env: Record<string, string | undefined> = ENV) =>
  runAnalyticsCli({ argv, env, fetch: s.network.fetch, now: () => s.end });
export const events = () => s.harnesses.flatMap((h) => h.events());
export const count = (predicate: (event: Record<string, unknown>) => boolean) => events().filter(predicate).length;

export async function json(
  argv: string[],
): Promise<{ columns: string[]; rows: Array<Record<string, unknown>>; max_sample_interval: number }> {
  const result = await cli([...argv, "--format", "json"]);
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
  return JSON.parse(result.stdout);
}
