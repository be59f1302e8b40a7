// docs/api.md against the code: every public code with its status (ERROR_TABLE), and every internal reason
// (brokerReasons()) documented, in both directions: a reason the code can throw and the docs do not name fails, and so
// does a reason the docs name that no longer exists.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { brokerReasons } from "../src/error-reasons.ts";

const BROKER_REASONS = brokerReasons();
import { BrokerError, ERROR_TABLE } from "../src/errors.ts";

const api = readFileSync(new URL("../docs/api.md", import.meta.url), "utf8");

/** The text of the `## title` section, up to the next level-2 heading (its `###` subsections included). */
function section(title: string): string {
  const start = api.indexOf(`\n## ${title}\n`);
  expect(start, `docs/api.md has a "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = api.indexOf("\n## ", start + 1);
  return api.slice(start, end === -1 ? undefined : end);
}

/** Backticked snake_case words: `token_expired`, never `GITHUB_APP_ID` or `Retry-After`. */
const snakeWords = (text: string) =>
  [...text.matchAll(/`([a-z][a-z0-9]*(?:_[a-z0-9]+)*)`/g)].map((m) => m[1] as string);

/** Backticked words in those sections that are not reasons: a field, a log line's message, a claim, a body member. */
const NOT_REASONS = new Set(["reason", "alerts_config_invalid", "repository_id", "name"]);

/** Every reason docs/api.md names: its "Internal reasons" section and the reasons column of the GitHub token table. */
function documentedReasons(): Set<string> {
  const words = snakeWords(section("Internal reasons"));
  const tokenTable = section("`POST /v1/github-token`")
    .split("\n")
    .filter((line) => /^\| \d{3} \|/.test(line));
  expect(tokenTable.length, "the GitHub token endpoint's status/code/reasons table").toBeGreaterThan(0);
  for (const row of tokenTable) words.push(...snakeWords(row.split("|")[3] ?? ""));
  return new Set(words.filter((word) => !NOT_REASONS.has(word)));
}

describe("docs/api.md and the closed error vocabulary", () => {
  it("the Errors table lists every public code with its status, and nothing else", () => {
    const rows = section("Errors")
      .split("\n")
      .map((line) => /^\| `([a-z_]+)` \| (\d{3}) \|/.exec(line))
      .filter((match) => match !== null)
      .map((match) => [match[1], Number(match[2])]);
    const table = Object.entries(ERROR_TABLE).map(([code, entry]) => [code, entry.status]);
    expect(rows.sort()).toEqual(table.sort());
  });

  it("every reason the code has is documented, and every documented reason exists", () => {
    const documented = documentedReasons();
    const reasons = new Set<string>(BROKER_REASONS);
    expect(
      [...reasons].filter((reason) => !documented.has(reason)),
      "reasons docs/api.md does not name",
    ).toEqual([]);
    expect(
      [...documented].filter((word) => !reasons.has(word)),
      "documented reasons that do not exist",
    ).toEqual([]);
  });

  it("the list holds each reason once", () => {
    expect(new Set(BROKER_REASONS).size).toBe(BROKER_REASONS.length);
  });

  it("a reason outside the list does not compile (tsc checks this file)", () => {
    // @ts-expect-error: a typo of role_not_granted is no reason
    const error = new BrokerError("forbidden", "role_not_grantd");
    expect(error.code).toBe("forbidden");
  });
});
