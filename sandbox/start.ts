// `npm start`: the broker under wrangler dev on 127.0.0.1:8787 plus the sandbox (issuer + STS) on 127.0.0.1:8788.
// Works offline: the sandbox generates the broker's AWS keys and its own signing key at start, and wrangler is told
// not to fetch the `Request.cf` placeholder from Cloudflare. Prints one line per exchange (log-view.ts).
// docs/sandbox.md.
import { spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { SANDBOX_PORT } from "../src/cli/constants.ts";
import { SANDBOX_BROKER_PORT, SANDBOX_STARTUP_TIMEOUT_MS } from "./constants.ts";
import { generateSigningKeySecret } from "./fakes/signing-keys.ts";
import { generateAppKey } from "./fakes/github-app-key.ts";
import { githubClaims } from "./fakes/fake-issuer.ts";
import { bannerLines } from "./banner.ts";
import { generateBrokerKeys } from "./keys.ts";
import { startSandboxAnalytics } from "./local-analytics.ts";
import { createLogView } from "./log-view.ts";
import { SANDBOX_HOST, sandboxPaths } from "./paths.ts";
import { loadSandboxPolicy } from "./policy-source.ts";
import { portProblem } from "./ports.ts";
import { startSandbox } from "./server.ts";
import { parseStartArgs, portInUseMessage, START_USAGE, wranglerDevArgs, type StartOptions } from "./start-args.ts";

let options: StartOptions;
try {
  options = parseStartArgs(process.argv.slice(2));
} catch (error) {
  console.error(`npm start: ${(error as Error).message}\n${START_USAGE}`);
  process.exit(2);
}

// Both ports free before anything starts: a second `npm start` gets one line saying which port and what to do.
const portInUse = await portProblem(SANDBOX_HOST, [SANDBOX_BROKER_PORT, SANDBOX_PORT]);
if (portInUse !== undefined) {
  console.error(portInUse);
  process.exit(1);
}

const paths = sandboxPaths();
// The project's end-to-end tests run the test policy's Worker (test/fixtures/worker.ts); a user runs policies/.
const workerEntry =
  process.env.SANDBOX_WORKER_ENTRY === undefined || process.env.SANDBOX_WORKER_ENTRY === ""
    ? undefined
    : process.env.SANDBOX_WORKER_ENTRY;
const brokerUrl = `http://${SANDBOX_HOST}:${SANDBOX_BROKER_PORT}`;
const sandboxOrigin = `http://${SANDBOX_HOST}:${SANDBOX_PORT}`;
// The policy the broker will run, compiled here too: the sandbox's default token and the examples below come from it.
const { jti: _jti, ...issuerDefaults } = githubClaims();
const policy = await loadSandboxPolicy(
  paths.root,
  workerEntry,
  { issuerUrl: sandboxOrigin, stsAuth: options.webIdentity ? "web-identity" : "sigv4" },
  issuerDefaults,
);
const keys = generateBrokerKeys();
// --web-identity: STS_AUTH = "web-identity"; the sandbox STS trusts the broker's JWKS and no AWS key
// (docs/deployment.md).
const signingKey = await generateSigningKeySecret("ES256");
// The sandbox GitHub App's key: new every start, like the issuer's; the fake GitHub API verifies App JWTs with it.
const appKey = await generateAppKey();
/** GITHUB_APP_ID of [env.sandbox.vars] in wrangler.toml. */
const SANDBOX_GITHUB_APP_ID = "1";
// The sandbox token App (GitHub token grants): another App, another key, as in production.
const tokenAppKey = await generateAppKey();
/** GITHUB_TOKEN_APP_ID of [env.sandbox.vars] in wrangler.toml. */
const SANDBOX_GITHUB_TOKEN_APP_ID = "2";
// The local Analytics Engine: data points from the broker's log lines (relay below), served on the sandbox port.
const analytics = startSandboxAnalytics({ origin: sandboxOrigin, print: (line) => console.log(line), now: Date.now });
const sandbox = await startSandbox({
  analytics,
  githubAppId: SANDBOX_GITHUB_APP_ID,
  githubAppPublicKey: appKey.publicKey,
  githubTokenAppId: SANDBOX_GITHUB_TOKEN_APP_ID,
  githubTokenAppPublicKey: tokenAppKey.publicKey,
  defaultClaims: policy.examples.defaultClaims,
  facts: policy.examples.facts,
  host: SANDBOX_HOST,
  port: SANDBOX_PORT,
  brokerAccessKeyId: keys.accessKeyId,
  brokerSecretAccessKey: keys.secretAccessKey,
  brokerUrl,
  ...(options.webIdentity ? { brokerIssuerUrl: brokerUrl } : {}),
  ...(options.credentialLifetimeSeconds === undefined
    ? {}
    : { credentialLifetimeSeconds: options.credentialLifetimeSeconds }),
}).catch((error: NodeJS.ErrnoException) => {
  // Taken between the check above and now: the same one line.
  if (error.code !== "EADDRINUSE") throw error;
  console.error(portInUseMessage(SANDBOX_HOST, SANDBOX_PORT));
  process.exit(1);
});
console.log(`sandbox: OIDC issuer, STS emulator and GitHub API (${sandbox.origin}/github) on ${sandbox.origin}`);
console.log(analytics.status);

// wrangler dev reads secrets for `--env sandbox` from .dev.vars.sandbox (git-ignored); fresh keys every start.
// Every secret the sandbox environment lists is written (so wrangler has nothing to warn about); in web-identity mode
// the
// sandbox STS knows no AWS key, so the AWS_* pair could not sign anything it accepts.
const devVars = [
  `AWS_ACCESS_KEY_ID=${keys.accessKeyId}`,
  `AWS_SECRET_ACCESS_KEY=${keys.secretAccessKey}`,
  `BROKER_SIGNING_KEY='${signingKey}'`,
  `GITHUB_APP_PRIVATE_KEY="${appKey.pkcs1Pem.trim().replaceAll("\n", "\\n")}"`,
  `GITHUB_TOKEN_APP_PRIVATE_KEY="${tokenAppKey.pkcs1Pem.trim().replaceAll("\n", "\\n")}"`,
  ...(options.webIdentity ? ["STS_AUTH=web-identity"] : []),
];
writeFileSync(paths.devVars, `${devVars.join("\n")}\n`, { mode: 0o600 });

// wrangler prefers secrets from the process environment: drop the developer's own AWS_* variables so the
// sandbox broker signs with the sandbox keys, never with real credentials.
// CLOUDFLARE_CF_FETCH_ENABLED=false: miniflare's switch (read in its setupCf) for the `Request.cf` object: a local
// placeholder instead of a fetch from workers.cloudflare.com, so the start makes no network call.
const brokerEnv: NodeJS.ProcessEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};
for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) delete brokerEnv[name];

