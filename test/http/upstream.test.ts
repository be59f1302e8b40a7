// The outbound-request helper (src/http/upstream.ts): redirects never followed by fetch and refused as `redirect`
// unless the caller's rule allows one hop; the per-call timeout and the total budget bound fetch and body read (even
// for a fetch that ignores its signal); capped reads; stable error kinds that carry no URL and no body.
import { describe, expect, it } from "vitest";
import type { FetchFn } from "../../src/deps.ts";
import { callUpstream, UpstreamError, type UpstreamOptions } from "../../src/http/upstream.ts";
import { movedPermanentlyWithin } from "../../src/http/upstream-redirect.ts";
import { createFakeNetwork } from "../support/fake-network.ts";
import { manualTimers, settle } from "../support/manual-timers.ts";

const API = "https://api.example";
const OTHER = "https://other.example";
const BASE: UpstreamOptions = { timeoutMs: 1_000, maxBytes: 1_024 };

async function failure(pending: Promise<unknown>): Promise<UpstreamError> {
  const error = await pending.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

const redirectTo = (location: string, status = 301) =>
  new Response(JSON.stringify({ message: "Moved Permanently", url: location }), {
    status,
    headers: { location, "content-type": "application/json" },
  });

describe("redirects", () => {
  it("asks fetch for redirect: manual, for a URL and for a ready Request alike", async () => {
    const seen: Array<RequestInit | undefined> = [];
    const fetchFn: FetchFn = async (_input, init) => {
      seen.push(init);
      return new Response("ok");
    };
    await callUpstream(fetchFn, `${API}/a`, BASE);
    await callUpstream(fetchFn, new Request(`${API}/b`, { method: "POST", body: "x" }), BASE);
    expect(seen.map((init) => init?.redirect)).toEqual(["manual", "manual"]);
  });

  it.each([301, 302, 303, 307, 308])(
    "refuses a %i without a rule: kind redirect, the Location never fetched",
    async (status) => {
      const network = createFakeNetwork({
        [API]: () => redirectTo(`${OTHER}/x`, status),
        [OTHER]: () => new Response("no"),
      });
      const error = await failure(callUpstream(network.fetch, `${API}/a`, BASE));
      expect({ kind: error.kind, status: error.status }).toEqual({ kind: "redirect", status });
      expect(`${error.message} ${error.detail}`).not.toContain("other.example");
      expect(network.callsTo(OTHER)).toHaveLength(0);
    },
  );

  it("follows the one hop a rule allows, with the same method and headers, and reads its answer", async () => {
    const network = createFakeNetwork({
      [API]: (request) =>
        new URL(request.url).pathname === "/repos/a/b"
          ? redirectTo(`${API}/repositories/42`)
          : new Response(request.headers.get("authorization") ?? "none"),
    });
    const answer = await callUpstream(network.fetch, `${API}/repos/a/b`, {
      ...BASE,
      headers: { authorization: "Bearer t" },
      followOnce: movedPermanentlyWithin(API),
    });
    expect(answer).toMatchObject({ status: 200, text: "Bearer t" });
    expect(network.calls.map((call) => call.url)).toEqual([`${API}/repos/a/b`, `${API}/repositories/42`]);
  });

  it("never follows a second hop, even one the rule would allow", async () => {
    let calls = 0;
    const network = createFakeNetwork({ [API]: () => redirectTo(`${API}/repositories/${++calls}`) });
    const error = await failure(
      callUpstream(network.fetch, `${API}/repos/a/b`, { ...BASE, followOnce: movedPermanentlyWithin(API) }),
    );
    expect({ kind: error.kind, status: error.status }).toEqual({ kind: "redirect", status: 301 });
    expect(calls).toBe(2);
  });

  it("refuses what the rule refuses: a 301 to another origin is never fetched", async () => {
    const network = createFakeNetwork({
      [API]: () => redirectTo(`${OTHER}/repositories/1`),
      [OTHER]: () => new Response(""),
    });
    const error = await failure(
      callUpstream(network.fetch, `${API}/repos/a/b`, { ...BASE, followOnce: movedPermanentlyWithin(API) }),
    );
    expect(error.kind).toBe("redirect");
    expect(network.callsTo(OTHER)).toHaveLength(0);
  });
});

describe("timeout and budget (injected timers)", () => {
  const hanging: FetchFn = () => new Promise<never>(() => undefined);

  it("a call that does not answer within its timeout: kind timeout, even when fetch ignores its signal", async () => {
    const timers = manualTimers();
    const pending = failure(callUpstream(hanging, `${API}/a`, { ...BASE, timeoutMs: 250, startTimer: timers }));
    await settle();
    expect(timers.started).toEqual([250]);
    timers.fire();
    expect((await pending).kind).toBe("timeout");
    expect(timers.cancelled).toBe(1);
  });

  it("a body that trickles past the timeout loses too", async () => {
    const timers = manualTimers();
    const trickle: FetchFn = async () =>
      new Response(new ReadableStream({ start: (controller) => controller.enqueue(new TextEncoder().encode("{")) }));
    const pending = failure(callUpstream(trickle, `${API}/a`, { ...BASE, startTimer: timers }));
    await settle();
    timers.fire();
    expect((await pending).kind).toBe("timeout");
  });

  it("the total budget spent during a call ends it as `budget`; a spent budget starts no call", async () => {
    const timers = manualTimers();
    const budget = new AbortController();
    const pending = failure(callUpstream(hanging, `${API}/a`, { ...BASE, budget: budget.signal, startTimer: timers }));
    budget.abort();
    expect((await pending).kind).toBe("budget");

    let calls = 0;
    const counting: FetchFn = async () => {
      calls += 1;
      return new Response("");
    };
    const spent = await failure(callUpstream(counting, `${API}/a`, { ...BASE, budget: budget.signal }));
    expect(spent.kind).toBe("budget");
    expect(calls).toBe(0);
  });
});

describe("answers and bodies", () => {
  it("a network failure is kind network, with the error's name only", async () => {
    const failing: FetchFn = async () => {
      throw new TypeError(`connect ECONNREFUSED ${OTHER}`);
    };
    const error = await failure(callUpstream(failing, `${API}/a`, BASE));
    expect({ kind: error.kind, detail: error.detail }).toEqual({
      kind: "network",
      detail: "network error (TypeError)",
    });
  });

  it("refuses an oversized body (streamed, no Content-Length): kind too_large with the status", async () => {
    const big: FetchFn = async () =>
      new Response(
        new ReadableStream({
          start(controller) {
            for (let i = 0; i < 4; i += 1) controller.enqueue(new Uint8Array(512));
            controller.close();
          },
        }),
      );
    const error = await failure(callUpstream(big, `${API}/a`, BASE));
    expect({ kind: error.kind, status: error.status }).toEqual({ kind: "too_large", status: 200 });
  });

  it("a status the caller does not accept is kind status, its body unread", async () => {
    const network = createFakeNetwork({ [API]: () => new Response("secret upstream text", { status: 503 }) });
    const error = await failure(callUpstream(network.fetch, `${API}/a`, { ...BASE, accept: (s) => s === 200 }));
    expect({ kind: error.kind, status: error.status }).toEqual({ kind: "status", status: 503 });
    expect(error.message).not.toContain("secret");
  });

  it("discardBody answers the status alone", async () => {
    const network = createFakeNetwork({ [API]: () => new Response("x".repeat(10_000), { status: 202 }) });
    expect(await callUpstream(network.fetch, `${API}/a`, { ...BASE, maxBytes: 0, discardBody: true })).toMatchObject({
      status: 202,
      text: "",
    });
  });
});
