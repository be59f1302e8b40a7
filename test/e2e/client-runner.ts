// A GitHub runner for the client's end-to-end tests: the sandbox (`npm start -- --credential-lifetime 15`) and a fake
// GitHub Actions token endpoint started once per test file, the files the runner creates per step, the Action's main
// step as the runner runs it, the real AWS CLI against the sandbox STS, and what the client's output must look like.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import {
  BROKER_URL,
  BUNDLE,
  run,
  runNode,
  startActionsEndpoint,
  startSandbox,
  STS_URL,
  type FakeActionsEndpoint,
  type Result,
  type RunningSandbox,
} from "./client-harness.ts";

/** Issued credentials live this long in the sandbox: short enough to watch them expire inside the test. */
export const LIFETIME_SECONDS = 15;
export const AWS = process.env.AWS_CLI ?? "aws";
export const ROLE_ARN = /^arn:aws:sts::111122223333:assumed-role\/acme-app-deploy\/([\w+=,.@-]{2,64})$/;
export const DELIMITER = "(ghadelimiter_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})";

export interface Step {
  result: Result;
  env: string;
  output: string;
  state: string;
  files: { env: string; output: string; state: string };
}

/** The runner of one test file: its endpoint and directory exist from `beforeAll` on. */
export interface ClientRunner {
  readonly actions: FakeActionsEndpoint;
  /** A temporary directory of the file's own (runner files, AWS config), removed after its tests. */
  readonly dir: string;
  /** A fresh empty file, as the runner creates GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE for each step. */
  runnerFile(name: string): string;
  /** The Action's main step as the runner runs it: INPUT_* inputs, runner files, the token endpoint (or noToken). */
  actionMain(
    inputs: Record<string, string>,
    options?: { noToken?: boolean; env?: Record<string, string> },
  ): Promise<Step>;
  /** The AWS CLI against the sandbox STS, with a throwaway config and no real credentials anywhere. */
  aws(args: string[], env: Record<string, string>): Promise<Result>;
  /** A command run in `dir` with `input` on stdin and exactly `env` (plus PATH and HOME). */
  runWithInput(command: string, args: string[], env: Record<string, string>, input: string): Promise<Result>;
}

/** Starts the sandbox and the token endpoint before the file's tests and stops them after. */
export function useClientRunner(): ClientRunner {
  let sandbox: RunningSandbox | undefined;
  let actions: FakeActionsEndpoint | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    const version = await run(AWS, ["--version"], {});
    if (version.code !== 0)
      throw new Error(
        `the AWS CLI is required (Debian: apt-get install awscli; .ci/run installs it): ${version.stderr}`,
      );
    sandbox = await startSandbox(["--credential-lifetime", String(LIFETIME_SECONDS)]);
    actions = await startActionsEndpoint();
    dir = mkdtempSync(join(tmpdir(), "ci-credentials-e2e-"));
  });
  afterAll(async () => {
    await actions?.close();
    await sandbox?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the client runner is used before its beforeAll ran");
    return value;
  };
  let fileCount = 0;
  const runner: ClientRunner = {
    get actions() {
      return started(actions);
    },
    get dir() {
      return started(dir);
    },
    runnerFile(name) {
      const path = join(runner.dir, `${name}-${++fileCount}`);
      writeFileSync(path, "");
      return path;
    },
    actionMain: (inputs, options = {}) => actionMain(runner, inputs, options),
    aws(args, env) {
      return run(AWS, ["sts", "get-caller-identity", "--endpoint-url", STS_URL, "--output", "json", ...args], {
        AWS_CONFIG_FILE: join(runner.dir, "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE: join(runner.dir, "aws-credentials"),
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_PAGER: "",
        ...env,
      });
    },
    runWithInput: (command, args, env, input) => runWithInput(runner.dir, command, args, env, input),
  };
  return runner;
}

async function actionMain(
  runner: ClientRunner,
  inputs: Record<string, string>,
  options: { noToken?: boolean; env?: Record<string, string> },
): Promise<Step> {
  const files = {
    env: runner.runnerFile("env"),
    output: runner.runnerFile("output"),
    state: runner.runnerFile("state"),
  };
  const env: Record<string, string> = {
    GITHUB_ACTIONS: "true",
    RUNNER_DEBUG: "1",
    GITHUB_ENV: files.env,
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    "INPUT_BROKER-URL": BROKER_URL,
    INPUT_AUDIENCE: "ci-credential-broker",
    INPUT_ROLE: "",
    INPUT_DURATION: "",
    INPUT_REGION: "",
    "INPUT_OUTPUT-MODE": "env",
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  Object.assign(env, options.env);
  if (options.noToken !== true) {
    env.ACTIONS_ID_TOKEN_REQUEST_URL = runner.actions.requestUrl;
    env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = runner.actions.requestToken;
  }
  const result = await runNode(BUNDLE.main, [], env);
  return {
    result,
    env: readFileSync(files.env, "utf8"),
    output: readFileSync(files.output, "utf8"),
    state: readFileSync(files.state, "utf8"),
    files,
  };
}

function runWithInput(
  cwd: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  input: string,
): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Lines of stdout up to the first that is not a mask: what the runner has seen before anything could leak. */
export function leadingMasks(stdout: string): string[] {
  const lines = stdout.split("\n");
  const end = lines.findIndex((line) => !line.startsWith("::add-mask::"));
  return lines.slice(0, end === -1 ? lines.length : end);
}

/** What the Action's `credential-process` output should say for these extra arguments. */
export function credentialProcessLine(extra: string): string {
  return `"${process.execPath}" "${BUNDLE.cli}" credential-process --broker-url ${BROKER_URL}/v1/credentials --github-actions --audience ci-credential-broker ${extra}`.trim();
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}
