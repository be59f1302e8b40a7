// The docs stay true: the README stays a front door (under 16 KB) whose links resolve, and every policy-tool example in
// docs/ (a code block of `$ npm run -s policy:…` lines, each followed by its output) prints exactly what it shows;
// every
// workflow snippet sets a deployment's own audience. The policy-tool examples document the shipped example policy; they
// run on its copy, the test policy (test/fixtures/policies), never on the operator's policies/. Runs in Node; no
// sandbox, no network. (The no-Node client commands of docs/clients.md run against the sandbox in
// no-node-client.test.ts.)
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { GUARDS } from "../../src/policy/guards.ts";
import { CONTEXT_REASONS } from "../../src/policy/requirements.ts";
import { projectView } from "./project-view.ts";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
/** The README is the front door; the reference lives in docs/. */
const README_MAX_BYTES = 16 * 1024;

const docs = readdirSync(join(repoRoot, "docs")).filter((name) => name.endsWith(".md"));

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to hyphens. */
function headingSlugs(path: string): string[] {
  const text = readFileSync(join(repoRoot, path), "utf8").replace(/^```[\s\S]*?^```$/gm, "");
  return [...text.matchAll(/^#{1,6} (.+)$/gm)].map(([, heading = ""]) =>
    heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, "")
      .replaceAll(" ", "-"),
  );
}

interface Example {
  page: string;
  command: string;
  expected: string;
}

/** `$ npm run -s policy:…` lines in fenced blocks, each with the lines up to the next `$` line as its output. */
function policyToolExamples(): Example[] {
  const examples: Example[] = [];
  for (const page of docs) {
    const text = readFileSync(join(repoRoot, "docs", page), "utf8");
    for (const block of text.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)) {
      const lines = (block[1] ?? "").split("\n");
      if (!lines[0]?.startsWith("$ npm run -s policy:")) continue;
      let current: Example | undefined;
      for (const line of lines) {
        if (line.startsWith("$ ")) {
          current = { page, command: line.slice(2), expected: "" };
          examples.push(current);
        } else if (current !== undefined) current.expected += `${line}\n`;
      }
    }
  }
  return examples;
}

