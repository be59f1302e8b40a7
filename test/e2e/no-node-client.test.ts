// The client path without Node (docs/clients.md, "Without Node"), run as the page shows it: the GitLab job's variables
// and
// script (curl, then AWS CLI v2's export-credentials through a credential_process profile) and the python3 / jq
// scripts,
// in `sh -e`, against `npm start`, with the real curl and the real AWS CLI v2. The commands come from the page itself.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  awsCliV2,
  BROKER_URL,
  mintSandboxToken,
  repoRoot,
  run,
  startSandbox,
  STS_URL,
  type Result,
  type RunningSandbox,
} from "./client-harness.ts";
import { gitlabJob, markedBlocks } from "./doc-snippets.ts";

const PAGE = "docs/clients.md";
const ROLE_ARN = /^arn:aws:sts::111122223333:assumed-role\/acme-app-deploy\//;
/** What the generic scripts' environment provides besides the token and the broker URL (the page says so). */
const REGION = { AWS_DEFAULT_REGION: "eu-west-1" };

let sandbox: RunningSandbox;
let dir: string;
let bin: string;
let curlLog: string;

beforeAll(async () => {
  const aws = await awsCliV2();
  dir = mkdtempSync(join(tmpdir(), "ci-credentials-no-node-"));
  bin = join(dir, "bin");
  mkdirSync(bin);
  mkdirSync(join(dir, "home"));
  curlLog = join(dir, "curl-calls");
  // Two stand-ins on PATH, both passing through to the real program. `aws`: the sandbox plays AWS STS (AWS CLI 2.9
  // reads
  // no AWS_ENDPOINT_URL_STS), so `aws sts …` gets --endpoint-url, the sandbox's endpoint for the job's region.
  // `curl`: counts its runs, i.e. exchanges attempted.
  writeFileSync(
    join(bin, "aws"),
    `#!/bin/sh\nif [ "$1" = sts ]; then exec '${aws}' --endpoint-url "$STS_URL/$AWS_DEFAULT_REGION" "$@"; fi\nexec '${aws}' "$@"\n`,
  );
  writeFileSync(join(bin, "curl"), `#!/bin/sh\necho run >> '${curlLog}'\nexec /usr/bin/curl "$@"\n`);
  for (const name of ["aws", "curl"]) chmodSync(join(bin, name), 0o755);
  sandbox = await startSandbox([]);
});

afterAll(async () => {
  await sandbox?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs a script as GitLab's shell runs a job's: `sh -e`, the job's variables in the environment, no AWS credentials
 * anywhere.
 */
async function runScript(script: string, variables: Record<string, string>): Promise<Result & { curlRuns: number }> {
  writeFileSync(curlLog, "");
  const result = await run("sh", ["-e", "-c", script], {
    ...variables,
    PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: join(dir, "home"),
    STS_URL,
    AWS_EC2_METADATA_DISABLED: "true",
  });
  return {
    ...result,
    curlRuns: readFileSync(curlLog, "utf8")
      .split("\n")
      .filter((line) => line !== "").length,
  };
}

/** The broker's verdict on a token now: exchanging it again shows whether the script spent it. */
async function exchangeAgain(token: string): Promise<string> {
  const response = await fetch(`${BROKER_URL}/v1/credentials`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
  });
  return ((await response.json()) as { error?: string }).error ?? `HTTP ${response.status}`;
}

function callerArn(result: Result): string {
  return (JSON.parse(result.stdout) as { Arn: string }).Arn;
}

const blocks = markedBlocks(repoRoot, PAGE);
function block(name: string): string {
  const text = blocks.get(name);
  if (text === undefined) throw new Error(`${PAGE} has no block marked ${name}`);
  return text;
}

describe(`${PAGE}: without Node`, () => {
  const job = gitlabJob(block("no-node-gitlab"), "deploy");
  /**
   * The job's variables as GitLab would set them, the broker URL pointed at the sandbox (a variable's job, not the
   * script's).
   */
  const jobVariables = (token: string, overrides: Record<string, string> = {}) => ({
    ...job.variables,
    BROKER_URL,
    BROKER_ID_TOKEN: token,
    ...overrides,
  });

  it("the page shows the job it promises: the token's audience, the broker URL and the request as variables, curl --fail", () => {
    expect(job.variables).toMatchObject({
      BROKER_URL: expect.stringMatching(/^https:\/\//),
      BROKER_REQUEST: expect.any(String),
    });
    expect(JSON.parse(job.variables.BROKER_REQUEST as string)).toEqual({ role: "deploy", duration_seconds: 3600 });
    expect(block("no-node-gitlab")).toMatch(/id_tokens:\n {4}BROKER_ID_TOKEN:\n {6}aud: (?!ci-credential-broker\b)\S+/);
    for (const name of ["no-node-gitlab", "no-node-python"]) expect(block(name).match(/curl --fail/g)).toHaveLength(1);
  });

  it("GitLab job, AWS CLI v2: one exchange, exported once; aws sees the deploy role; the token is spent", async () => {
    const token = await mintSandboxToken();
    const result = await runScript(job.script.join("\n"), jobVariables(token));
    expect(result.code, result.stderr).toBe(0);
    expect(callerArn(result)).toMatch(ROLE_ARN);
    expect(result.curlRuns).toBe(1);
    expect(await exchangeAgain(token)).toBe("token_reused");
  });

  it("GitLab job with the 900 s default: the AWS CLI refreshes at once, the second run meets token_reused, the first credentials hold", async () => {
    const token = await mintSandboxToken();
    const result = await runScript(
      job.script.join("\n"),
      jobVariables(token, { BROKER_REQUEST: '{"role": "deploy"}' }),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(callerArn(result)).toMatch(ROLE_ARN);
    expect(result.curlRuns).toBe(2);
  });

  it("GitLab job with a token for another audience: curl --fail stops the job before any aws command runs", async () => {
    const token = await mintSandboxToken({ aud: "sts.amazonaws.com" });
    const result = await runScript(job.script.join("\n"), jobVariables(token));
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("401");
    expect(result.curlRuns).toBe(1);
  });

  it("python3: one exchange, the three variables, aws sees the deploy role", async () => {
    const token = await mintSandboxToken();
    const result = await runScript(block("no-node-python"), { ...REGION, BROKER_URL, BROKER_ID_TOKEN: token });
    expect(result.code, result.stderr).toBe(0);
    expect(callerArn(result)).toMatch(ROLE_ARN);
    expect(result.curlRuns).toBe(1);
    expect(await exchangeAgain(token)).toBe("token_reused");
  });

  it("jq: the python3 script with the page's jq line instead", async () => {
    const jqLine = block("no-node-jq").trim();
    const script = block("no-node-python");
    const [pythonLine] = script.split("\n").filter((line) => line.startsWith("vars="));
    expect(jqLine.startsWith("vars=")).toBe(true);
    const token = await mintSandboxToken();
    const result = await runScript(script.replace(pythonLine as string, jqLine), {
      ...REGION,
      BROKER_URL,
      BROKER_ID_TOKEN: token,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(callerArn(result)).toMatch(ROLE_ARN);
    expect(result.curlRuns).toBe(1);
  });

  it("a refused exchange stops the python3 script at the curl line (no variables, no aws call)", async () => {
    const result = await runScript(block("no-node-python"), {
      ...REGION,
      BROKER_URL,
      BROKER_ID_TOKEN: await mintSandboxToken({ repository: "acme/other", sub: "repo:acme/other:ref:refs/heads/main" }),
    });
    expect(result.code).toBe(22);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("403");
  });
});
