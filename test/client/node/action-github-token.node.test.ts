// The Action's main and post steps with `github-token-name`, run as shipped (the committed bundle) against the fake
// broker and GitHub: the token masked before anything else is printed, its outputs, the job's token folder, the
// post step's revocation, retries and error exits.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeServices, type FakeServices } from "./fake-services.ts";
import { BUNDLE, runNode, type Result } from "./run.ts";

let services: FakeServices;
let dir: string;
let runnerTemp: string;

beforeAll(async () => {
  services = await startFakeServices();
  dir = mkdtempSync(join(tmpdir(), "ci-credentials-node-"));
});

afterAll(async () => {
  await services?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

let count = 0;
beforeEach(() => {
  // Each test is a new job: its own RUNNER_TEMP.
  runnerTemp = join(dir, `runner-temp-${++count}`);
  services.scripted.length = 0;
  services.lifetimeMs = 3_600_000;
});

function runnerFile(name: string): string {
  const path = join(dir, `${name}-${++count}`);
  writeFileSync(path, "");
  return path;
}

interface Step {
  result: Result;
  output: string;
  env: string;
}

function runnerEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    GITHUB_ACTIONS: "true",
    RUNNER_TEMP: runnerTemp,
    ACTIONS_ID_TOKEN_REQUEST_URL: services.requestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: services.requestToken,
    ...extra,
  };
}

