// `npm start`: the broker under wrangler dev on 127.0.0.1:8787 plus the sandbox (issuer + STS) on 127.0.0.1:8788.
// Works offline: the sandbox generates the broker's AWS keys and its own signing key at start.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SANDBOX_BROKER_PORT, SANDBOX_PORT, SANDBOX_STARTUP_TIMEOUT_MS } from "../../src/constants.ts";
import { generateAppKey } from "../support/github-app-key.ts";
import { generateBrokerKeys } from "./keys.ts";
import { startSandbox } from "./server.ts";

const HOST = "127.0.0.1";
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const wranglerBin = fileURLToPath(new URL("../../node_modules/wrangler/bin/wrangler.js", import.meta.url));

function argValue(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}

const lifetimeArg = argValue("--credential-lifetime");
const keys = generateBrokerKeys();
// The sandbox GitHub App's key: new every start, like the issuer's; the fake GitHub API verifies App JWTs with it.
const appKey = await generateAppKey();
/** GITHUB_APP_ID of [env.sandbox.vars] in wrangler.toml. */
const SANDBOX_GITHUB_APP_ID = "1";
const sandbox = await startSandbox({
  githubAppId: SANDBOX_GITHUB_APP_ID,
  githubAppPublicKey: appKey.publicKey,
  host: HOST,
  port: SANDBOX_PORT,
  brokerAccessKeyId: keys.accessKeyId,
  brokerSecretAccessKey: keys.secretAccessKey,
  ...(lifetimeArg === undefined ? {} : { credentialLifetimeSeconds: Number(lifetimeArg) }),
});
console.log(`sandbox: OIDC issuer, STS emulator and GitHub API (${sandbox.origin}/github) on ${sandbox.origin}`);

// wrangler dev reads secrets for `--env sandbox` from .dev.vars.sandbox (git-ignored); fresh keys every start.
writeFileSync(new URL("../../.dev.vars.sandbox", import.meta.url), `AWS_ACCESS_KEY_ID=${keys.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${keys.secretAccessKey}\nGITHUB_APP_PRIVATE_KEY="${appKey.pkcs1Pem.trim().replaceAll("\n", "\\n")}"\n`, { mode: 0o600 });

// wrangler prefers secrets from the process environment: drop the developer's own AWS_* variables so the
// sandbox broker signs with the sandbox keys, never with real credentials.
const brokerEnv: NodeJS.ProcessEnv = { ...process.env, WRANGLER_SEND_METRICS: "false" };
for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) delete brokerEnv[name];

const stateDir = mkdtempSync(join(tmpdir(), "ci-credential-broker-sandbox-"));

const broker = spawn(
  process.execPath,
  [
    wranglerBin,
    "dev",
    "--env",
    "sandbox",
    "--ip",
    HOST,
    "--port",
    String(SANDBOX_BROKER_PORT),
    "--show-interactive-dev-session=false",
    // Fresh local KV and Durable Object state every start: the sandbox issuer's key is new each time too.
    "--persist-to",
    stateDir,
    "--log-level",
    "warn",
  ],
  { cwd: repoRoot, stdio: ["ignore", "inherit", "inherit"], env: brokerEnv },
);

let stopping = false;
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  broker.kill("SIGTERM");
  void sandbox.close().finally(() => {
    rmSync(stateDir, { recursive: true, force: true });
    process.exit(code);
  });
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
broker.on("exit", (code) => {
  if (!stopping) {
    console.error(`wrangler dev exited (${code ?? "signal"})`);
    stop(code ?? 1);
  }
});

const brokerUrl = `http://${HOST}:${SANDBOX_BROKER_PORT}`;
const deadline = Date.now() + SANDBOX_STARTUP_TIMEOUT_MS;
for (;;) {
  try {
    const response = await fetch(`${brokerUrl}/healthz`);
    if (response.ok) break;
  } catch {
    // not listening yet
  }
  if (Date.now() > deadline) {
    console.error(`broker did not answer ${brokerUrl}/healthz within ${SANDBOX_STARTUP_TIMEOUT_MS / 1000} s`);
    stop(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
}

const credentialsCommand = `curl -sS -X POST ${brokerUrl}/v1/credentials -H "Authorization: Bearer $(npm run -s token)"`;
console.log(`broker: ${brokerUrl} (wrangler dev --env sandbox, policy from policies/index.ts)

Ready. Get 15-minute credentials for acme/app on refs/heads/main (push):

  ${credentialsCommand}

Check them with the sandbox STS (GetCallerIdentity):  ${credentialsCommand} | npm run -s whoami
Other claims: npm run -s token -- --claim event_name=pull_request --claim ref=refs/pull/1/merge
GitHub facts (deploy requires a passing dependency-review and one approval): npm run -s sandbox -- github check dependency-review failure
Ctrl-C stops both.`);
