// `npm start` as a newcomer uses it: start it, run the commands it prints (from another directory too), read the
// reason of a denial on its one line per exchange, try the kill switch and shadow mode without editing a file, and
// use a sandbox AWS profile with the real AWS CLI. Runs in Node (it drives wrangler dev as a child process), offline.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AWS, repoRoot, run, useSandboxSession } from "./sandbox-session.ts";

const session = useSandboxSession();

describe("npm start", () => {
  it("starts quietly and offline: no warning, no error, no network lookup", () => {
    expect(session.startOutput).toContain("Ready.");
    // The policy beside the Worker entry it runs (test/fixtures/worker.ts), and the examples derived from it.
    expect(session.startOutput).toContain("policy test/fixtures/policies/index.ts");
    expect(session.startOutput).toContain(
      "for acme/app on refs/heads/main (push; rule acme-app-main-deploy, role deploy)",
    );
    expect(session.startOutput).not.toMatch(/warn|error|ENOTFOUND|getaddrinfo|cloudflare\.com|Scheduled Workers/i);
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
    expect(session.credentialsCommand).toMatch(/^curl .*\/v1\/credentials/);
    const { stdout } = await session.shell(session.credentialsCommand, session.elsewhere);
    const credentials = JSON.parse(stdout) as Record<string, unknown>;
    expect(credentials.error, `${stdout}\n${session.output}`).toBeUndefined();
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

    const whoami = await session.shell(`${session.credentialsCommand} | npm run -s whoami`);
    expect(whoami.stdout.trim()).toMatch(/^arn:aws:sts::111122223333:assumed-role\/acme-app-deploy\/gh-/);
  });

  it("npm run smoke passes against the sigv4 sandbox", async () => {
    const smoke = await session.shell(
      "SMOKE_ID_TOKEN=$(npm run -s token) npm run -s smoke -- --broker http://127.0.0.1:8787 --audience ci-credential-broker --token-env SMOKE_ID_TOKEN --sts-endpoint http://127.0.0.1:8788/sts --expect-arn :assumed-role/acme-app-deploy/",
    );
    expect(smoke.stdout).toMatch(/^smoke: ok: arn:aws:sts::111122223333:assumed-role\/acme-app-deploy\//);
  });

  it("grants the pull-request role, and shows a denial's reason on one line with the request id the caller got", async () => {
    const withClaims = (claims: string) =>
      session.credentialsCommand.replace("run -s token)", `run -s token -- ${claims})`);
    const pr = await session.shell(
      `${withClaims("--claim event_name=pull_request --claim ref=refs/pull/1/merge")} | npm run -s whoami`,
    );
    expect(pr.stdout.trim()).toMatch(/assumed-role\/acme-app-readonly\//);

    const denied = JSON.parse(
      (await session.shell(withClaims("--claim runner_environment=self-hosted"), session.elsewhere)).stdout,
    ) as Record<string, unknown>;
    expect(denied.error).toBe("forbidden");
    const line = await session.printed(new RegExp(`request_id=${String(denied.request_id)}$`));
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d 403 forbidden reason=guard_self_hosted_runner rule=acme-app-main-deploy repository=acme\/app request_id=/,
    );
    // The issuance lines read the same way.
    expect(session.output).toMatch(
      /^\d\d:\d\d:\d\d 200 issued rule=acme-app-main-deploy role=deploy repository=acme\/app request_id=\S+$/m,
    );
  });

  it("mints and exchanges in one step with curl alone", async () => {
    const { stdout } = await session.shell("curl -sS -X POST http://127.0.0.1:8788/exchange", session.elsewhere);
    expect((JSON.parse(stdout) as Record<string, unknown>).AccessKeyId).toMatch(/^ASIA/);
    const pr = await session.exchange({ claims: { ref: "refs/pull/1/merge" }, role: "deploy" });
    expect([pr.status, pr.body.error]).toEqual([403, "forbidden"]);
    expect((await session.exchange({ claimz: {} })).status).toBe(400);
  });

  it("explains a sandbox token, decoded without verification, and says so", async () => {
    // The policy the sandbox runs here (the test policy), not the operator's.
    const { stdout } = await session.shell(
      "npm run -s token -- --claim runner_environment=self-hosted | npm run -s policy:explain -- - --policy test/fixtures/policies/index.ts",
    );
    const lines = stdout.split("\n");
    expect(lines[0]).toMatch(/^NOTE .*WITHOUT verifying/);
    expect(lines[1]).toBe("DENY   guard_self_hosted_runner (rule acme-app-main-deploy)");
  });

  it("kill switch: set, listed, denies with its reason, lifted, all with npm run sandbox", async () => {
    await session.shell("npm run -s sandbox -- kill repository Acme/App INC-1");
    expect((await session.shell("npm run -s sandbox -- kills")).stdout.trim()).toBe("killswitch:repo:acme/app");
    // An isolate trusts its last lookup for KILL_SWITCH_CACHE_MS (5 s): poll until the key bites.
    let answer = await session.exchange();
    for (let i = 0; i < 40 && answer.status !== 403; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      answer = await session.exchange();
    }
    expect([answer.status, answer.body.error]).toEqual([403, "forbidden"]);
    expect(await session.printed(new RegExp(`request_id=${String(answer.body.request_id)}$`))).toContain(
      "reason=kill_switch_repository",
    );

    await session.shell("npm run -s sandbox -- lift repository acme/app");
    expect((await session.shell("npm run -s sandbox -- kills")).stdout.trim()).toBe("no kill-switch key is set");
    for (let i = 0; i < 40 && answer.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      answer = await session.exchange();
    }
    expect(answer.status).toBe(200);
    await expect(session.shell("npm run -s sandbox -- kill repo acme/app")).rejects.toMatchObject({ code: 2 });
  });

  it("shadow mode (npm start -- --shadow): a request the candidate decides differently prints both decisions", async () => {
    const release = await session.exchange({ claims: { ref: "refs/heads/release/1.2" } });
    expect(release.status).toBe(403);
    const line = await session.printed(new RegExp(`shadow .*request_id=${String(release.body.request_id)}$`));
    expect(line).toMatch(
      / shadow live=deny:no_matching_rule candidate=allow:acme-app-main-deploy:deploy repository=acme\/app ref=refs\/heads\/release\/1\.2 /,
    );
  });

  it("the printed sandbox AWS profile works with the real AWS CLI in any region; a request signed for another region is refused as on AWS", async () => {
    const config = join(session.elsewhere, "aws-config");
    writeFileSync(config, (await session.shell("npm run -s sandbox -- profile --region eu-west-1")).stdout);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: join(session.elsewhere, "none"),
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
      cwd: session.elsewhere,
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
        { cwd: session.elsewhere, env },
      ),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining("SignatureDoesNotMatch"),
    });
  });
});
