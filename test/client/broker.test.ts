// The client's core against the real broker inside workerd (test/support/broker-harness.ts): real verification, policy,
// admission (Durable Objects) and the STS emulator, one injected clock for both sides.
import { describe, expect, it } from "vitest";
import type { ClientDeps } from "../../src/client/client-deps.ts";
import { fetchCredentials } from "../../src/client/exchange.ts";
import type { TokenSource } from "../../src/client/token-source.ts";
import { createHarness, type Harness, type HarnessOptions } from "../support/broker-harness.ts";
import { failure } from "./helpers.ts";

const endpoint = new URL("https://broker.example/v1/credentials");

interface Run {
  harness: Harness;
  deps: ClientDeps;
  minted: string[];
  sleeps: number[];
  debug: string[];
}

async function setUp(
  claims: Record<string, unknown> = {},
  options: HarnessOptions = {},
  tokens?: (harness: Harness) => TokenSource,
): Promise<Run> {
  const harness = await createHarness(options);
  const minted: string[] = [];
  const sleeps: number[] = [];
  const debug: string[] = [];
  const deps: ClientDeps = {
    fetch: (input, init) => harness.fetch(new Request(input, init)),
    now: harness.now,
    sleep: async (ms) => {
      sleeps.push(ms);
      harness.advance(ms);
    },
    random: () => 0.5,
    tokens: tokens?.(harness) ?? {
      description: "the test issuer",
      mint: async () => {
        const token = await harness.mint(claims);
        minted.push(token);
        return token;
      },
    },
    debug: (line) => debug.push(line),
  };
  return { harness, deps, minted, sleeps, debug };
}

describe("client core against the broker in workerd", () => {
  it("gets credentials the STS emulator issued, for the role asked", async () => {
    const run = await setUp();
    const result = await fetchCredentials({ endpoint, role: "deploy", durationSeconds: 1800 }, run.deps);
    const call = run.harness.sts.assumeRoleCalls[0];
    expect(result.credentials.accessKeyId).toBe(call?.issuedAccessKeyId);
    expect(call?.roleArn).toBe("arn:aws:iam::111122223333:role/acme-app-deploy");
    expect(result.credentials.expiresAtMs).toBe(run.harness.now() + 1_800_000);
    expect(result.requestId).toBe(run.harness.events()[0]?.request_id);
  });

  it("wrong audience: invalid_token (exit 5), telling to check the audience", async () => {
    const run = await setUp({ aud: "some-other-audience" });
    const error = await failure(fetchCredentials({ endpoint, role: undefined, durationSeconds: undefined }, run.deps));
    expect(error.code).toBe("invalid_token");
    expect(error.exitCode).toBe(5);
    expect(error.message).toMatch(/audience/);
    expect(run.minted).toHaveLength(1);
  });

  it("denied by policy: forbidden (exit 6) with the request id the broker's audit event carries", async () => {
    const run = await setUp({ repository: "acme/other" });
    const error = await failure(fetchCredentials({ endpoint, role: undefined, durationSeconds: undefined }, run.deps));
    expect(error.code).toBe("forbidden");
    expect(error.exitCode).toBe(6);
    const event = run.harness.events()[0];
    expect(event?.code).toBe("forbidden");
    expect(error.requestId).toBe(event?.request_id);
    expect(error.message).toContain(`npm run analytics -- request ${String(event?.request_id)}`);
  });

  it("rate limited: waits the broker's Retry-After with a new token, then succeeds", async () => {
    const run = await setUp({}, { admission: { repositoryLimit: { perMinute: 6, burst: 1 } } });
    await fetchCredentials({ endpoint, role: undefined, durationSeconds: undefined }, run.deps);
    const second = await fetchCredentials({ endpoint, role: undefined, durationSeconds: undefined }, run.deps);
    expect(second.attempts).toBe(2);
    expect(run.sleeps).toHaveLength(1);
    // 6 a minute refills one token in 10 s; the broker says so, and the client waits at least that.
    expect(run.sleeps[0]).toBeGreaterThanOrEqual(10_000);
    expect(new Set(run.minted).size).toBe(3);
    expect(run.harness.events().map((e) => e.code ?? e.outcome)).toEqual(["issued", "rate_limited", "issued"]);
  });

  it("token already used: mints a new one and retries once", async () => {
    let used: string | undefined;
    const run = await setUp({}, {}, (harness) => ({
      description: "a source that first hands out a used token",
      mint: async () => {
        if (used !== undefined) {
          const reused = used;
          used = undefined;
          return reused;
        }
        return harness.mint();
      },
    }));
    const first = await fetchCredentials({ endpoint, role: undefined, durationSeconds: undefined }, run.deps);
    expect(first.attempts).toBe(1);
    used = (await run.harness.mint()) as string;
    await run.harness.request(used);
    const second = await fetchCredentials({ endpoint, role: undefined, durationSeconds: undefined }, run.deps);
    expect(second.attempts).toBe(2);
    expect(run.sleeps).toEqual([]);
  });

  it("a fixed token (GitLab id_tokens) works once; the second exchange is token_reused (exit 11) without resending it", async () => {
    const harness = await createHarness();
    const token = await harness.mint();
    const requests: Request[] = [];
    const deps: ClientDeps = {
      fetch: (input, init) => {
        const request = new Request(input, init);
        requests.push(request);
        return harness.fetch(request);
      },
      now: harness.now,
      sleep: async (ms) => harness.advance(ms),
      random: () => 0.5,
      tokens: { description: "environment variable BROKER_ID_TOKEN", mint: async () => token },
      debug: () => undefined,
    };
    await fetchCredentials({ endpoint, role: undefined, durationSeconds: undefined }, deps);
    const error = await failure(fetchCredentials({ endpoint, role: undefined, durationSeconds: undefined }, deps));
    expect(error.code).toBe("token_reused");
    expect(error.exitCode).toBe(11);
    expect(requests).toHaveLength(2);
  });
});
