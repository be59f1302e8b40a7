// The layer rule on src/'s imports (docs/development.md "Layers"): a folder (or a top-level file) of src/ imports only
// those of a lower layer, never a sibling of its own layer or anything above; and no file imports itself back through
// a circle. Read from the `import`/`export ... from` statements of every src/**/*.ts file.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * src/'s parts, top layer first. A part is a folder of src/ or a file at its top. A part imports only parts of a
 * lower row; parts of one row never import each other.
 */
const LAYERS: ReadonlyArray<readonly string[]> = [
  ["env.d.ts", "worker-configuration.d.ts"], // the Worker's env types (wrangler generates the second)
  ["index.ts"], // the Worker's exports
  ["broker.ts", "cli"], // wiring once per isolate; the operator's Node CLIs
  ["app.ts", "dashboards"], // routes; the Grafana dashboards' generator (the CLI's)
  ["exchange", "alerts"], // the two exchanges and their stages; the alert cron
  ["config.ts"], // the Worker's configuration: composes the options each part below defines
  ["admission", "github-tokens", "idp"], // admission control; the token App; the broker as an OpenID provider
  ["github"], // GitHub facts through the facts App
  ["policy"], // the policy: compile, decide, guards, kill switch
  ["aws"], // STS and the session it is asked for
  ["oidc", "audit", "client"], // token verification; the audit trail; the CI client (its own bundle)
  ["platforms"], // what each CI platform is (claims, names, facts)
  ["http", "crypto", "settings.ts"], // requests, answers and outbound calls; PEM and JWS; settings parsing
  ["constants.ts", "errors.ts", "deps.ts"], // limits, the error table, the I/O seams
  ["error-reasons.ts"], // the closed list of internal reasons
];

/** Imports that leave src/, by importing part: only the Worker's entry point reads the operator's policy. */
const OUTSIDE_SRC: Readonly<Record<string, readonly string[]>> = { "index.ts": ["policies"] };

const root = fileURLToPath(new URL("../", import.meta.url));
const src = join(root, "src");
const rank = new Map(LAYERS.flatMap((row, index) => row.map((part) => [part, LAYERS.length - index] as const)));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** The part a path of src/ belongs to: its first folder, or the file itself at the top. */
const partOf = (path: string) => relative(src, path).split("/")[0] as string;

/** Relative specifiers of `import ... from`, `export ... from`, `import "x"` and `import("x")`, with their files. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const patterns = [/^\s*(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']/gm, /\bimport\s*\(?\s*["']([^"']+)["']/g];
  const specifiers = patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1] as string));
  return [...new Set(specifiers)]
    .filter((spec) => spec.startsWith("."))
    .map((spec) => normalize(join(dirname(file), spec)));
}

const files = sourceFiles(src);
const edges = files.flatMap((file) => importsOf(file).map((target) => ({ file, target })));

describe("src/'s layers", () => {
  it("every part of src/ has its layer", () => {
    expect(
      files.map(partOf).filter((part) => !rank.has(part)),
      "parts missing from LAYERS",
    ).toEqual([]);
  });

  it("a part imports only parts of a lower layer", () => {
    const upward = edges
      .filter(({ file, target }) => target.startsWith(src) && partOf(file) !== partOf(target))
      .filter(({ file, target }) => (rank.get(partOf(file)) ?? 0) <= (rank.get(partOf(target)) ?? 0))
      .map(({ file, target }) => `${relative(root, file)} -> ${relative(root, target)}`);
    expect(upward, "imports sideways or up").toEqual([]);
  });

  it("outside src/, only the entry point imports, and only the operator's policy", () => {
    const outside = edges
      .filter(({ target }) => !target.startsWith(src))
      .filter(
        ({ file, target }) => !(OUTSIDE_SRC[partOf(file)] ?? []).includes(relative(root, target).split("/")[0] ?? ""),
      )
      .map(({ file, target }) => `${relative(root, file)} -> ${relative(root, target)}`);
    expect(outside).toEqual([]);
  });

  it("no file imports itself back through a circle", () => {
    const next = new Map<string, string[]>();
    for (const { file, target } of edges) next.set(file, [...(next.get(file) ?? []), target]);
    const state = new Map<string, "open" | "done">();
    const circles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "open") {
        circles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(src, f)).join(" -> "));
        return;
      }
      state.set(file, "open");
      for (const target of next.get(file) ?? []) visit(target, [...path, file]);
      state.set(file, "done");
    };
    for (const file of files) visit(file, []);
    expect(circles).toEqual([]);
  });
});
