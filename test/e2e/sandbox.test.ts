// `npm start` as a newcomer uses it: start it, run the command it prints, check the credentials with
// the sandbox STS. Runs in Node (it drives wrangler dev as a child process), fully offline.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
let child: ChildProcess;
let output = "";
let credentialsCommand = "";

async function shell(command: string): Promise<{ stdout: string; stderr: string }> {
  return run("bash", ["-o", "pipefail", "-c", command], { cwd: repoRoot, env: { ...process.env, PATH: `${repoRoot}node_modules/.bin:${process.env.PATH ?? ""}` } });
}

beforeAll(async () => {
  child = spawn("npm", ["start"], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, FORCE_COLOR: "0" } });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (output.includes("Ctrl-C stops both.")) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
    child.on("exit", (code) => {
      clearInterval(timer);
      reject(new Error(`npm start exited (${code}):\n${output}`));
    });
  });
  const line = output.split("\n").find((l) => l.trim().startsWith("curl ") && l.includes("/v1/credentials"));
  credentialsCommand = line?.trim() ?? "";
});

afterAll(() => {
  if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
});

describe("npm start", () => {
  it("prints one command that returns credential_process JSON, and the credentials pass GetCallerIdentity", async () => {
    expect(credentialsCommand).toMatch(/^curl .*\/v1\/credentials/);
    const { stdout } = await shell(credentialsCommand);
    const credentials = JSON.parse(stdout) as Record<string, unknown>;
    expect(credentials.error, `${stdout}\n${output}`).toBeUndefined();
    expect(Object.keys(credentials).sort()).toEqual(["AccessKeyId", "Expiration", "SecretAccessKey", "SessionToken", "Version"]);
    expect(credentials.Version).toBe(1);
    expect(credentials.AccessKeyId).toMatch(/^ASIA/);
    const expiresInSeconds = (Date.parse(String(credentials.Expiration)) - Date.now()) / 1000;
    expect(expiresInSeconds).toBeGreaterThan(800);
    expect(expiresInSeconds).toBeLessThanOrEqual(900);

    const whoami = await shell(`${credentialsCommand} | npm run -s whoami`);
    expect(whoami.stdout.trim()).toMatch(/^arn:aws:sts::111122223333:assumed-role\/acme-app-deploy\/gh-/);
  });

  it("grants the pull-request role and denies what the policy does not allow", async () => {
    const prCommand = credentialsCommand.replace("npm run -s token", "npm run -s token -- --claim event_name=pull_request --claim ref=refs/pull/1/merge");
    const pr = await shell(`${prCommand} | npm run -s whoami`);
    expect(pr.stdout.trim()).toMatch(/assumed-role\/acme-app-readonly\//);

    const deniedCommand = credentialsCommand.replace("npm run -s token", "npm run -s token -- --claim repository=acme/other");
    const denied = JSON.parse((await shell(deniedCommand)).stdout) as Record<string, unknown>;
    expect(denied.error).toBe("forbidden");
  });
});

describe("npm start: GitHub facts (docs/github-facts.md)", () => {
  const credentials = async () => JSON.parse((await shell(credentialsCommand)).stdout) as Record<string, unknown>;
  const github = (args: string) => shell(`npm run -s sandbox -- github ${args}`);

  it("denies deploy after a failed dependency scan, and allows it again once the scan passes and the change is approved", async () => {
    await github("check dependency-review failure");
    // The denial reasons (context_check_failed, context_pr_not_approved) are asserted by test/github/ inside workerd.
    expect((await credentials()).error).toBe("forbidden");

    await github("check dependency-review success");
    await github("unapprove");
    expect((await credentials()).error).toBe("forbidden");

    const approved = await github("approve");
    expect(approved.stdout).toContain("approved");
    const allowed = await credentials();
    expect(allowed.error, JSON.stringify(allowed)).toBeUndefined();
    expect(allowed.AccessKeyId).toMatch(/^ASIA/);
  });

  it("a GitHub outage answers 503 upstream_unavailable, never credentials", async () => {
    await github("outage on");
    try {
      expect((await credentials()).error).toBe("upstream_unavailable");
    } finally {
      await github("outage off");
    }
  });
});
