// The client's pure helpers: GitHub's rate-limit signals and Link pagination; the memo's single flight.
import { describe, expect, it } from "vitest";
import { nextLink, rateLimitWait } from "../../src/github/client.ts";
import { createMemo } from "../../src/github/memo.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

describe("rateLimitWait (docs: Rate limits for the REST API)", () => {
  it.each([
    [
      "403 with remaining 0 waits until the reset",
      403,
      { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(NOW / 1000 + 120) },
      undefined,
      120,
    ],
    ["429 with retry-after", 429, { "retry-after": "17" }, undefined, 17],
    [
      "403 secondary limit with retry-after",
      403,
      { "retry-after": "5" },
      "You have exceeded a secondary rate limit",
      5,
    ],
    ["403 secondary limit without headers waits a minute", 403, {}, "You have exceeded a secondary rate limit", 60],
    [
      "a reset far away is capped",
      403,
      { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(NOW / 1000 + 7200) },
      undefined,
      900,
    ],
  ])("%s", (_label, status, headers, message, seconds) => {
    expect(rateLimitWait(status, new Headers(headers), message, NOW)).toBe(seconds);
  });

  it.each([
    ["a permission error", 403, { "x-ratelimit-remaining": "4000" }, "Resource not accessible by integration"],
    ["a 404", 404, { "x-ratelimit-remaining": "0" }, undefined],
    ["a 200", 200, {}, undefined],
  ])("is not a rate limit: %s", (_label, status, headers, message) => {
    expect(rateLimitWait(status, new Headers(headers), message, NOW)).toBeUndefined();
  });
});

describe("nextLink (RFC 8288)", () => {
  it("finds rel=next among others", () => {
    expect(
      nextLink('<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last"'),
    ).toBe("https://api.github.com/x?page=2");
    expect(
      nextLink('<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=3>; rel="next"'),
    ).toBe("https://api.github.com/x?page=3");
  });

  it("none on the last page", () => {
    expect(
      nextLink('<https://api.github.com/x?page=1>; rel="first", <https://api.github.com/x?page=1>; rel="prev"'),
    ).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
  });
});

describe("memo", () => {
  it("shares one lookup among concurrent callers, keeps a value until its expiry, never keeps a failure", async () => {
    let now = 0;
    const memo = createMemo<number>(() => now, 10);
    let lookups = 0;
    const lookup = async () => {
      lookups += 1;
      await Promise.resolve();
      return lookups;
    };
    const values = await Promise.all(Array.from({ length: 50 }, () => memo.get("k", lookup, () => now + 1000)));
    expect(new Set(values)).toEqual(new Set([1]));
    expect(await memo.get("k", lookup, () => now + 1000)).toBe(1);
    now = 1000;
    expect(await memo.get("k", lookup, () => undefined)).toBe(2);
    expect(await memo.get("k", lookup, () => undefined)).toBe(3);
    const failing = () => Promise.reject(new Error("down"));
    await expect(Promise.all([memo.get("f", failing, () => 5000), memo.get("f", failing, () => 5000)])).rejects.toThrow(
      "down",
    );
    expect(await memo.get("f", lookup, () => undefined)).toBe(4);
  });

  it("is bounded: the oldest entry goes first", async () => {
    const memo = createMemo<string>(() => 0, 2);
    for (const key of ["a", "b", "c"])
      await memo.get(
        key,
        async () => key,
        () => 1000,
      );
    expect(memo.size).toBe(2);
    expect(
      await memo.get(
        "a",
        async () => "again",
        () => 1000,
      ),
    ).toBe("again");
  });
});