describe("README", () => {
  it(`is under ${README_MAX_BYTES} bytes`, () => {
    expect(statSync(join(repoRoot, "README.md")).size).toBeLessThan(README_MAX_BYTES);
  });

  it("and every page link to files and headings that exist", () => {
    for (const file of ["README.md", ...docs.map((page) => `docs/${page}`)]) {
      const text = readFileSync(join(repoRoot, file), "utf8");
      const base = file === "README.md" ? "" : "docs/";
      for (const [, target = "", anchor] of text.matchAll(/\]\(([^)#\s]*)(?:#([^)\s]*))?\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const path = target === "" ? file : join(base, target).replaceAll("\\", "/");
        expect(existsSync(join(repoRoot, path)), `${file} links to ${target}`).toBe(true);
        if (anchor !== undefined) expect(headingSlugs(path), `${file} links to ${target}#${anchor}`).toContain(anchor);
      }
    }
  });
});

/**
 * Steps using the Action in fenced blocks: the step's lines from its `uses:` to the next step or the end of the block.
 */
function actionSteps(text: string): string[] {
  const steps: string[] = [];
  for (const block of text.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)) {
    const lines = (block[1] ?? "").split("\n");
    lines.forEach((line, index) => {
      const uses = /^(\s*)(- )?uses: \S+\/ci-credential-broker@/.exec(line);
      if (uses === null) return;
      const indent = (uses[1] ?? "").length + (uses[2] === undefined ? 0 : 2);
      const rest = lines.slice(index + 1);
      const end = rest.findIndex(
        (next) =>
          next.trim() !== "" &&
          (next.length - next.trimStart().length < indent || /^\s*- /.test(next.slice(0, indent + 2))),
      );
      steps.push([line, ...(end === -1 ? rest : rest.slice(0, end))].join("\n"));
    });
  }
  return steps;
}

describe("workflow snippets", () => {
  // A production broker trusts its own audience only (docs/deployment.md): a copied step without one fails with
  // invalid_token.
  const pages = ["README.md", ...docs.map((page) => `docs/${page}`)];
  it("every step using the Action sets an audience other than the shared default", () => {
    const steps = pages.flatMap((file) =>
      actionSteps(readFileSync(join(repoRoot, file), "utf8")).map((step) => ({ file, step })),
    );
    expect(steps.length).toBeGreaterThanOrEqual(4);
    for (const { file, step } of steps) expect(step, file).toMatch(/^\s+audience: (?!ci-credential-broker\b)\S+/m);
  });

  it("every GitLab id_tokens audience is a deployment's own", () => {
    for (const file of pages) {
      for (const [, aud] of readFileSync(join(repoRoot, file), "utf8").matchAll(/^\s+aud: (\S+)/gm))
        expect(aud, file).not.toBe("ci-credential-broker");
    }
  });
});

describe("docs/ policy-tool examples", () => {
  const examples = policyToolExamples();
  const view = projectView({ policies: join(repoRoot, "test/fixtures/policies") });
  afterAll(() => view.remove());
  it("has the examples it is meant to check", () => {
    expect(examples.map((example) => example.command.split(" ").slice(0, 4).join(" "))).toEqual(
      expect.arrayContaining(["npm run -s policy:check", "npm run -s policy:test", "npm run -s policy:explain"]),
    );
  });
  for (const example of examples) {
    it(`${example.page}: ${example.command}`, async () => {
      const result = await run("bash", ["-c", example.command], { cwd: view.root }).catch(
        (error: { stdout: string }) => ({ stdout: error.stdout }),
      );
      expect(result.stdout.trimEnd()).toBe(example.expected.trimEnd());
    });
  }
});

describe("GitHub facts reasons", () => {
  it("each is documented in docs/api.md's table and docs/github-facts.md's", () => {
    for (const page of ["api.md", "github-facts.md"]) {
      const rows = readFileSync(join(repoRoot, "docs", page), "utf8")
        .split("\n")
        .filter((line) => line.startsWith("| `context_"));
      for (const reason of CONTEXT_REASONS)
        expect(
          rows.some((row) => row.startsWith(`| \`${reason}\``)),
          `${page}: ${reason}`,
        ).toBe(true);
      expect(rows).toHaveLength(CONTEXT_REASONS.length);
    }
  });
});

describe("docs/policy.md", () => {
  const page = readFileSync(join(repoRoot, "docs/policy.md"), "utf8");
  /** The guard table's rows by reason: the lines under the `### Guards` heading that start with a backquoted reason. */
  const guardRows = new Map(
    [...(/^### Guards\n([\s\S]*?)^### /m.exec(page)?.[1] ?? "").matchAll(/^\| `(guard_[a-z_]+)` \|(.*)$/gm)].map(
      ([, reason = "", row = ""]) => [reason, row],
    ),
  );

  it("lists every runtime guard in the guard table, with its opt-out, and nothing else", () => {
    expect([...guardRows.keys()].sort()).toEqual(GUARDS.map((guard) => guard.reason).sort());
    for (const guard of GUARDS) {
      const row = guardRows.get(guard.reason) ?? "";
      if (guard.optOut === undefined) expect(row, guard.reason).toContain("`allowEvents");
      else expect(row, guard.reason).toContain(`\`${guard.optOut}: true\``);
    }
  });

  it("shows the tag-release example exactly as the file policy:check and policy:test run", () => {
    const file = readFileSync(join(repoRoot, "docs/examples/tag-release-policy.ts"), "utf8");
    const shown = /^### Tagged releases\n[\s\S]*?^```ts\n([\s\S]*?)^```$/m.exec(page)?.[1];
    expect(shown).toBe(file);
  });
});
