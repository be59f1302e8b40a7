// `npm start -- --web-identity` as a newcomer runs it: the broker is the OpenID provider the sandbox STS trusts; the
// printed command returns credentials that pass GetCallerIdentity; and `npm run smoke` passes against it. Offline.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROKER_URL as BROKER, repoRoot, startSandbox, STS_URL, type RunningSandbox } from "./client-harness.ts";

const run = promisify(execFile);
let sandbox: RunningSandbox;
let output = "";
let credentialsCommand = "";

async function shell(command: string): Promise<{ stdout: string; stderr: string }> {
  return run("bash", ["-o", "pipefail", "-c", command], {
    cwd: repoRoot,
    env: { ...process.env, PATH: `${repoRoot}node_modules/.bin:${process.env.PATH ?? ""}` },
  });
}

beforeAll(async () => {
  sandbox = await startSandbox(["--web-identity"]);
  output = sandbox.output();
  credentialsCommand =
    output
      .split("\n")
      .find((l) => l.trim().startsWith("curl ") && l.includes("/v1/credentials"))
      ?.trim() ?? "";
});

afterAll(async () => {
  await sandbox.stop();
});

describe("npm start -- --web-identity", () => {
  it("serves the discovery document and JWKS the sandbox STS verifies against", async () => {
    expect(output).toContain("STS_AUTH web-identity");
    const discovery = (await (await fetch(`${BROKER}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(discovery).toMatchObject({ issuer: BROKER, jwks_uri: `${BROKER}/.well-known/jwks.json` });
    const jwks = (await (await fetch(`${BROKER}/.well-known/jwks.json`)).json()) as {
      keys: Array<Record<string, unknown>>;
    };
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
    const smoke = `SMOKE_ID_TOKEN=$(npm run -s token) npm run -s smoke -- --broker ${BROKER} --audience ci-credential-broker --token-env SMOKE_ID_TOKEN --sts-endpoint ${STS_URL}`;
    const ok = await shell(`${smoke} --expect-arn :assumed-role/acme-app-deploy/`);
    expect(ok.stdout).toMatch(/^smoke: ok: arn:aws:sts::111122223333:assumed-role\/acme-app-deploy\//);
    const refused = await shell(`${smoke} --role publish`).then(
      () => "exit 0",
      (error: { code?: number; stderr?: string }) => `exit ${error.code}: ${error.stderr ?? ""}`,
    );
    expect(refused).toMatch(/^exit 1: smoke: FAIL broker answered HTTP 403 forbidden/);
  });
});
