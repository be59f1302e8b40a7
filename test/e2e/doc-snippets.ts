// Commands the docs show, read from the docs themselves, so the end-to-end tests run what a reader copies and the two
// cannot
// drift. A runnable block is a fenced block whose preceding line is `<!-- test: NAME ... -->`. Runs in Node; no I/O but
// reading.
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** NAME -> the text of the fenced block marked `<!-- test: NAME … -->`, for one page under the repository root. */
export function markedBlocks(repoRoot: string, page: string): Map<string, string> {
  const text = readFileSync(join(repoRoot, page), "utf8");
  const blocks = new Map<string, string>();
  for (const [, name = "", body = ""] of text.matchAll(/^<!-- test: ([\w-]+)[^\n]*-->\n```[a-z]*\n([\s\S]*?)^```$/gm)) {
    if (blocks.has(name)) throw new Error(`${page}: two blocks marked ${name}`);
    blocks.set(name, body);
  }
  return blocks;
}

export interface GitLabJob {
  /** `variables:` of the job: flat scalars, quotes removed. */
  variables: Record<string, string>;
  /** `script:` items, one command each; a `- |` item is its block, dedented. */
  script: string[];
}

/**
 * A YAML scalar as GitLab reads the simple forms the docs use: 'single' ('' is a quote), "double", or plain up to a
 * comment.
 */
function scalar(text: string): string {
  const value = text.trim();
  if (value.startsWith("'")) return value.slice(1, value.lastIndexOf("'")).replaceAll("''", "'");
  if (value.startsWith('"')) return JSON.parse(value.slice(0, value.lastIndexOf('"') + 1)) as string;
  return value.replace(/\s+#.*$/, "");
}

/**
 * The `variables` and `script` of one job in a .gitlab-ci.yml block: enough YAML for the docs' jobs (two-space indents,
 * flat variables, plain or `|` script items), and a loud failure on anything else rather than a guess.
 */
export function gitlabJob(yaml: string, job: string): GitLabJob {
  const lines = yaml.split("\n");
  const start = lines.indexOf(`${job}:`);
  if (start === -1) throw new Error(`no job ${job}`);
  const result: GitLabJob = { variables: {}, script: [] };
  let section = "";
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === "") continue;
    if (/^\S/.test(line)) break;
    const key = /^ {2}([\w-]+):(.*)$/.exec(line);
    if (key !== null) {
      section = key[1] as string;
      continue;
    }
    if (section === "variables") {
      const variable = /^ {4}(\w+): (.+)$/.exec(line);
      if (variable === null) throw new Error(`unexpected variables line: ${line}`);
      result.variables[variable[1] as string] = scalar(variable[2] as string);
    } else if (section === "script") {
      const item = /^ {4}- (.*)$/.exec(line);
      if (item === null) throw new Error(`unexpected script line: ${line}`);
      if (item[1] !== "|") {
        result.script.push(scalar(item[1] as string));
        continue;
      }
      const block: string[] = [];
      while (i + 1 < lines.length && (/^ {6}/.test(lines[i + 1] as string) || (lines[i + 1] as string).trim() === ""))
        block.push((lines[++i] as string).slice(6));
      result.script.push(`${block.join("\n").trimEnd()}\n`);
    }
  }
  return result;
}
