// `npm start -- --web-identity` as a newcomer runs it: the broker is the OpenID provider the sandbox STS trusts; the
// printed command returns credentials that pass GetCallerIdentity; and `npm run smoke` passes against it. Offline.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const BROKER = "http://127.0.0.1:8787";
let child: ChildProcess;
let output = "";
let credentialsCommand = "";

async function shell(command: string): Promise<{ stdout: string; stderr: string }> {
  return run("bash", ["-o", "pipefail", "-c", command], { cwd: repoRoot, env: { ...process.env, PATH: `${repoRoot}node_modules/.bin:${process.env.PATH ?? ""}` } });
}

beforeAll(async () => {
  child = spawn("npm", ["start", "--", "--web-identity"], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, FORCE_COLOR: "0" } });
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
      reject(new Error(`npm start -- --web-identity exited (${code}):\n${output}`));
    });
  });
  credentialsCommand = output.split("\n").find((l) => l.trim().startsWith("curl ") && l.includes("/v1/credentials"))?.trim() ?? "";
});

afterAll(() => {
  if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
});

describe("npm start -- --web-identity", () => {
  it("serves the discovery document and JWKS the sandbox STS verifies against", async () => {
    expect(output).toContain("STS_AUTH web-identity");
    const discovery = (await (await fetch(`${BROKER}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({ issuer: BROKER, jwks_uri: `${BROKER}/.well-known/jwks.json` });
    const jwks = (await (await fetch(`${BROKER}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty("d");
  });

  it("the printed command returns credentials that pass GetCallerIdentity", async () => {
    const { stdout } = await shell(credentialsCommand);
    const credentials = JSON.parse(stdout) as Record<string, unknown>;
    expect(credentials.error, `${stdout}\n${output}`).toBeUndefined();
    expect(credentials.AccessKeyId).toMatch(/^ASIA/);
    const whoami = await shell(`${credentialsCommand} | npm run -s whoami`);
    expect(whoami.stdout.trim()).toMatch(/^arn:aws:sts::111122223333:assumed-role\/acme-app-deploy\/gh-/);
  });

  it("npm run smoke passes against it (and fails on a role the policy does not grant)", async () => {
    const smoke = `SMOKE_ID_TOKEN=$(npm run -s token) npm run -s smoke -- --broker ${BROKER} --audience ci-credential-broker --token-env SMOKE_ID_TOKEN --sts-endpoint http://127.0.0.1:8788/sts`;
    const ok = await shell(`${smoke} --expect-arn :assumed-role/acme-app-deploy/`);
    expect(ok.stdout).toMatch(/^smoke: ok: arn:aws:sts::111122223333:assumed-role\/acme-app-deploy\//);
    const refused = await shell(`${smoke} --role publish`).then(
      () => "exit 0",
      (error: { code?: number; stderr?: string }) => `exit ${error.code}: ${error.stderr ?? ""}`,
    );
    expect(refused).toMatch(/^exit 1: smoke: FAIL broker answered HTTP 403 forbidden/);
  });
});
