// The Node side of the client's entry points: synchronous stdout/stderr writes, file appends, the real clock and
// network.
// I/O only; every decision is in the pure modules. Node >= 20 built-ins, nothing else (the bundle has no dependencies).
import { appendFileSync, writeSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { CliTokenSource } from "./cli-args.ts";
import type { ClientDeps } from "./client-deps.ts";
import { ClientError } from "./errors.ts";
import { warningCommand } from "./github-commands.ts";
import { actionsTokenSource, envTokenSource, fileTokenSource, type TokenSource } from "./token-source.ts";

/**
 * Writes synchronously: lines reach the runner in the order written (masks first), and nothing is lost when the
 * process exits right after.
 */
function writeAll(fd: number, text: string): void {
  let rest = Buffer.from(text, "utf8");
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(fd, rest));
    } catch (error) {
      // A non-blocking pipe that is full answers EAGAIN: try again until the reader catches up.
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
    }
  }
}

export function writeStdout(text: string): void {
  writeAll(1, text);
}

export function writeStderr(text: string): void {
  writeAll(2, text);
}

export function env(name: string): string | undefined {
  return process.env[name];
}

/** Appends to the file a runner variable names (GITHUB_ENV, GITHUB_OUTPUT, GITHUB_STATE). */
export function appendToRunnerFile(variable: string, text: string): void {
  if (text === "") return;
  const path = process.env[variable];
  if (path === undefined || path === "") {
    throw new ClientError(
      "output_failed",
      `${variable} is not set: this runs as a GitHub Action step only (use the CLI elsewhere).`,
    );
  }
  try {
    appendFileSync(path, text, { encoding: "utf8" });
  } catch (cause) {
    throw new ClientError("output_failed", `Could not append to the file ${variable} names.`, { cause });
  }
}

export function realDeps(
  tokens: TokenSource,
  debug: (message: string) => void,
  onToken?: (token: string) => void,
  warn?: (message: string) => void,
): ClientDeps {
  return {
    fetch: (input, init) => fetch(input, init),
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
    tokens,
    debug,
    ...(onToken === undefined ? {} : { onToken }),
    ...(warn === undefined ? {} : { warn }),
  };
}

/** The CLI's OIDC token source: GitHub Actions' endpoint (a new token per call), a variable, or a file. */
export function tokenSourceFor(source: CliTokenSource): TokenSource {
  if (source.kind === "env") return envTokenSource(source.name, env);
  if (source.kind === "file") return fileTokenSource(source.path, (path) => readFile(path, "utf8"));
  return actionsTokenSource({
    requestUrl: env("ACTIONS_ID_TOKEN_REQUEST_URL"),
    requestToken: env("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    audience: source.audience,
    fetch: (input, init) => fetch(input, init),
  });
}

/**
 * The CLI's replay warning: on a GitHub runner a workflow command on stderr becomes an annotation too; elsewhere a
 * plain line.
 */
export function cliWarn(source: CliTokenSource): (message: string) => void {
  return (message) =>
    writeStderr(
      source.kind === "github-actions"
        ? `${warningCommand("ci-credentials: OIDC token replayed", message)}\n`
        : `ci-credentials: warning: ${message}\n`,
    );
}

/** Reads stdin to its end, up to `maxBytes` (more is a usage error: git never sends that much). */
export async function readStdinCapped(maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > maxBytes)
      throw new ClientError("usage", `More than ${maxBytes} bytes on stdin: not a git credential description.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
