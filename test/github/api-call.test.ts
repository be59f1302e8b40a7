// One GitHub API call (src/github/api-call.ts) under its timeout and the exchange's budget, with injected timers: a
// call that does not answer, a budget spent during or before a call, and the one redirect it follows (GET only).
import { describe, expect, it } from "vitest";
import { GITHUB_CALL_TIMEOUT_MS } from "../../src/github/constants.ts";
import type { FetchFn } from "../../src/deps.ts";
import { BrokerError } from "../../src/errors.ts";
import { type CallContext, createApiCall } from "../../src/github/api-call.ts";
import { createFakeNetwork } from "../support/fake-network.ts";
import { manualTimers, settle } from "../support/manual-timers.ts";

const API = "https://api.github.example";
const hanging: FetchFn = () => new Promise<never>(() => undefined);
const context = (signal = new AbortController().signal): CallContext => ({
  signal,
  rateRemaining: undefined,
  calls: 0,
});

async function brokerError(pending: Promise<unknown>): Promise<BrokerError> {
  const error = await pending.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(BrokerError);
  return error as BrokerError;
}

describe("a GitHub call's timeout and budget (injected timers)", () => {
  it("no answer within the call's timeout: 503 github_api_unavailable when its timer fires", async () => {
    const timers = manualTimers();
    const call = createApiCall({
      fetch: hanging,
      now: () => 0,
      callTimeoutMs: GITHUB_CALL_TIMEOUT_MS,
      startTimer: timers,
    });
    const pending = brokerError(call(context(), API, `${API}/repos/a/b`, "Bearer t"));
    await settle();
    expect(timers.started).toEqual([GITHUB_CALL_TIMEOUT_MS]);
    timers.fire();
    const error = await pending;
    expect({ code: error.code, reason: error.reason, cause: error.cause }).toEqual({
      code: "upstream_unavailable",
      reason: "github_api_unavailable",
      cause: "timeout on /repos/a/b",
    });
  });

  it("the exchange's budget spent during a call ends it; a spent budget makes no call", async () => {
    const budget = new AbortController();
    const call = createApiCall({ fetch: hanging, now: () => 0, callTimeoutMs: 1_000, startTimer: manualTimers() });
    const during = brokerError(call(context(budget.signal), API, `${API}/repos/a/b`, "Bearer t"));
    budget.abort();
    expect((await during).cause).toBe("budget spent on /repos/a/b");

    let fetched = 0;
    const counting = createApiCall({
      fetch: async () => {
        fetched += 1;
        return new Response("{}");
      },
      now: () => 0,
      callTimeoutMs: 1_000,
    });
    const spent = context(budget.signal);
    expect((await brokerError(counting(spent, API, `${API}/repos/a/b`, "Bearer t"))).reason).toBe(
      "github_api_unavailable",
    );
    expect({ fetched, calls: spent.calls }).toEqual({ fetched: 0, calls: 0 });
  });
});

describe("the one redirect a GitHub call follows", () => {
  const moved = () =>
    createFakeNetwork({
      [API]: (request) =>
        new URL(request.url).pathname.startsWith("/repositories/")
          ? Response.json({ id: 42 })
          : Response.json(
              { message: "Moved Permanently" },
              { status: 301, headers: { location: `${API}/repositories/42` } },
            ),
    });

  it("a GET's 301 on the same API, once", async () => {
    const network = moved();
    const call = createApiCall({ fetch: network.fetch, now: () => 0, callTimeoutMs: 1_000 });
    expect(await call(context(), API, `${API}/repos/a/b`, "Bearer t")).toMatchObject({ status: 200, body: { id: 42 } });
    expect(network.calls.map((c) => c.url)).toEqual([`${API}/repos/a/b`, `${API}/repositories/42`]);
  });

  it("never a POST's (the access_tokens call): 503", async () => {
    const network = moved();
    const call = createApiCall({ fetch: network.fetch, now: () => 0, callTimeoutMs: 1_000 });
    const error = await brokerError(
      call(context(), API, `${API}/app/installations/1/access_tokens`, "Bearer t", { method: "POST", body: "{}" }),
    );
    expect({ code: error.code, reason: error.reason }).toEqual({
      code: "upstream_unavailable",
      reason: "github_api_unavailable",
    });
    expect(network.calls).toHaveLength(1);
  });
});
