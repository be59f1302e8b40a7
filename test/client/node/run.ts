// Runs the committed client bundle as a CI runner or git would: a clean environment (PATH and HOME only, plus what the
// test gives), optional stdin, and exit code, stdout and stderr collected.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const BUNDLE = {
  main: `${repoRoot}client-dist/action-main.mjs`,
  post: `${repoRoot}client-dist/action-post.mjs`,
  cli: `${repoRoot}client-dist/cli.mjs`,
};

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  stdin = "",
): Promise<Result> {
  const clean: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" };
  for (const [name, value] of Object.entries(env)) if (value !== undefined) clean[name] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env: clean, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** `node <bundle file>` with the Node running the tests (node24, as `runs.using: node24`). */
export function runNode(
  file: string,
  args: string[],
  env: Record<string, string | undefined>,
  stdin = "",
): Promise<Result> {
  return run(process.execPath, [file, ...args], env, stdin);
}
