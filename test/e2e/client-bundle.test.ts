// The committed bundle the Action runs is the build of today's source, has no dependency but Node's built-ins, and
// action.yml points at it with the inputs and outputs the code uses. Runs in Node (esbuild), no sandbox needed.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { inputVariable } from "../../src/client/action.ts";
import { BUNDLE_DIR, BUNDLE_HEADER, buildClient, CLIENT_ENTRIES } from "../../src/client/build.ts";
import { repoRoot } from "./client-harness.ts";

const exec = promisify(execFile);

/** The names under a top-level YAML key (two-space indented `name:` lines), enough for action.yml's flat shape. */
function yamlKeys(text: string, section: string): string[] {
  const lines = text.split("\n");
  const start = lines.indexOf(`${section}:`);
  const keys: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    const match = /^ {2}([\w-]+):/.exec(line);
    if (match !== null) keys.push(match[1] as string);
  }
  return keys;
}

describe("client bundle", () => {
  it("is up to date with src/client (run `npm run build:client` and commit when this fails)", async () => {
    const built = await buildClient();
    const committed = readdirSync(`${repoRoot}${BUNDLE_DIR}`).map((name) => `${BUNDLE_DIR}/${name}`);
    expect(committed.sort()).toEqual([...built.files.keys()].sort());
    for (const [path, text] of built.files) {
      const onDisk = readFileSync(`${repoRoot}${path}`, "utf8");
      expect(onDisk === text, `${path} is stale: run \`npm run build:client\``).toBe(true);
    }
    expect([...built.files.keys()].sort()).toEqual(
      Object.keys(CLIENT_ENTRIES)
        .map((name) => `${BUNDLE_DIR}/${name}.mjs`)
        .sort(),
    );
  });

  it("is committed, marked generated, and outside what `npm run build` writes", async () => {
    for (const name of readdirSync(`${repoRoot}${BUNDLE_DIR}`)) {
      const path = `${BUNDLE_DIR}/${name}`;
      expect(readFileSync(`${repoRoot}${path}`, "utf8").split("\n")[0], path).toBe(BUNDLE_HEADER);
      // Not hidden by .gitignore (exit 1: not ignored), and generated for reviews and language statistics.
      await expect(exec("git", ["check-ignore", "-q", "--no-index", path], { cwd: repoRoot })).rejects.toMatchObject({
        code: 1,
      });
      const { stdout } = await exec("git", ["check-attr", "linguist-generated", "--", path], { cwd: repoRoot });
      expect(stdout.trim()).toBe(`${path}: linguist-generated: true`);
    }
    const scripts = JSON.parse(readFileSync(`${repoRoot}package.json`, "utf8")).scripts as Record<string, string>;
    const outdir = /--outdir (\S+)/.exec(scripts.build ?? "")?.[1];
    expect(outdir).toBeDefined();
    expect(`${BUNDLE_DIR}/`.startsWith(`${outdir}/`)).toBe(false);
  });

  it("imports nothing but Node built-ins", async () => {
    const built = await buildClient();
    expect(built.externalImports.length).toBeGreaterThan(0);
    for (const specifier of built.externalImports) expect(specifier).toMatch(/^node:/);
  });

  it("runs on Node 20, the oldest Node the client supports, when one is installed", async () => {
    const candidates = ["/usr/bin/node", "/usr/local/bin/node"].filter((path) => existsSync(path));
    let node20: string | undefined;
    for (const path of candidates) {
      const { stdout } = await exec(path, ["--version"]);
      if (stdout.startsWith("v20.")) node20 = path;
    }
    if (node20 === undefined) return; // only node24 here: nothing older to check against
    const { stdout } = await exec(node20, [`${repoRoot}${BUNDLE_DIR}/cli.mjs`, "--help"]);
    expect(stdout).toContain("usage: ci-credentials");
  });
});

describe("action.yml", () => {
  const text = readFileSync(`${repoRoot}action.yml`, "utf8");

  it("runs the committed bundle on node24, with a post step", () => {
    expect(text).toMatch(/^ {2}using: node24$/m);
    const main = /^ {2}main: (\S+)$/m.exec(text)?.[1];
    const post = /^ {2}post: (\S+)$/m.exec(text)?.[1];
    expect(main).toBe(`${BUNDLE_DIR}/action-main.mjs`);
    expect(post).toBe(`${BUNDLE_DIR}/action-post.mjs`);
    for (const file of [main, post]) expect(existsSync(`${repoRoot}${file}`)).toBe(true);
  });

  it("declares exactly the inputs the main step reads and the outputs it sets", () => {
    const inputs = yamlKeys(text, "inputs");
    expect(inputs.sort()).toEqual([
      "audience",
      "aws-region",
      "broker-url",
      "duration",
      "github-token-name",
      "output-mode",
      "region",
      "role",
      "role-duration-seconds",
    ]);
    const bundle = readFileSync(`${repoRoot}${BUNDLE_DIR}/action-main.mjs`, "utf8");
    // The runner passes each input as INPUT_<NAME>; the code reads them by name through inputVariable().
    for (const input of inputs) expect(bundle).toContain(`input("${input}")`);
    expect(inputVariable("output-mode")).toBe("INPUT_OUTPUT-MODE");
    expect(yamlKeys(text, "outputs").sort()).toEqual([
      "aws-access-key-id",
      "aws-expiration",
      "aws-region",
      "aws-secret-access-key",
      "aws-session-token",
      "credential-process",
      "git-credential-helper",
      "github-token",
      "github-token-expires-at",
    ]);
    for (const output of ["github-token", "github-token-expires-at", "git-credential-helper"])
      expect(bundle).toContain(`"${output}"`);
  });
});
