import { describe, expect, it } from "vitest";
import { compilePattern } from "../../src/policy/glob.ts";

describe("compilePattern", () => {
  const table: Array<[pattern: string, value: string, matches: boolean]> = [
    ["acme/api", "acme/api", true],
    ["acme/api", "acme/api-evil", false],
    ["acme/api", "acme/ap", false],
    ["acme/api", "acme/api.", false],
    ["acme/api", "ACME/API", false],
    ["acme/*", "acme/app", true],
    ["acme/*", "acme/app/extra", false],
    ["acme/*", "evil/acme/app", false],
    ["refs/heads/release/*", "refs/heads/release/1.2", true],
    ["refs/heads/release/*", "refs/heads/release-x", false],
    ["refs/heads/release/*", "refs/tags/release/1", false],
    ["refs/heads/release/*", "refs/pull/1/merge", false],
    ["refs/heads/**", "refs/heads/feature/a/b", true],
    ["refs/heads/**", "refs/tags/v1", false],
    ["a.b", "aXb", false], // regex metacharacters are literal
    ["a+b", "aab", false],
    ["(x)", "(x)", true],
    ["acme/app", "acme/\u0131pp", false], // dotless ı is not i
    ["kelvin", "\u212Aelvin", false], // Kelvin sign is not K
    ["", "", true],
    ["*", "", true],
    ["*", "a/b", false],
    ["**", "a/b", true],
    ["x*y", "x\ny", true],
  ];
  it.each(table)("%j vs %j -> %s", (pattern, value, matches) => {
    expect(compilePattern(pattern).test(value)).toBe(matches);
  });

  it("refuses the ambiguous ***", () => {
    expect(() => compilePattern("a/***")).toThrow();
  });
});
