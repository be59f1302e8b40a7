import { describe, expect, it } from "vitest";
import type { QueryTable } from "../../src/audit/query-shape.ts";
import {
  formatCell,
  renderChart,
  renderCsv,
  renderHuman,
  renderJson,
  renderRecords,
  renderTable,
} from "../../src/cli/render.ts";

describe("renderTable", () => {
  const table = renderTable(
    ["repository", "requests", "p99_ms"],
    [
      ["acme/app", 120, 480.25],
      ["acme/web-frontend", 7, null],
      ["-", 3, 12],
    ],
  );
  const lines = table.split("\n");

  it("pads every column to its widest cell, text left and numbers right, with a rule under the header", () => {
    expect(lines).toEqual([
      "repository         requests  p99_ms",
      "-----------------  --------  ------",
      "acme/app                120   480.3",
      "acme/web-frontend         7       -",
      "-                         3      12",
    ]);
  });

  it("every cell stays inside its column: the gaps under the rule's gaps are blank on every line", () => {
    const rule = lines[1] as string;
    const gaps = [...rule].flatMap((char, i) => (char === " " ? [i] : []));
    expect(gaps).toHaveLength(4);
    for (const line of lines) for (const i of gaps) expect(line[i] ?? " ", line).toBe(" ");
  });

  it("formats cells: integers as is, fractions to one decimal, empty as '-'", () => {
    expect([formatCell(3), formatCell(2.25), formatCell(""), formatCell(null), formatCell("x")]).toEqual([
      "3",
      "2.3",
      "-",
      "-",
      "x",
    ]);
  });
});

describe("renderRecords", () => {
  it("one name/value line per column, names aligned, records separated by a blank line", () => {
    expect(
      renderRecords(
        ["outcome", "rule_id"],
        [
          ["denied", ""],
          ["issued", "r1"],
        ],
      ),
    ).toBe("outcome  denied\nrule_id  -\n\noutcome  issued\nrule_id  r1");
  });
});

describe("machine-readable formats", () => {
  it("CSV quotes only what needs it (RFC 4180) and leaves null empty", () => {
    expect(
      renderCsv(
        ["a", "b", "c"],
        [
          ["x,y", 'say "hi"', null],
          ["plain", 2, " lead"],
        ],
      ),
    ).toBe('a,b,c\r\n"x,y","say ""hi""",\r\nplain,2," lead"');
  });

  it.each([
    ['=HYPERLINK("https://evil.example")', `"'=HYPERLINK(""https://evil.example"")"`],
    ["+cmd|' /C calc'!A0", `"'+cmd|' /C calc'!A0"`],
    ["-2+3", `"'-2+3"`],
    ["@SUM(A1:A2)", `"'@SUM(A1:A2)"`],
    ["\t=1", `"'\t=1"`],
    ["\r=1", `"'\r=1"`],
  ])("CSV neutralises a formula-looking text cell %j (OWASP CSV injection)", (cell, expected) => {
    expect(renderCsv(["repository"], [[cell]])).toBe(`repository\r\n${expected}`);
  });

  it("CSV leaves numbers (negative ones too) and ordinary text alone", () => {
    expect(renderCsv(["a", "b", "c"], [[-1, "acme/app", "refs/heads/main"]])).toBe(
      "a,b,c\r\n-1,acme/app,refs/heads/main",
    );
  });

  it("JSON: rows as objects, with the window and the sampling interval", () => {
    const table: QueryTable = {
      title: "t",
      columns: ["reason", "requests"],
      rows: [["token_expired", 4]],
      shape: "table",
      maxSampleInterval: 1,
    };
    expect(JSON.parse(renderJson(table, { query: "denials", sinceMinutes: 60 }))).toEqual({
      query: "denials",
      since_minutes: 60,
      columns: ["reason", "requests"],
      rows: [{ reason: "token_expired", requests: 4 }],
      max_sample_interval: 1,
    });
  });
});

describe("renderChart", () => {
  const start = Date.UTC(2026, 10, 25, 11, 0);
  const values = [0, 2, 4, 8, 16, 8, 4, 2, 0, 16];
  const chart = renderChart(
    values.map((value, i) => ({ t: start + i * 5 * 60_000, value })),
    { label: "issued", bucketMinutes: 5 },
  );
  const lines = chart.split("\n");

  it("labels the y axis (name, unit, max, half, zero) and the x axis (UTC times)", () => {
    expect(lines[0]).toBe("    issued per 5 min");
    expect(lines[1]).toMatch(/^16 ┤/);
    expect(lines[5]).toMatch(/^ 8 ┤/);
    expect(lines[9]).toBe(` 0 └${"─".repeat(20)}`);
    expect(lines[10]).toMatch(/^ {4}11:00 +11:20 +11:45$/);
    expect(lines[11]).toBe("    time (UTC), bucket start");
  });

  it("bar heights follow the values: a full column at the maximum, empty at zero", () => {
    const plot = lines.slice(1, 9).map((line) => line.slice(4));
    const column = (i: number) => plot.map((row) => row[i * 2]).join("");
    expect(column(4)).toBe("████████");
    expect(column(9)).toBe("████████");
    expect(column(0)).toBe("        ");
    expect(column(3)).toBe("    ████"); // 8 of 16: half height
    expect(column(1)).toBe("       █"); // 2 of 16: one row
  });

  it("dates join the times when the window spans days; no data says so", () => {
    const days = renderChart(
      [
        { t: start, value: 1 },
        { t: start + 2 * 86_400_000, value: 2 },
      ],
      { label: "issued", bucketMinutes: 1440 },
    );
    expect(days).toContain("11-25 11:00");
    expect(renderChart([], { label: "issued", bucketMinutes: 5 })).toBe("issued: no data");
  });
});

describe("renderHuman", () => {
  it("notes sampled data and empty results", () => {
    const sampled: QueryTable = {
      title: "Top repositories",
      columns: ["repository", "requests"],
      rows: [["acme/app", 1200]],
      shape: "table",
      maxSampleInterval: 20,
    };
    expect(renderHuman(sampled, { sinceLabel: "1h" })).toContain("sampled data (up to 1 row kept per 20 events)");
    expect(renderHuman({ ...sampled, rows: [], maxSampleInterval: 1 }, { sinceLabel: "1h" })).toBe(
      "Top repositories (last 1h)\n\n(no rows)",
    );
  });
});
