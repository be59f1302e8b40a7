// One `npm start -- --shadow` session for an end-to-end test file, as a newcomer runs it: started before the file's
// tests (the test Worker entry, its test policy) and stopped after, ports free again; what it printed, the credentials
// command its banner printed, a shell in the project or elsewhere, the sandbox's mint-and-exchange endpoint.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll } from "vitest";
import { repoRoot, startSandbox, type RunningSandbox } from "./client-harness.ts";

export const run = promisify(execFile);
export { repoRoot };
export const AWS = process.env.AWS_CLI ?? "aws";

export interface SandboxSession {
  /** Everything npm start has printed so far (stdout and stderr). */
  readonly output: string;
  /** What it printed until it was ready: the banner. */
  readonly startOutput: string;
  /** The banner's `curl ... /v1/credentials` command. */
  readonly credentialsCommand: string;
  /** Elsewhere than the project: npm scripts do not run here, the printed commands must. */
  readonly elsewhere: string;
  /** `command` in bash (pipefail) with the project's node_modules/.bin on PATH, in the project unless `cwd`. */
  shell(command: string, cwd?: string): Promise<{ stdout: string; stderr: string }>;
  /** The broker's answer to the sandbox's mint-and-exchange endpoint. */
  exchange(body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Waits until `npm start` has printed a line matching `pattern` (exchange lines arrive just after the answer). */
  printed(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** `npm start -- --shadow` started before the file's tests (once the ports are free), stopped after (till they are). */
export function useSandboxSession(): SandboxSession {
  const elsewhere = mkdtempSync(join(tmpdir(), "ccb-elsewhere-"));
  let sandbox: RunningSandbox | undefined;
  let startOutput = "";
  let credentialsCommand = "";
  const output = () => sandbox?.output() ?? "";
  beforeAll(async () => {
    sandbox = await startSandbox(["--shadow"]);
    startOutput = output();
    const line = startOutput.split("\n").find((l) => l.trim().startsWith("curl ") && l.includes("/v1/credentials"));
    credentialsCommand = line?.trim() ?? "";
  });
  afterAll(async () => {
    await sandbox?.stop();
    rmSync(elsewhere, { recursive: true, force: true });
  });
  return {
    get output() {
      return output();
    },
    get startOutput() {
      return startOutput;
    },
    get credentialsCommand() {
      return credentialsCommand;
    },
    elsewhere,
    shell,
    exchange,
    async printed(pattern, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = output()
          .split("\n")
          .find((l) => pattern.test(l));
        if (line !== undefined) return line;
        if (Date.now() > deadline) throw new Error(`npm start printed no line matching ${pattern}:\n${output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

async function shell(command: string, cwd = repoRoot): Promise<{ stdout: string; stderr: string }> {
  return run("bash", ["-o", "pipefail", "-c", command], {
    cwd,
    env: { ...process.env, PATH: `${repoRoot}node_modules/.bin:${process.env.PATH ?? ""}` },
  });
}

/** The broker's answer to the sandbox's mint-and-exchange endpoint. */
async function exchange(body: unknown = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch("http://127.0.0.1:8788/exchange", { method: "POST", body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
