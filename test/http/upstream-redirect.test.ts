// The one redirect a caller may follow (src/http/upstream-redirect.ts): GitHub's 301 for a moved repository, GET only,
// on the same API base (scheme, host, port, below the base path), never with credentials in the URL.
import { describe, expect, it } from "vitest";
import { movedPermanentlyWithin } from "../../src/http/upstream-redirect.ts";

const DOTCOM = "https://api.github.com";
const GHES = "https://ghe.example.com/api/v3";

describe("movedPermanentlyWithin", () => {
  it.each([
    ["github.com, absolute", DOTCOM, `${DOTCOM}/repos/a/b`, `${DOTCOM}/repositories/42`],
    ["github.com, a sub-path", DOTCOM, `${DOTCOM}/repos/a/b/pulls/1`, `${DOTCOM}/repositories/42/pulls/1`],
    ["GHES, below /api/v3", GHES, `${GHES}/repos/a/b`, `${GHES}/repositories/42`],
    ["GHES, a relative Location", GHES, `${GHES}/repos/a/b`, "/api/v3/repositories/42"],
  ])("follows a 301 on the same API: %s", (_label, base, from, location) => {
    expect(movedPermanentlyWithin(base)(301, location, from, "GET")).toBe(new URL(location, from).href);
  });

  it.each([
    ["a 302", 302, `${DOTCOM}/repositories/42`, "GET"],
    ["a 307", 307, `${DOTCOM}/repositories/42`, "GET"],
    ["a 308", 308, `${DOTCOM}/repositories/42`, "GET"],
    ["a POST", 301, `${DOTCOM}/repositories/42`, "POST"],
    ["another host", 301, "https://api.github.com.attacker.example/repositories/42", "GET"],
    ["another port", 301, "https://api.github.com:8443/repositories/42", "GET"],
    ["plain http", 301, "http://api.github.com/repositories/42", "GET"],
    ["credentials in the URL", 301, "https://user:pw@api.github.com/repositories/42", "GET"],
    ["no Location", 301, null, "GET"],
    ["an unparsable Location", 301, "https://[nope", "GET"],
  ])("refuses %s", (_label, status, location, method) => {
    expect(movedPermanentlyWithin(DOTCOM)(status, location, `${DOTCOM}/repos/a/b`, method)).toBeUndefined();
  });

  it.each([
    ["outside the base path", "https://ghe.example.com/repositories/42"],
    ["a sibling of the base path", "https://ghe.example.com/api/v30/repositories/42"],
    ["out of it by dot segments", "https://ghe.example.com/api/v3/../../repositories/42"],
  ])("refuses a GHES Location %s", (_label, location) => {
    expect(movedPermanentlyWithin(GHES)(301, location, `${GHES}/repos/a/b`, "GET")).toBeUndefined();
  });
});
