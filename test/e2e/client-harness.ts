// Set-up for the client's end-to-end tests (Node): `npm start` with short-lived credentials, a fake GitHub Actions
// token
// endpoint that mints sandbox tokens, and helpers to run the committed bundle and the AWS CLI as child processes.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { SANDBOX_PORT } from "../../src/cli/constants.ts";
import { SANDBOX_BROKER_PORT } from "../../sandbox/constants.ts";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const BROKER_URL = `http://127.0.0.1:${SANDBOX_BROKER_PORT}`;
export const SANDBOX_URL = `http://127.0.0.1:${SANDBOX_PORT}`;
export const STS_URL = `${SANDBOX_URL}/sts`;
export const BUNDLE = {
  main: `${repoRoot}client-dist/action-main.mjs`,
  post: `${repoRoot}client-dist/action-post.mjs`,
  cli: `${repoRoot}client-dist/cli.mjs`,
};

// --- npm start -------------------------------------------------------------------------------

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Waits until nothing listens on the sandbox ports (an earlier e2e file's sandbox may still be shutting down). */
async function waitForFreePorts(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await portOpen(SANDBOX_BROKER_PORT)) || (await portOpen(SANDBOX_PORT))) {
    if (Date.now() > deadline)
      throw new Error(`ports ${SANDBOX_BROKER_PORT}/${SANDBOX_PORT} still in use after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export interface RunningSandbox {
  output(): string;
  stop(): Promise<void>;
}

/** `npm start -- <args>` in its own process group, resolved once it prints its ready line. */
export async function startSandbox(args: string[]): Promise<RunningSandbox> {
  await waitForFreePorts(30_000);
  let output = "";
  const child: ChildProcess = spawn("npm", ["start", "--", ...args], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    env: { ...process.env, FORCE_COLOR: "0", SANDBOX_WORKER_ENTRY: "test/fixtures/worker.ts" },
  });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (output.includes("Ctrl-C stops both.")) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`npm start exited:\n${output}`));
    });
  });
  return {
    output: () => output,
    stop: async () => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
      await exited;
      await waitForFreePorts(15_000);
    },
  };
}

// --- Fake GitHub Actions token endpoint ------------------------------------------------------

export interface FakeActionsEndpoint {
  /** ACTIONS_ID_TOKEN_REQUEST_URL (carries `?api-version=2.0`, as the runner's does). */
  requestUrl: string;
  /** ACTIONS_ID_TOKEN_REQUEST_TOKEN: the endpoint refuses any other. */
  requestToken: string;
  /** Audiences asked for, in order (one per minted token). */
  audiences: string[];
  /** Tokens handed out, in order. */
  tokens: string[];
  /** Claim overrides for the next tokens (e.g. a repository the policy does not know). */
  claims: Record<string, string>;
  close(): Promise<void>;
}

async function readAll(message: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function listen(
  handler: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
): Promise<{ server: Server; origin: string }> {
  const server = createServer((request, response) => {
    handler(request, response).catch((error: unknown) => {
      response.statusCode = 500;
      response.end(String(error));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      resolve({ server, origin: `http://127.0.0.1:${port}` });
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/**
 * GET /_apis/oidc/token?api-version=2.0&audience=<aud> with `Authorization: bearer <request token>`, like the runner's
 * endpoint: mints a sandbox token (POST /token on the sandbox) whose `aud` is the audience asked for.
 */
export async function startActionsEndpoint(): Promise<FakeActionsEndpoint> {
  const requestToken = `request-token-${crypto.randomUUID()}`;
  const audiences: string[] = [];
  const tokens: string[] = [];
  const state = { claims: {} as Record<string, string> };
  const { server, origin } = await listen(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const send = (status: number, body: unknown) => {
      response.statusCode = status;
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify(body));
    };
    if (request.method !== "GET" || url.pathname !== "/_apis/oidc/token") return send(404, { message: "not found" });
    if (request.headers.authorization !== `bearer ${requestToken}`) return send(401, { message: "bad request token" });
    if (url.searchParams.get("api-version") !== "2.0") return send(400, { message: "api-version missing" });
    const audience = url.searchParams.get("audience");
    if (audience === null || audience === "") return send(400, { message: "audience missing" });
    const minted = await fetch(`${SANDBOX_URL}/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...state.claims, aud: audience }),
    });
    const body = (await minted.json()) as { token?: string };
    if (!minted.ok || typeof body.token !== "string") return send(502, { message: "sandbox did not mint" });
    audiences.push(audience);
    tokens.push(body.token);
    return send(200, { count: body.token.length, value: body.token });
  });
  return {
    requestUrl: `${origin}/_apis/oidc/token?api-version=2.0`,
    requestToken,
    audiences,
    tokens,
    get claims() {
      return state.claims;
    },
    set claims(value) {
      state.claims = value;
    },
    close: () => close(server),
  };
}

/**
 * A sandbox token (POST /token), as GitLab's `id_tokens` or another CI would hand a job one; `claims` override the
 * defaults.
 */
export async function mintSandboxToken(claims: Record<string, string> = {}): Promise<string> {
  const minted = await fetch(`${SANDBOX_URL}/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(claims),
  });
  const body = (await minted.json()) as { token?: string };
  if (!minted.ok || typeof body.token !== "string")
    throw new Error(`the sandbox did not mint a token: HTTP ${minted.status}`);
  return body.token;
}

/** A server that answers every request with one fixed response: stands in for a wrong broker-url. */
export async function startFixedServer(
  status: number,
  body: string,
): Promise<{ origin: string; close(): Promise<void> }> {
  const { server, origin } = await listen(async (request, response) => {
    await readAll(request);
    response.statusCode = status;
    response.setHeader("content-type", "application/json");
    response.end(body);
  });
  return { origin, close: () => close(server) };
}

// --- Child processes -------------------------------------------------------------------------

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with exactly `env` (plus PATH and HOME): no developer variable leaks in, no real AWS credentials. */
export function run(command: string, args: string[], env: Record<string, string | undefined>): Promise<Result> {
  const clean: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" };
  for (const [name, value] of Object.entries(env)) if (value !== undefined) clean[name] = value;
  return new Promise((resolve) => {
    execFile(command, args, { cwd: repoRoot, env: clean, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `node <file>` with the Node running the tests (node24, as `runs.using: node24`). */
export function runNode(file: string, args: string[], env: Record<string, string | undefined>): Promise<Result> {
  return run(process.execPath, [file, ...args], env);
}

/**
 * An AWS CLI v2 (`aws configure export-credentials` needs 2.9 or later): $AWS_CLI, the `aws` on PATH, or Debian's
 * /usr/bin/aws (package awscli, 2.9.19 on Debian 12), whichever is v2 first. A pip-installed v1 may come first on PATH.
 */
export async function awsCliV2(): Promise<string> {
  const seen: string[] = [];
  for (const candidate of [process.env.AWS_CLI, "aws", "/usr/bin/aws"]) {
    if (candidate === undefined) continue;
    const version = await run(candidate, ["--version"], {});
    const text = `${version.stdout}${version.stderr}`.trim();
    if (version.code === 0 && /^aws-cli\/2\.(9|[1-9]\d)\./.test(text)) return candidate;
    seen.push(`${candidate}: ${version.code === 0 ? text : "not found"}`);
  }
  throw new Error(
    `the AWS CLI v2 (2.9 or later) is required (Debian: apt-get install awscli; .ci/run installs it). Found: ${seen.join("; ")}`,
  );
}
