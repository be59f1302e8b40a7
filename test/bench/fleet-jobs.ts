// One fleet-scale scenario: N simulated CI jobs, each running the REAL client retry loop (src/client/exchange.ts
// fetchCredentials: Retry-After plus jitter until its deadline) from its own runner address against the broker, and
// what came of them: jobs served and when, requests, statuses, failures, the broker's own stage timings.
import { ClientError } from "../../src/client/errors.ts";
import { credentialsEndpoint } from "../../src/client/broker-endpoint.ts";
import { fetchCredentials } from "../../src/client/exchange.ts";
import type { TokenSource } from "../../src/client/token-source.ts";
import { repositoryClaims } from "./load-shape.ts";
import type { WorkerHandle } from "./runtime.ts";
import { round } from "./stats.ts";

export interface Scenario {
  name: string;
  jobs: number;
  repositories: number;
  /** Jobs start evenly spread over this window (a matrix's jobs land on runners within about a second). */
  startWithinMs: number;
  /** Repository numbers start here (repositoryClaims), so scenarios never share a bucket. */
  firstRepository: number;
  /** Runner addresses 10.<n>.x.y: one per job, distinct across scenarios. */
  addressOctet: number;
}

interface JobResult {
  served: boolean;
  /** ms from the scenario's start until credentials arrived (or the job gave up). */
  endedAtMs: number;
  requests: number;
  errorCode: string | undefined;
}

