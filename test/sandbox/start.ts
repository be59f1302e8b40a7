// `npm start`: the broker under wrangler dev on 127.0.0.1:8787 plus the sandbox (issuer + STS) on 127.0.0.1:8788.
// Works offline: the sandbox generates the broker's AWS keys and its own signing key at start.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SANDBOX_BROKER_PORT, SANDBOX_PORT, SANDBOX_STARTUP_TIMEOUT_MS } from "../../src/constants.ts";
import { generateSigningKeySecret } from "../support/signing-keys.ts";
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
// --web-identity: STS_AUTH = "web-identity"; the sandbox STS trusts the broker's JWKS and no AWS key (docs/deployment.md).
const webIdentity = process.argv.includes("--web-identity");
const brokerOrigin = `http://${HOST}:${SANDBOX_BROKER_PORT}`;
const keys = generateBrokerKeys();
const signingKey = await generateSigningKeySecret("ES256");
const sandbox = await startSandbox({
  host: HOST,
  port: SANDBOX_PORT,
  brokerAccessKeyId: keys.accessKeyId,
  brokerSecretAccessKey: keys.secretAccessKey,
  ...(lifetimeArg === undefined ? {} : { credentialLifetimeSeconds: Number(lifetimeArg) }),
  ...(webIdentity ? { brokerIssuerUrl: brokerOrigin } : {}),
});
console.log(`sandbox: OIDC issuer and STS emulator on ${sandbox.origin}`);

// wrangler dev reads secrets for `--env sandbox` from .dev.vars.sandbox (git-ignored); fresh keys every start.
// Every secret the sandbox environment lists is written (so wrangler has nothing to warn about); in web-identity mode the
// sandbox STS knows no AWS key, so the AWS_* pair could not sign anything it accepts.
const devVars = [`AWS_ACCESS_KEY_ID=${keys.accessKeyId}`, `AWS_SECRET_ACCESS_KEY=${keys.secretAccessKey}`, `BROKER_SIGNING_KEY='${signingKey}'`, ...(webIdentity ? ["STS_AUTH=web-identity"] : [])];
writeFileSync(new URL("../../.dev.vars.sandbox", import.meta.url), `${devVars.join("\n")}\n`, { mode: 0o600 });

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

const brokerUrl = brokerOrigin;
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
console.log(`broker: ${brokerUrl} (wrangler dev --env sandbox, policy from policies/index.ts, STS_AUTH ${webIdentity ? "web-identity" : "sigv4"})
${webIdentity ? `OpenID provider: ${brokerUrl}/.well-known/openid-configuration (the sandbox STS verifies the broker's tokens with its JWKS)
` : ""}
Ready. Get 15-minute credentials for acme/app on refs/heads/main (push):

  ${credentialsCommand}

Check them with the sandbox STS (GetCallerIdentity):  ${credentialsCommand} | npm run -s whoami
Other claims: npm run -s token -- --claim event_name=pull_request --claim ref=refs/pull/1/merge
Ctrl-C stops both.`);
