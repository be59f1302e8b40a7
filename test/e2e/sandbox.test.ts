// `npm start` as a newcomer uses it: start it, run the commands it prints (from another directory too), read the
// reason of a denial on its one line per exchange, try the kill switch and shadow mode without editing a file, and
// use a sandbox AWS profile with the real AWS CLI. Runs in Node (it drives wrangler dev as a child process), offline.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { markedBlocks } from "./doc-snippets.ts";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const AWS = process.env.AWS_CLI ?? "aws";
/** Elsewhere than the project: npm scripts do not run here, the printed commands must. */
const elsewhere = mkdtempSync(join(tmpdir(), "ccb-elsewhere-"));
let child: ChildProcess;
let output = "";
let startOutput = "";
let credentialsCommand = "";

async function shell(command: string, cwd = repoRoot): Promise<{ stdout: string; stderr: string }> {
  return run("bash", ["-o", "pipefail", "-c", command], {
    cwd,
    env: { ...process.env, PATH: `${repoRoot}node_modules/.bin:${process.env.PATH ?? ""}` },
  });
}

/** The broker's answer to the sandbox's mint-and-exchange endpoint. */
async function exchange(body: unknown = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch("http://127.0.0.1:8788/exchange", { method: "POST", body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Waits until `npm start` has printed a line matching `pattern` (exchange lines arrive just after the answer). */
async function printed(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = output.split("\n").find((l) => pattern.test(l));
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error(`npm start printed no line matching ${pattern}:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  child = spawn("npm", ["start", "--", "--shadow"], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    env: { ...process.env, FORCE_COLOR: "0", SANDBOX_WORKER_ENTRY: "test/fixtures/worker.ts" },
  });
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
  startOutput = output;
  const line = output.split("\n").find((l) => l.trim().startsWith("curl ") && l.includes("/v1/credentials"));
  credentialsCommand = line?.trim() ?? "";
});

afterAll(() => {
  if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
  rmSync(elsewhere, { recursive: true, force: true });
});

describe("npm start", () => {
  it("starts quietly and offline: no warning, no error, no network lookup", () => {
    expect(startOutput).toContain("Ready.");
    // The policy beside the Worker entry it runs (test/fixtures/worker.ts), and the examples derived from it.
    expect(startOutput).toContain("policy test/fixtures/policies/index.ts");
    expect(startOutput).toContain("for acme/app on refs/heads/main (push; rule acme-app-main-deploy, role deploy)");
    expect(startOutput).not.toMatch(/warn|error|ENOTFOUND|getaddrinfo|cloudflare\.com|Scheduled Workers/i);
  });

  it("a second npm start says in one line which port is taken and what to do, and exits 1", async () => {
    const second = await run("npm", ["start"], {
      cwd: repoRoot,
      env: { ...process.env, FORCE_COLOR: "0", SANDBOX_WORKER_ENTRY: "test/fixtures/worker.ts" },
    }).then(
      () => ({ code: 0, stdout: "", stderr: "" }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(second.code).toBe(1);
    expect(second.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^npm start: port 8787 on 127\.0\.0\.1 is in use.* `ss -ltnp 'sport = :8787'`/),
    ]);
    expect(`${second.stdout}${second.stderr}`).not.toMatch(/EADDRINUSE|^\s+at /m);
  });

  it("prints a command that returns credential_process JSON from any directory, and the credentials pass GetCallerIdentity", async () => {
    expect(credentialsCommand).toMatch(/^curl .*\/v1\/credentials/);
    const { stdout } = await shell(credentialsCommand, elsewhere);
    const credentials = JSON.parse(stdout) as Record<string, unknown>;
    expect(credentials.error, `${stdout}\n${output}`).toBeUndefined();
    expect(Object.keys(credentials).sort()).toEqual([
      "AccessKeyId",
      "Expiration",
      "SecretAccessKey",
      "SessionToken",
      "Version",
    ]);
    expect(credentials.Version).toBe(1);
    expect(credentials.AccessKeyId).toMatch(/^ASIA/);
    const expiresInSeconds = (Date.parse(String(credentials.Expiration)) - Date.now()) / 1000;
    expect(expiresInSeconds).toBeGreaterThan(800);
    expect(expiresInSeconds).toBeLessThanOrEqual(900);

    const whoami = await shell(`${credentialsCommand} | npm run -s whoami`);
    expect(whoami.stdout.trim()).toMatch(/^arn:aws:sts::111122223333:assumed-role\/acme-app-deploy\/gh-/);
  });

  it("npm run smoke passes against the sigv4 sandbox", async () => {
    const smoke = await shell(
      "SMOKE_ID_TOKEN=$(npm run -s token) npm run -s smoke -- --broker http://127.0.0.1:8787 --audience ci-credential-broker --token-env SMOKE_ID_TOKEN --sts-endpoint http://127.0.0.1:8788/sts --expect-arn :assumed-role/acme-app-deploy/",
    );
    expect(smoke.stdout).toMatch(/^smoke: ok: arn:aws:sts::111122223333:assumed-role\/acme-app-deploy\//);
  });

  it("grants the pull-request role, and shows a denial's reason on one line with the request id the caller got", async () => {
    const withClaims = (claims: string) => credentialsCommand.replace("run -s token)", `run -s token -- ${claims})`);
    const pr = await shell(
      `${withClaims("--claim event_name=pull_request --claim ref=refs/pull/1/merge")} | npm run -s whoami`,
    );
    expect(pr.stdout.trim()).toMatch(/assumed-role\/acme-app-readonly\//);

    const denied = JSON.parse(
      (await shell(withClaims("--claim runner_environment=self-hosted"), elsewhere)).stdout,
    ) as Record<string, unknown>;
    expect(denied.error).toBe("forbidden");
    const line = await printed(new RegExp(`request_id=${String(denied.request_id)}$`));
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d 403 forbidden reason=guard_self_hosted_runner rule=acme-app-main-deploy repository=acme\/app request_id=/,
    );
    // The issuance lines read the same way.
    expect(output).toMatch(
      /^\d\d:\d\d:\d\d 200 issued rule=acme-app-main-deploy role=deploy repository=acme\/app request_id=\S+$/m,
    );
  });

  it("mints and exchanges in one step with curl alone", async () => {
    const { stdout } = await shell("curl -sS -X POST http://127.0.0.1:8788/exchange", elsewhere);
    expect((JSON.parse(stdout) as Record<string, unknown>).AccessKeyId).toMatch(/^ASIA/);
    const pr = await exchange({ claims: { ref: "refs/pull/1/merge" }, role: "deploy" });
    expect([pr.status, pr.body.error]).toEqual([403, "forbidden"]);
    expect((await exchange({ claimz: {} })).status).toBe(400);
  });

  it("explains a sandbox token, decoded without verification, and says so", async () => {
    // The policy the sandbox runs here (the test policy), not the operator's.
    const { stdout } = await shell(
      "npm run -s token -- --claim runner_environment=self-hosted | npm run -s policy:explain -- - --policy test/fixtures/policies/index.ts",
    );
    const lines = stdout.split("\n");
    expect(lines[0]).toMatch(/^NOTE .*WITHOUT verifying/);
    expect(lines[1]).toBe("DENY   guard_self_hosted_runner (rule acme-app-main-deploy)");
  });

  it("kill switch: set, listed, denies with its reason, lifted, all with npm run sandbox", async () => {
    await shell("npm run -s sandbox -- kill repository Acme/App INC-1");
    expect((await shell("npm run -s sandbox -- kills")).stdout.trim()).toBe("killswitch:repo:acme/app");
    // An isolate trusts its last lookup for KILL_SWITCH_CACHE_MS (5 s): poll until the key bites.
    let answer = await exchange();
    for (let i = 0; i < 40 && answer.status !== 403; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      answer = await exchange();
    }
    expect([answer.status, answer.body.error]).toEqual([403, "forbidden"]);
    expect(await printed(new RegExp(`request_id=${String(answer.body.request_id)}$`))).toContain(
      "reason=kill_switch_repository",
    );

    await shell("npm run -s sandbox -- lift repository acme/app");
    expect((await shell("npm run -s sandbox -- kills")).stdout.trim()).toBe("no kill-switch key is set");
    for (let i = 0; i < 40 && answer.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      answer = await exchange();
    }
    expect(answer.status).toBe(200);
    await expect(shell("npm run -s sandbox -- kill repo acme/app")).rejects.toMatchObject({ code: 2 });
  });

  it("shadow mode (npm start -- --shadow): a request the candidate decides differently prints both decisions", async () => {
    const release = await exchange({ claims: { ref: "refs/heads/release/1.2" } });
    expect(release.status).toBe(403);
    const line = await printed(new RegExp(`shadow .*request_id=${String(release.body.request_id)}$`));
    expect(line).toMatch(
      / shadow live=deny:no_matching_rule candidate=allow:acme-app-main-deploy:deploy repository=acme\/app ref=refs\/heads\/release\/1\.2 /,
    );
  });

  it("the printed sandbox AWS profile works with the real AWS CLI in any region; a request signed for another region is refused as on AWS", async () => {
    const config = join(elsewhere, "aws-config");
    writeFileSync(config, (await shell("npm run -s sandbox -- profile --region eu-west-1")).stdout);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: join(elsewhere, "none"),
    };
    for (const name of [
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "AWS_PROFILE",
      "AWS_REGION",
      "AWS_DEFAULT_REGION",
    ])
      delete env[name];
    const { stdout } = await run(AWS, ["sts", "get-caller-identity", "--profile", "ccb-sandbox", "--output", "json"], {
      cwd: elsewhere,
      env,
    });
    expect((JSON.parse(stdout) as { Arn: string }).Arn).toMatch(
      /^arn:aws:sts::111122223333:assumed-role\/acme-app-deploy\/gh-/,
    );
    // Signed for eu-west-1, sent to the global endpoint (us-east-1).
    await expect(
      run(
        AWS,
        ["sts", "get-caller-identity", "--profile", "ccb-sandbox", "--endpoint-url", "http://127.0.0.1:8788/sts"],
        { cwd: elsewhere, env },
      ),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining("SignatureDoesNotMatch"),
    });
  });
});

describe("npm start: GitHub facts (docs/github-facts.md)", () => {
  const credentials = async () => JSON.parse((await shell(credentialsCommand)).stdout) as Record<string, unknown>;
  const github = (args: string) => shell(`npm run -s sandbox -- github ${args}`);

  it("denies deploy after a failed dependency scan, even with a forged check run, and allows it again once the scan passes and a writer approves", async () => {
    await github("scan failure");
    // The denial reasons (context_check_failed, context_approval_not_writer…) are asserted by test/github/ inside workerd.
    expect((await credentials()).error).toBe("forbidden");
    await github("check dependency-review success");
    expect((await credentials()).error).toBe("forbidden");

    await github("scan success");
    await github("unapprove");
    await github("approve --reader");
    expect((await credentials()).error).toBe("forbidden");

    const approved = await github("approve");
    expect(approved.stdout).toContain("approved");
    const allowed = await credentials();
    expect(allowed.error, JSON.stringify(allowed)).toBeUndefined();
    expect(allowed.AccessKeyId).toMatch(/^ASIA/);
  });

  it("the banner's GitHub facts command, run as printed from any directory, denies the next exchange", async () => {
    const hint =
      /^GitHub facts \(rule acme-app-main-deploy requires them; [^)]*\): (.+)$/m.exec(startOutput)?.[1] ?? "";
    expect(hint).toMatch(/ sandbox -- github scan failure$/);
    await shell(hint, elsewhere);
    expect((await credentials()).error).toBe("forbidden");
    await github("scan success");
    expect((await credentials()).AccessKeyId).toMatch(/^ASIA/);
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

describe("npm start: GitHub token grants (docs/github-tokens.md)", () => {
  const blocks = () => markedBlocks(repoRoot, "docs/github-tokens.md");

  it("the documented grant: a token of its repository only, revoked; the documented denial: 403 and exit 1", async () => {
    const granted = await shell((blocks().get("sandbox-github-token-grant") as string).trim());
    expect(granted.stdout).toMatch(/POST \/v1\/github-token homebrew-tap: 200 token ghs_/);
    expect(granted.stdout).toMatch(/\/repos\/acme\/homebrew-tap: 200\n/);
    expect(granted.stdout).toMatch(/\/repos\/acme\/app: 404 \(not granted\)/);
    expect(granted.stdout).toMatch(/installation\/token: 204/);
    expect(granted.stdout).toMatch(/: 401 \(after revocation\)/);
    await expect(shell((blocks().get("sandbox-github-token-denial") as string).trim())).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringContaining(': 403 {"error":"forbidden"'),
    });
    expect(await printed(/reason=grant_not_granted .*kind=github_token/)).toContain("repository=acme/app");
    expect(
      await printed(/200 issued rule=acme-app-release-homebrew-tap kind=github_token grant=homebrew-tap/),
    ).toContain("repository=acme/app");
  });
});

describe("npm start: the local Analytics Engine (docs/sandbox.md)", () => {
  /** npm run analytics as a newcomer has it: no Cloudflare account in the environment. */
  const offline = (command: string) => {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${repoRoot}node_modules/.bin:${process.env.PATH ?? ""}` };
    for (const name of ["CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "AUDIT_DATASET", "ALERT_RULES"])
      delete env[name];
    return run("bash", ["-o", "pipefail", "-c", command], { cwd: repoRoot, env });
  };

  it("starts with local analytics on", () => {
    expect(startOutput).toContain("local Analytics Engine (chdb): SQL API http://127.0.0.1:8788/client/v4/accounts/");
  });

  it("npm run analytics reads the sandbox's own traffic back: denials, and one request by its id", async () => {
    let last = "";
    for (let i = 0; i < 6; i++) {
      const denied = await exchange({ claims: { runner_environment: "self-hosted" } });
      expect(denied.status).toBe(403);
      last = String(denied.body.request_id);
    }
    await printed(new RegExp(`request_id=${last}`));
    const denials = await offline("npm run -s analytics -- denials --since 10m --format csv");
    expect(denials.stdout).toMatch(/^aws,denied,forbidden,guard_self_hosted_runner,acme-app-main-deploy,\d+\r?$/m);
    expect(denials.stderr).toContain("the local Analytics Engine of npm start");
    const request = await offline(`npm run -s analytics -- request ${last}`);
    expect(request.stdout).toMatch(new RegExp(`request_id +${last}`));
    expect(request.stdout).toMatch(/reason +guard_self_hosted_runner/);
  });

  it("npm run sandbox -- alerts run: the denials alert fires after the burst; npm start prints the webhook delivery", async () => {
    const { stdout } = await offline(`npm run -s sandbox -- alerts run --rules '{"denials":{"max":5}}'`);
    expect(stdout).toContain("firing: denials");
    expect(stdout).toContain("ci-credential-broker alert: denials");
    await printed(/alert webhook delivery:/);
    expect((await offline(`npm run -s sandbox -- alerts run --rules '{"denials":{"max":5}}'`)).stdout).toContain(
      "suppressed (incident already open): denials",
    );
  });
});
