// What a CI platform means lives in src/platforms/ only: no other file of the Worker compares against a platform
// kind ("github", "gitlab", ...). A source scan, so the rule holds for code not written yet.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ISSUER_KINDS } from "../../src/platforms/index.ts";

const SRC = new URL("../../src/", import.meta.url);

/** Where kind literals may be compared: the platforms, the Node clients, and configuration parsing. */
const EXEMPT = [/^platforms\//, /^client\//, /^cli\//, /^config\.ts$/, /^oidc\/issuers\.ts$/];

/** Comparisons with a kind's spelling that are not about a CI platform, each with why. */
const NOT_A_PLATFORM: ReadonlyArray<{ file: RegExp; line: RegExp; why: string }> = [
  { file: /alerts\//, line: /query\.kind === "github"/, why: "an alert metric's kind (the GitHub rate-limit query)" },
];

/** Lines of `source` that compare against one of `kinds`: `=== "kind"`, `"kind" !==`, `case "kind":`. */
function kindComparisons(source: string, kinds: readonly string[]): string[] {
  const literal = `"(?:${kinds.join("|")})"`;
  const comparison = new RegExp(`[!=]==?\\s*${literal}|${literal}\\s*[!=]==?|\\bcase\\s+${literal}`);
  return source.split("\n").filter((line) => comparison.test(line) && !/^\s*(\/\/|\*)/.test(line));
}

function sourceFiles(): string[] {
  return readdirSync(SRC, { recursive: true, encoding: "utf8" })
    .map((path) => path.replaceAll("\\", "/"))
    .filter((path) => path.endsWith(".ts") && !EXEMPT.some((pattern) => pattern.test(path)));
}

describe("no platform branching outside src/platforms/", () => {
  it("finds every comparison form it looks for, and not comments or other strings", () => {
    const source = [
      'if (kind === "gitlab") return;',
      'const hosted = "github" !== issuer.kind;',
      "switch (kind) {",
      '  case "github":',
      'const x = kind == "gitlab";',
      '// kind === "github" in a comment',
      'const name = "github-hosted";',
      'const ok = platform.kind === "buildkite";',
    ].join("\n");
    expect(kindComparisons(source, ["github", "gitlab"])).toEqual([
      'if (kind === "gitlab") return;',
      'const hosted = "github" !== issuer.kind;',
      '  case "github":',
      'const x = kind == "gitlab";',
    ]);
  });

  it("no file of src/ outside the platforms, the clients and the configuration compares against a kind", () => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((path) => {
      const lines = kindComparisons(readFileSync(new URL(path, SRC), "utf8"), ISSUER_KINDS);
      const branching = lines.filter(
        (line) => !NOT_A_PLATFORM.some((allowed) => allowed.file.test(path) && allowed.line.test(line)),
      );
      return branching.map((line) => `${path}: ${line.trim()}`);
    });
    expect(found).toEqual([]);
  });
});