// Fresh local KV and Durable Object state every start (the issuer's key is new each time too). A fixed place, so
// `npm run sandbox -- kill ...` can write the running broker's kill-switch keys.
rmSync(paths.state, { recursive: true, force: true });

const broker = spawn(
  process.execPath,
  [
    paths.wranglerBin,
    ...wranglerDevArgs(options, {
      host: SANDBOX_HOST,
      port: SANDBOX_BROKER_PORT,
      persistTo: paths.state,
      ...(workerEntry === undefined ? {} : { entry: workerEntry }),
    }),
  ],
  { cwd: paths.root, stdio: ["ignore", "pipe", "pipe"], env: brokerEnv },
);
const view = createLogView({ verbose: options.verbose, now: () => new Date() });
function relay(stream: Readable | null, write: (line: string) => void): void {
  if (stream === null) return;
  createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
    analytics.capture(line);
    const shown = view(line);
    if (shown !== undefined) write(shown);
  });
}
relay(broker.stdout, (line) => console.log(line));
relay(broker.stderr, (line) => console.error(line));

let stopping = false;
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  broker.kill("SIGTERM");
  void sandbox.close().finally(() => {
    analytics.close();
    rmSync(paths.state, { recursive: true, force: true });
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

// Commands that work from any directory: npm scripts run only inside the project, so name it with --prefix.
const banner = bannerLines(policy.examples, {
  npm: `npm --prefix '${paths.root}' run -s`,
  brokerUrl,
  sandboxOrigin: sandbox.origin,
});
console.log(`broker: ${brokerUrl} (wrangler dev --env sandbox, policy ${policy.file}${options.shadow ? ", shadow mode on: the candidate policy" : ""}, STS_AUTH ${options.webIdentity ? "web-identity" : "sigv4"})
${
  options.webIdentity
    ? `OpenID provider: ${brokerUrl}/.well-known/openid-configuration (the sandbox STS verifies the broker's tokens with its JWKS)
`
    : ""
}
${banner.lines.join("\n")}
One line per exchange below${options.verbose ? " (--verbose: full log lines)" : "; npm start -- --verbose shows the full log lines"}. Ctrl-C stops both.`);
