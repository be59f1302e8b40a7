// The CLI end to end, as shipped (the committed bundle), against the real broker under wrangler dev and the sandbox:
// credential-process and env (the GitLab shape) with their failures, and the real AWS CLI running the Action's
// credential_process line until the keys expire and it fetches new ones.
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BROKER_URL, BUNDLE, mintSandboxToken, run, runNode, startFixedServer, STS_URL } from "./client-harness.ts";
import { AWS, credentialProcessLine, LIFETIME_SECONDS, ROLE_ARN, useClientRunner } from "./client-runner.ts";

const runner = useClientRunner();

describe("CLI (committed bundle)", () => {
  const actionsEnv = () => ({
    ACTIONS_ID_TOKEN_REQUEST_URL: runner.actions.requestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: runner.actions.requestToken,
  });

  it("credential-process --debug: stdout is exactly one credential_process JSON line; stderr has progress and no secret", async () => {
    const before = runner.actions.tokens.length;
    const result = await runNode(
      BUNDLE.cli,
      ["credential-process", "--broker-url", BROKER_URL, "--github-actions", "--debug"],
      actionsEnv(),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.endsWith("\n")).toBe(true);
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
    const credentials = JSON.parse(result.stdout) as Record<string, string | number>;
    expect(Object.keys(credentials)).toEqual([
      "Version",
      "AccessKeyId",
      "SecretAccessKey",
      "SessionToken",
      "Expiration",
    ]);
    expect(credentials.Version).toBe(1);
    expect(result.stderr).toMatch(/ci-credentials: attempt 1: HTTP 200, request id [0-9a-f-]{36}/);
    for (const secret of [credentials.SecretAccessKey, credentials.SessionToken, runner.actions.tokens[before]])
      expect(result.stderr).not.toContain(String(secret));
  });

  it("credential-process under GitHub Actions: ::add-mask:: for all three values on stderr, the JSON alone on stdout", async () => {
    const result = await runNode(BUNDLE.cli, ["credential-process", "--broker-url", BROKER_URL], {
      ...actionsEnv(),
      GITHUB_ACTIONS: "true",
    });
    expect(result.code, result.stderr).toBe(0);
    const credentials = JSON.parse(result.stdout) as Record<string, string>;
    expect(result.stderr.split("\n").filter((line) => line !== "")).toEqual([
      `::add-mask::${credentials.AccessKeyId}`,
      `::add-mask::${credentials.SecretAccessKey}`,
      `::add-mask::${credentials.SessionToken}`,
    ]);
  });

  it("GitLab shape: a token in a variable, `env` output evaluated by a shell, then aws works; the same token again is token_reused (exit 11)", async () => {
    const token = await mintSandboxToken();
    const script = [
      "set -eu",
      `creds="$("${process.execPath}" "${BUNDLE.cli}" env --broker-url ${BROKER_URL} --token-env BROKER_ID_TOKEN --region us-east-1)"`,
      'eval "$creds"',
      `"${AWS}" sts get-caller-identity --endpoint-url ${STS_URL} --output json`,
    ].join("\n");
    const env = {
      BROKER_ID_TOKEN: token,
      AWS_CONFIG_FILE: join(runner.dir, "aws-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(runner.dir, "aws-credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
    };
    const first = await run("bash", ["-c", script], env);
    expect(first.code, first.stderr).toBe(0);
    expect((JSON.parse(first.stdout) as { Arn: string }).Arn).toMatch(ROLE_ARN);
    expect(first.stderr).toMatch(/ci-credentials: AccessKeyId ASIA\*{12}[A-Z0-9]{4}, expire /);

    const again = await runNode(BUNDLE.cli, ["env", "--broker-url", BROKER_URL, "--token-env", "BROKER_ID_TOKEN"], env);
    expect(again.code, again.stderr).toBe(11);
    expect(again.stdout).toBe("");
    expect(again.stderr).toContain("token_reused (exit 11)");
    expect(again.stderr).toContain("id_tokens");
  });

  it("broker unreachable: retries until the deadline, then exit 8 naming the cause", async () => {
    const closed = await startFixedServer(200, "");
    await closed.close(); // a port nobody listens on any more
    const started = Date.now();
    const result = await runNode(
      BUNDLE.cli,
      ["credential-process", "--broker-url", closed.origin, "--github-actions", "--deadline", "3"],
      actionsEnv(),
    );
    expect(result.code).toBe(8);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("broker_unreachable (exit 8)");
    expect(result.stderr).toContain("ECONNREFUSED");
    expect(result.stderr).toMatch(/Gave up after \d+ attempts?/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("usage errors exit 2 before any token is requested", async () => {
    const before = runner.actions.tokens.length;
    const result = await runNode(
      BUNDLE.cli,
      ["credential-process", "--broker-url", "http://broker.example", "--github-actions"],
      actionsEnv(),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("usage (exit 2)");
    expect(runner.actions.tokens.length).toBe(before);
  });
});

describe("AWS CLI with credential_process", () => {
  function profiles(log: string, command: string): string {
    // What a job writes: the Action's `credential-process` output as the profile's credential_process. The second
    // profile
    // wraps the same command to record what it printed, so the test sees which keys were issued and when they expire.
    const recorder = join(runner.dir, "recording-credential-process.sh");
    writeFileSync(
      recorder,
      `#!/bin/sh\nout="$(${command})" || exit $?\nprintf '%s\\n' "$out" >> '${log}'\nprintf '%s\\n' "$out"\n`,
    );
    chmodSync(recorder, 0o755);
    return `[profile ci]\nregion = us-east-1\ncredential_process = ${command}\n\n[profile ci-recorded]\nregion = us-east-1\ncredential_process = ${recorder}\n`;
  }

  interface Issued {
    AccessKeyId: string;
    SecretAccessKey: string;
    SessionToken: string;
    Expiration: string;
  }

  function issued(log: string): Issued[] {
    return readFileSync(log, "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Issued);
  }

  /** The access key the CLI signed with, from its --debug log (the Authorization header's Credential=). */
  function signingKey(stderr: string): string | undefined {
    return /Credential=(ASIA[A-Z0-9]{16})\//.exec(stderr)?.[1];
  }

  it("the Action's credential-process line in a profile: get-caller-identity names the assumed-role session; after the keys expire, the next call gets new ones", async () => {
    const step = await runner.actionMain({});
    expect(step.result.code, step.result.stdout).toBe(0);
    const command = /^credential-process<<(\S+)\n(.+)\n\1\n/m.exec(step.output)?.[2];
    expect(command).toBe(credentialProcessLine(""));
    const log = join(runner.dir, "issued.jsonl");
    writeFileSync(log, "");
    writeFileSync(join(runner.dir, "aws-config"), profiles(log, command as string));
    writeFileSync(join(runner.dir, "aws-credentials"), "");
    const env = {
      ACTIONS_ID_TOKEN_REQUEST_URL: runner.actions.requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: runner.actions.requestToken,
      GITHUB_ACTIONS: "true",
    };

    // The documented profile, as is.
    const plain = await runner.aws(["--profile", "ci"], env);
    expect(plain.code, plain.stderr).toBe(0);
    const identity = JSON.parse(plain.stdout) as { Arn: string; UserId: string; Account: string };
    const session = ROLE_ARN.exec(identity.Arn)?.[1];
    expect(session, identity.Arn).toBeDefined();
    expect(identity.UserId.endsWith(`:${session}`)).toBe(true);
    expect(identity.Account).toBe("111122223333");

    // First call through the recording profile.
    const first = await runner.aws(["--profile", "ci-recorded", "--debug"], env);
    expect(first.code, first.stderr.slice(-2000)).toBe(0);
    const firstIssued = issued(log);
    const firstKey = signingKey(first.stderr);
    const used = firstIssued.find((c) => c.AccessKeyId === firstKey);
    expect(used, `signed with ${firstKey}; issued ${firstIssued.map((c) => c.AccessKeyId).join(", ")}`).toBeDefined();
    const usedCredentials = used as Issued;
    const expiresAt = Date.parse(usedCredentials.Expiration);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(LIFETIME_SECONDS * 1000);

    // Let those keys expire, and check the sandbox STS really refuses them now.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt + 1500 - Date.now())));
    const stale = await runner.aws([], {
      AWS_ACCESS_KEY_ID: usedCredentials.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: usedCredentials.SecretAccessKey,
      AWS_SESSION_TOKEN: usedCredentials.SessionToken,
    });
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toContain("ExpiredToken");

    // The next call: the CLI runs credential_process again and signs with new, unexpired keys.
    const second = await runner.aws(["--profile", "ci-recorded", "--debug"], env);
    expect(second.code, second.stderr.slice(-2000)).toBe(0);
    expect(ROLE_ARN.test((JSON.parse(second.stdout) as { Arn: string }).Arn)).toBe(true);
    const secondIssued = issued(log).slice(firstIssued.length);
    expect(secondIssued.length).toBeGreaterThanOrEqual(1);
    const secondKey = signingKey(second.stderr);
    expect(secondKey).not.toBe(firstKey);
    const fresh = secondIssued.find((c) => c.AccessKeyId === secondKey);
    expect(fresh).toBeDefined();
    expect(Date.parse((fresh as Issued).Expiration)).toBeGreaterThan(Date.now());
    // Every run of the client minted its own token (the broker takes each once).
    expect(new Set(runner.actions.tokens).size).toBe(runner.actions.tokens.length);
  });
});