async function actionMain(inputs: Record<string, string>, extra: Record<string, string> = {}): Promise<Step> {
  const files = { env: runnerFile("env"), output: runnerFile("output"), state: runnerFile("state") };
  const env: Record<string, string> = {
    ...runnerEnv(extra),
    GITHUB_ENV: files.env,
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    "INPUT_BROKER-URL": services.origin,
    INPUT_AUDIENCE: "ci-credential-broker",
    INPUT_ROLE: "",
    INPUT_DURATION: "",
    INPUT_REGION: "",
    "INPUT_OUTPUT-MODE": "env",
    "INPUT_GITHUB-TOKEN-NAME": "",
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const result = await runNode(BUNDLE.main, [], env);
  return { result, output: readFileSync(files.output, "utf8"), env: readFileSync(files.env, "utf8") };
}

/** The value of one `name<<delimiter` entry of a runner file. */
function entry(file: string, name: string): string | undefined {
  return new RegExp(`^${name}<<(ghadelimiter_[0-9a-f-]{36})\\n([\\s\\S]*?)\\n\\1$`, "m").exec(file)?.[2];
}

describe("the Action's main step with github-token-name", () => {
  it("masks the token before any other line, even with step debug on, and sets its outputs; no AWS call", async () => {
    const step = await actionMain({ "github-token-name": "homebrew-tap" }, { RUNNER_DEBUG: "1" });
    expect(step.result.code, step.result.stdout).toBe(0);
    const token = services.minted.at(-1) as string;
    const lines = step.result.stdout.split("\n");
    // The OIDC token's mask, then the installation token's: nothing else first.
    expect(lines[0]).toBe(`::add-mask::${services.oidcTokens.at(-1)}`);
    expect(lines[1]).toBe(`::add-mask::${token}`);
    expect(lines.slice(2).join("\n")).not.toContain(token);
    expect(lines.some((line) => line.startsWith("::debug::"))).toBe(true);
    expect(step.result.stdout).toContain(
      "GitHub token homebrew-tap: acme/homebrew-tap (contents: write, pull_requests: write, metadata: read)",
    );
    expect(step.result.stderr).toBe("");
    expect(entry(step.output, "github-token")).toBe(token);
    expect(Date.parse(entry(step.output, "github-token-expires-at") ?? "")).toBeGreaterThan(Date.now());
    expect(entry(step.output, "git-credential-helper")).toMatch(
      /^!".+" ".+\/cli\.mjs" git-credential --broker-url '.+\/v1\/github-token' --name homebrew-tap --github-actions --audience 'ci-credential-broker'$/,
    );
    expect(step.env).toBe("");
    expect(services.brokerCalls.filter((call) => call.route === "/v1/credentials")).toHaveLength(0);
  });

  it("keeps the token in a private folder of RUNNER_TEMP, listed for the post step", async () => {
    await actionMain({ "github-token-name": "homebrew-tap" });
    const folder = join(runnerTemp, "ci-credential-broker");
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    const files = readdirSync(folder).sort();
    expect(files).toEqual([`homebrew-tap-${files[0]?.slice("homebrew-tap-".length)}`, "minted.jsonl"]);
    for (const file of files) expect(statSync(join(folder, file)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(folder, "minted.jsonl"), "utf8")).toContain(services.minted.at(-1));
  });

  it("asks for AWS credentials too when an AWS input is given beside it, each exchange with its own OIDC token", async () => {
    const before = services.brokerCalls.length;
    const step = await actionMain({ "github-token-name": "private-deps", role: "deploy" });
    expect(step.result.code, step.result.stdout).toBe(0);
    const calls = services.brokerCalls.slice(before);
    expect(calls.map((call) => [call.route, call.status])).toEqual([
      ["/v1/github-token", 200],
      ["/v1/credentials", 200],
    ]);
    expect(new Set(calls.map((call) => call.jti)).size).toBe(2);
    expect(entry(step.env, "AWS_ACCESS_KEY_ID")).toBe("ASIAEXAMPLE0000001");
    expect(entry(step.output, "github-token")).toBe(services.minted.at(-1));
  });

  it("waits the broker's Retry-After on 429 and retries with a fresh OIDC token", async () => {
    services.scripted.push({ status: 429, retryAfterSeconds: 1 });
    const before = services.brokerCalls.length;
    const step = await actionMain({ "github-token-name": "homebrew-tap" });
    expect(step.result.code, step.result.stdout).toBe(0);
    const calls = services.brokerCalls.slice(before);
    expect(calls.map((call) => call.status)).toEqual([429, 200]);
    expect(calls[0]?.jti).not.toBe(calls[1]?.jti);
  });

  it("a denial exits 6 (forbidden) with an annotation, and nothing is minted or listed", async () => {
    const minted = services.minted.length;
    const step = await actionMain({ "github-token-name": "no-such-grant" });
    expect(step.result.code).toBe(6);
    expect(step.result.stdout).toMatch(/^::error title=ci-credentials%3A forbidden::forbidden \(exit 6\)/m);
    expect(step.output).toBe("");
    expect(services.minted.length).toBe(minted);
  });

  it("a grant name that is no name is a usage error (exit 2) before any token is spent", async () => {
    const calls = services.brokerCalls.length;
    const step = await actionMain({ "github-token-name": "Homebrew Tap" });
    expect(step.result.code).toBe(2);
    expect(services.brokerCalls.length).toBe(calls);
  });
});

describe("the Action's post step", () => {
  it("revokes every token the job minted (DELETE /installation/token, 204), then the folder is gone", async () => {
    await actionMain({ "github-token-name": "homebrew-tap" });
    const token = services.minted.at(-1) as string;
    const post = await runNode(BUNDLE.post, [], runnerEnv());
    expect(post.code, post.stdout).toBe(0);
    expect(post.stdout).toBe("Revoked 1 GitHub token this job minted.\n");
    expect(services.revoked).toContain(token);
    expect(() => statSync(join(runnerTemp, "ci-credential-broker"))).toThrow();
    // Run again (a retried post step): nothing left to revoke, nothing printed.
    const again = await runNode(BUNDLE.post, [], runnerEnv());
    expect(again).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("a token that no longer works is counted, not an error; a revocation failure is a warning, never a failed job", async () => {
    await actionMain({ "github-token-name": "homebrew-tap" });
    const token = services.minted.at(-1) as string;
    await fetch(`${services.apiUrl}/installation/token`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}` },
    });
    const post = await runNode(BUNDLE.post, [], runnerEnv());
    expect(post.stdout).toBe("Revoked 0 GitHub tokens this job minted, 1 no longer valid.\n");

    await actionMain({ "github-token-name": "homebrew-tap" });
    const list = join(runnerTemp, "ci-credential-broker", "minted.jsonl");
    // The API base unreachable (a closed port): the token expires within the hour anyway.
    writeFileSync(list, readFileSync(list, "utf8").replace(services.apiUrl, "http://127.0.0.1:9/api/v3"));
    const failed = await runNode(BUNDLE.post, [], runnerEnv());
    expect(failed.code).toBe(0);
    expect(failed.stdout).toMatch(
      /^::warning title=ci-credentials%3A GitHub token not revoked::Revoked 0 GitHub tokens this job minted, 1 not revoked \(127\.0\.0\.1:9: no answer\)/,
    );
    expect(failed.stdout).not.toContain(services.minted.at(-1));
  });

  it("still empties the AWS variables the main step exported", async () => {
    const postEnv = runnerFile("post-env");
    const post = await runNode(
      BUNDLE.post,
      [],
      runnerEnv({ GITHUB_ENV: postEnv, STATE_exported: "AWS_ACCESS_KEY_ID" }),
    );
    expect(post.code).toBe(0);
    expect(entry(readFileSync(postEnv, "utf8"), "AWS_ACCESS_KEY_ID")).toBe("");
  });
});