export interface ScenarioResult {
  jobs: number;
  served: number;
  failed: number;
  all_served_s: number | null;
  last_served_s: number | null;
  p50_served_s: number | null;
  requests: number;
  requests_per_job: number;
  statuses: Record<string, number>;
  http_5xx: number;
  failures: Record<string, number>;
  wall_s: number;
  /** The broker's own stage timings (ms) over this scenario's requests. */
  broker_ms?: Record<string, { p50: number; max: number }>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Per scenario run: the statuses answered, and requests that got no HTTP answer by cause (socket error, timeout). */
interface Tally {
  statuses: Map<number, number>;
  noAnswer: Map<string, number>;
}

/** The broker's own timings (its credential_exchange log lines) over one scenario: p50 / max of each stage, in ms. */
export function brokerTimings(events: Record<string, unknown>[]): Record<string, { p50: number; max: number }> {
  const timings: Record<string, { p50: number; max: number }> = {};
  for (const field of ["total_ms", "verify_ms", "admission_ms", "sts_ms"]) {
    const values = events
      .map((event) => event[field])
      .filter((v): v is number => typeof v === "number" && v >= 0)
      .sort((a, b) => a - b);
    if (values.length > 0)
      timings[field] = { p50: values[Math.floor(values.length / 2)] as number, max: values.at(-1) as number };
  }
  return timings;
}

/** What every job of a scenario run shares. */
interface JobContext {
  scenario: Scenario;
  endpoint: URL;
  mint: (claims: Record<string, unknown>) => Promise<string>;
  tally: Tally;
  /** performance.now() at the scenario's start. */
  started: number;
  progress: (message: string) => void;
}

/** fetch from the job's runner address, every request and its status (or its lack of one) counted. */
function countingFetch(address: string, tally: Tally, onRequest: () => void): typeof fetch {
  return async (input, init) => {
    onRequest();
    const headers = new Headers(init?.headers);
    headers.set("cf-connecting-ip", address);
    let response: Response;
    try {
      response = await fetch(input, { ...init, headers });
    } catch (error) {
      const cause = (error as { cause?: { code?: unknown; name?: unknown } }).cause;
      const key = `no answer (${String(cause?.code ?? cause?.name ?? (error as Error).name)})`;
      tally.noAnswer.set(key, (tally.noAnswer.get(key) ?? 0) + 1);
      throw error;
    }
    tally.statuses.set(response.status, (tally.statuses.get(response.status) ?? 0) + 1);
    return response;
  };
}

/** The index-th job: starts at its slot in the window, retries as the client does, counts every request it sends. */
async function runJob(context: JobContext, index: number): Promise<JobResult> {
  const { scenario, endpoint, mint, started } = context;
  await sleep((index * scenario.startWithinMs) / scenario.jobs);
  const claims = repositoryClaims(scenario.firstRepository + (index % scenario.repositories));
  const address = `10.${scenario.addressOctet}.${(index >> 8) & 255}.${index & 255}`;
  const tokens: TokenSource = { description: "the bench's fake issuer", mintsFresh: true, mint: () => mint(claims) };
  let requests = 0;
  try {
    await fetchCredentials(
      { endpoint, role: undefined, durationSeconds: undefined },
      {
        fetch: countingFetch(address, context.tally, () => requests++),
        now: Date.now,
        sleep,
        random: Math.random,
        tokens,
        debug: () => undefined,
        warn: (message) => context.progress(`job ${index}: warning: ${message}`),
      },
    );
    return { served: true, endedAtMs: performance.now() - started, requests, errorCode: undefined };
  } catch (error) {
    const errorCode = error instanceof ClientError ? error.code : error instanceof Error ? error.name : "unknown";
    return { served: false, endedAtMs: performance.now() - started, requests, errorCode };
  }
}

/** What the scenario's jobs came to. */
function summarise(scenario: Scenario, results: JobResult[], tally: Tally, started: number): ScenarioResult {
  const { statuses, noAnswer } = tally;
  const servedAt = results
    .filter((r) => r.served)
    .map((r) => r.endedAtMs)
    .sort((a, b) => a - b);
  const requests = results.reduce((sum, r) => sum + r.requests, 0);
  const failures: Record<string, number> = {};
  for (const r of results)
    if (!r.served) failures[r.errorCode ?? "unknown"] = (failures[r.errorCode ?? "unknown"] ?? 0) + 1;
  const seconds = (ms: number | undefined) => (ms === undefined ? null : round(ms / 1000, 2));
  const last = servedAt.at(-1);
  return {
    jobs: scenario.jobs,
    served: servedAt.length,
    failed: scenario.jobs - servedAt.length,
    all_served_s: servedAt.length === scenario.jobs ? seconds(last) : null,
    last_served_s: seconds(last),
    p50_served_s: seconds(servedAt[Math.floor(servedAt.length / 2)]),
    requests,
    requests_per_job: round(requests / scenario.jobs, 3),
    statuses: Object.fromEntries([
      ...[...statuses].sort(([a], [b]) => a - b).map(([status, n]) => [String(status), n] as const),
      ...noAnswer,
    ]),
    http_5xx: [...statuses].filter(([status]) => status >= 500).reduce((sum, [, n]) => sum + n, 0),
    failures,
    wall_s: round((performance.now() - started) / 1000, 2),
  };
}

export async function runScenario(
  scenario: Scenario,
  broker: WorkerHandle,
  mint: (claims: Record<string, unknown>) => Promise<string>,
  progress: (message: string) => void,
): Promise<ScenarioResult> {
  const context: JobContext = {
    scenario,
    endpoint: credentialsEndpoint(broker.url.href),
    mint,
    tally: { statuses: new Map(), noAnswer: new Map() },
    started: performance.now(),
    progress,
  };
  const results = await Promise.all(Array.from({ length: scenario.jobs }, (_, index) => runJob(context, index)));
  return summarise(scenario, results, context.tally, context.started);
}

export function describe(name: string, r: ScenarioResult): string {
  const statuses = Object.entries(r.statuses)
    .map(([status, n]) => `${status}: ${n}`)
    .join(", ");
  const failures =
    Object.keys(r.failures).length === 0
      ? ""
      : `; failed: ${Object.entries(r.failures)
          .map(([code, n]) => `${code} ${n}`)
          .join(", ")}`;
  return (
    `${name}: ${r.served}/${r.jobs} jobs served, last at ${r.last_served_s ?? "-"} s (median ${r.p50_served_s ?? "-"} s), ` +
    `${r.requests} requests = ${r.requests_per_job} per job; statuses ${statuses}${failures}`
  );
}
