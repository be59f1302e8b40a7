import { describe, expect, it } from "vitest";
import {
  compilePattern,
  firstSegmentIsLiteral,
  literalPrefix,
  literalSuffix,
  mayOverlap,
  patternCovers,
} from "../../src/policy/glob.ts";

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
    ["acme/legacy-*", "acme/legacy-billing", true], // `-` is literal (and legal under the `u` flag)
    ["acme/legacy-*", "acme/legacy", false],
    ["v1.*", "v1.2", true],
    ["a?b", "aXb", false],
    ["a|b", "a", false],
    ["[ab]", "a", false],
    ["x^y$", "x^y$", true],
  ];
  it.each(table)("%j vs %j -> %s", (pattern, value, matches) => {
    expect(compilePattern(pattern).test(value)).toBe(matches);
  });

  it("refuses the ambiguous ***", () => {
    expect(() => compilePattern("a/***")).toThrow();
  });
});

describe("pattern analysis (conservative)", () => {
  const covers: Array<[outer: string, inner: string, covered: boolean]> = [
    ["acme/app", "acme/app", true],
    ["acme/*", "acme/app", true],
    ["acme/*", "acme/app-*", true],
    ["acme/*", "acme/*", true],
    ["acme/*", "acme/a/b", false],
    ["acme/*", "acme/**", false],
    ["acme/**", "acme/x/*", true],
    ["refs/heads/**", "refs/heads/release/*", true],
    ["refs/heads/*", "refs/heads/release/*", false],
    ["acme/app", "acme/*", false],
    ["acme/app-*", "acme/*", false],
    ["*-prod", "api-prod", true],
    ["*-prod", "*-prod-2", false], // unproved: counted as not covered
  ];
  it.each(covers)("%j covers %j: %s", (outer, inner, covered) => {
    expect(patternCovers(outer, inner)).toBe(covered);
  });

  const overlaps: Array<[string, string, boolean]> = [
    ["acme/app", "acme/app", true],
    ["acme/app", "acme/api", false],
    ["acme/*", "acme/app", true],
    ["acme/*", "beta/app", false],
    ["acme/app-*", "acme/api-*", false],
    ["acme/*", "acme/api-*", true],
    ["*-prod", "*-dev", false],
    ["a*b", "a*c", false],
    ["a*", "*b", true],
  ];
  it.each(overlaps)("%j may overlap %j: %s", (a, b, overlap) => {
    expect(mayOverlap(a, b)).toBe(overlap);
    expect(mayOverlap(b, a)).toBe(overlap);
  });

  it.each([
    ["acme/app", true],
    ["acme/*", true],
    ["acme", true],
    ["*/*", false],
    ["**", false],
    ["*/app", false],
    ["acme-*/app", false],
    ["/app", false],
  ])("first segment of %j is literal: %s", (pattern, literal) => {
    expect(firstSegmentIsLiteral(pattern)).toBe(literal);
  });

  it("literal prefix and suffix", () => {
    expect([literalPrefix("refs/heads/*"), literalSuffix("*-prod")]).toEqual(["refs/heads/", "-prod"]);
    expect([literalPrefix("exact"), literalSuffix("exact")]).toEqual(["exact", "exact"]);
  });
});
