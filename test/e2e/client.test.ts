// The CI client end to end, as shipped (the committed bundle), against the real broker under wrangler dev and the sandbox
// (`npm start -- --credential-lifetime 15`), with a fake GitHub Actions token endpoint and the real AWS CLI.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BROKER_URL,
  BUNDLE,
  mintSandboxToken,
  run,
  runNode,
  SANDBOX_URL,
  startActionsEndpoint,
  startFixedServer,
  startSandbox,
  STS_URL,
  type FakeActionsEndpoint,
  type Result,
  type RunningSandbox,
} from "./client-harness.ts";

/** Issued credentials live this long in the sandbox: short enough to watch them expire inside the test. */
const LIFETIME_SECONDS = 15;
const AWS = process.env.AWS_CLI ?? "aws";
const ROLE_ARN = /^arn:aws:sts::111122223333:assumed-role\/acme-app-deploy\/([\w+=,.@-]{2,64})$/;
const DELIMITER = "(ghadelimiter_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})";

let sandbox: RunningSandbox;
let actions: FakeActionsEndpoint;
let dir: string;

beforeAll(async () => {
  const version = await run(AWS, ["--version"], {});
  if (version.code !== 0)
    throw new Error(`the AWS CLI is required (Debian: apt-get install awscli; .ci/run installs it): ${version.stderr}`);
  sandbox = await startSandbox(["--credential-lifetime", String(LIFETIME_SECONDS)]);
  actions = await startActionsEndpoint();
  dir = mkdtempSync(join(tmpdir(), "ci-credentials-e2e-"));
});

afterAll(async () => {
  await actions?.close();
  await sandbox?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

let fileCount = 0;
/** A fresh empty file, as the runner creates GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE for each step. */
function runnerFile(name: string): string {
  const path = join(dir, `${name}-${++fileCount}`);
  writeFileSync(path, "");
  return path;
}

interface Step {
  result: Result;
  env: string;
  output: string;
  state: string;
  files: { env: string; output: string; state: string };
}

/** Runs the Action's main step as the runner would: INPUT_* variables, runner files, the token endpoint (unless `noToken`). */
async function actionMain(
  inputs: Record<string, string>,
  options: { noToken?: boolean; env?: Record<string, string> } = {},
): Promise<Step> {
  const files = { env: runnerFile("env"), output: runnerFile("output"), state: runnerFile("state") };
  const env: Record<string, string> = {
    GITHUB_ACTIONS: "true",
    RUNNER_DEBUG: "1",
    GITHUB_ENV: files.env,
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    "INPUT_BROKER-URL": BROKER_URL,
    INPUT_AUDIENCE: "ci-credential-broker",
    INPUT_ROLE: "",
    INPUT_DURATION: "",
    INPUT_REGION: "",
    "INPUT_OUTPUT-MODE": "env",
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  Object.assign(env, options.env);
  if (options.noToken !== true) {
    env.ACTIONS_ID_TOKEN_REQUEST_URL = actions.requestUrl;
    env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = actions.requestToken;
  }
  const result = await runNode(BUNDLE.main, [], env);
  return {
    result,
    env: readFileSync(files.env, "utf8"),
    output: readFileSync(files.output, "utf8"),
    state: readFileSync(files.state, "utf8"),
    files,
  };
}

/** The AWS CLI against the sandbox STS, with a throwaway config and no real credentials anywhere. */
function aws(args: string[], env: Record<string, string>): Promise<Result> {
  return run(AWS, ["sts", "get-caller-identity", "--endpoint-url", STS_URL, "--output", "json", ...args], {
    AWS_CONFIG_FILE: join(dir, "aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "aws-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_PAGER: "",
    ...env,
  });
}

/** Lines of stdout up to the first that is not a mask: what the runner has seen before anything could leak. */
function leadingMasks(stdout: string): string[] {
  const lines = stdout.split("\n");
  const end = lines.findIndex((line) => !line.startsWith("::add-mask::"));
  return lines.slice(0, end === -1 ? lines.length : end);
}

/** What the Action's `credential-process` output should say for these extra arguments. */
function credentialProcessLine(extra: string): string {
  return `"${process.execPath}" "${BUNDLE.cli}" credential-process --broker-url ${BROKER_URL}/v1/credentials --github-actions --audience ci-credential-broker ${extra}`.trim();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

describe("GitHub Action (committed bundle)", () => {
  it("env mode: masks first, exact GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE, credentials that work, post empties them", async () => {
    const tokensBefore = actions.tokens.length;
    const step = await actionMain({ role: "deploy", region: "us-east-1" });
    expect(step.result.code, step.result.stdout + step.result.stderr).toBe(0);

    // GITHUB_ENV, exactly: five heredoc entries sharing one random delimiter.
    const envPattern = new RegExp(
      `^AWS_ACCESS_KEY_ID<<${DELIMITER}\\n(ASIA[A-Z0-9]{16})\\n\\1\\n` +
        `AWS_SECRET_ACCESS_KEY<<\\1\\n([A-Za-z0-9+/]{40})\\n\\1\\n` +
        `AWS_SESSION_TOKEN<<\\1\\n([A-Za-z0-9+/=]{100,})\\n\\1\\n` +
        `AWS_REGION<<\\1\\nus-east-1\\n\\1\\n` +
        `AWS_DEFAULT_REGION<<\\1\\nus-east-1\\n\\1\\n$`,
    );
    const match = envPattern.exec(step.env);
    expect(match, step.env).not.toBeNull();
    const [, delimiter, accessKeyId, secret, sessionToken] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
    ];
    const expiration = new RegExp(
      `^aws-expiration<<${delimiter}\\n(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ)\\n`,
    ).exec(step.output)?.[1];
    expect(step.output).toBe(
      `aws-expiration<<${delimiter}\n${expiration}\n${delimiter}\n` +
        `credential-process<<${delimiter}\n${credentialProcessLine("--role deploy")}\n${delimiter}\n`,
    );
    expect(step.state).toBe(
      `exported<<${delimiter}\nAWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,AWS_SESSION_TOKEN,AWS_REGION,AWS_DEFAULT_REGION\n${delimiter}\n`,
    );

    // Stdout: only ::add-mask:: lines until the secret key and session token are masked; each secret printed only there.
    const stdout = step.result.stdout;
    const masks = leadingMasks(stdout);
    expect(masks).toContain(`::add-mask::${secret}`);
    expect(masks).toContain(`::add-mask::${sessionToken}`);
    const token = actions.tokens[tokensBefore] as string;
    expect(masks[0]).toBe(`::add-mask::${token}`);
    expect(masks.slice(-2)).toEqual([`::add-mask::${secret}`, `::add-mask::${sessionToken}`]);
    for (const value of [secret, sessionToken, token]) expect(count(stdout + step.result.stderr, value)).toBe(1);
    // Step debug is on (RUNNER_DEBUG=1): debug lines come, after the masks, with nothing secret in them.
    const rest = stdout.split("\n").slice(masks.length).join("\n");
    expect(rest).toMatch(
      /^::debug::attempt 1: OIDC token from the GitHub Actions token endpoint \(sha256 [0-9a-f]{16}\)/,
    );
    // The access key id is masked too (it names the account): its mask is out, and the summary shows it shortened.
    expect(masks).toContain(`::add-mask::${accessKeyId}`);
    expect(rest).toContain(`AccessKeyId ${accessKeyId.slice(0, 4)}`);
    expect(rest).not.toContain(accessKeyId);
    expect(actions.audiences.slice(tokensBefore)).toEqual(["ci-credential-broker"]);

    // The exported variables are credentials the sandbox STS accepts, for the deploy role.
    const identity = await aws([], {
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secret,
      AWS_SESSION_TOKEN: sessionToken,
    });
    expect(identity.code, identity.stderr).toBe(0);
    expect((JSON.parse(identity.stdout) as { Arn: string }).Arn).toMatch(ROLE_ARN);

    // Post: the runner hands the state back as STATE_exported; every variable is overwritten with "".
    const postEnv = runnerFile("post-env");
    const post = await runNode(BUNDLE.post, [], {
      GITHUB_ACTIONS: "true",
      GITHUB_ENV: postEnv,
      STATE_exported: "AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,AWS_SESSION_TOKEN,AWS_REGION,AWS_DEFAULT_REGION",
    });
    expect(post.code, post.stdout).toBe(0);
    const cleared = readFileSync(postEnv, "utf8");
    const postDelimiter = new RegExp(`^AWS_ACCESS_KEY_ID<<${DELIMITER}\\n`).exec(cleared)?.[1] as string;
    const D = postDelimiter;
    expect(cleared).toBe(
      `AWS_ACCESS_KEY_ID<<${D}\n\n${D}\nAWS_SECRET_ACCESS_KEY<<${D}\n\n${D}\nAWS_SESSION_TOKEN<<${D}\n\n${D}\nAWS_REGION<<${D}\n\n${D}\nAWS_DEFAULT_REGION<<${D}\n\n${D}\n`,
    );
    expect(D).not.toBe(delimiter);
    expect(post.stdout).toContain(
      "Emptied AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, AWS_DEFAULT_REGION",
    );
  });

  it("outputs mode: step outputs only, GITHUB_ENV untouched, post has nothing to clear", async () => {
    const step = await actionMain({ "output-mode": "outputs", duration: "3600", region: "eu-west-1" });
    expect(step.result.code, step.result.stdout).toBe(0);
    expect(step.env).toBe("");
    const match = new RegExp(
      `^aws-access-key-id<<${DELIMITER}\\n(ASIA[A-Z0-9]{16})\\n\\1\\n` +
        `aws-secret-access-key<<\\1\\n([A-Za-z0-9+/]{40})\\n\\1\\n` +
        `aws-session-token<<\\1\\n([A-Za-z0-9+/=]{100,})\\n\\1\\n` +
        `aws-expiration<<\\1\\n(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ)\\n\\1\\n` +
        `aws-region<<\\1\\neu-west-1\\n\\1\\n` +
        `credential-process<<\\1\\n${escapeRegExp(credentialProcessLine("--duration 3600"))}\\n\\1\\n$`,
    ).exec(step.output);
    expect(match, step.output).not.toBeNull();
    const [, delimiter, , secret, sessionToken] = match as unknown as [string, string, string, string, string];
    expect(step.state).toBe(`exported<<${delimiter}\n\n${delimiter}\n`);
    expect(leadingMasks(step.result.stdout).slice(-2)).toEqual([
      `::add-mask::${secret}`,
      `::add-mask::${sessionToken}`,
    ]);

    const postEnv = runnerFile("post-env");
    const post = await runNode(BUNDLE.post, [], { GITHUB_ENV: postEnv, STATE_exported: "" });
    expect(post.code).toBe(0);
    expect(readFileSync(postEnv, "utf8")).toBe("");
    expect(post.stdout).toContain("Nothing to clear");
  });

  it("missing `id-token: write` (no ACTIONS_ID_TOKEN_REQUEST_URL): exit 3, an error annotation saying what to add, nothing written", async () => {
    const step = await actionMain({}, { noToken: true });
    expect(step.result.code).toBe(3);
    expect(step.result.stdout).toMatch(/^::error title=ci-credentials%3A id_token_permission_missing::/m);
    expect(step.result.stdout).toContain("id-token: write");
    expect([step.env, step.output, step.state]).toEqual(["", "", ""]);
  });

  it("wrong audience: the token endpoint is asked for it, the broker refuses it, exit 5 says to check the audience", async () => {
    const before = actions.audiences.length;
    const step = await actionMain({ audience: "sts.amazonaws.com" });
    expect(actions.audiences.slice(before)).toEqual(["sts.amazonaws.com"]);
    expect(step.result.code).toBe(5);
    expect(step.result.stdout).toMatch(/^::error title=ci-credentials%3A invalid_token::.*audience/m);
    expect(step.env).toBe("");
  });

  it("a step migrated from configure-aws-credentials: a warning per unused input (the runner passes it as INPUT_*), a notice about the 900 s default", async () => {
    const arn = "arn:aws:iam::111122223333:role/acme-app-deploy";
    // As the runner sets them: INPUT_ + the `with:` key upper-cased, hyphens kept, for declared and undeclared inputs alike.
    const step = await actionMain({
      role: "deploy",
      "role-to-assume": arn,
      "role-session-name": "GitHubActions",
      "aws-region": "us-east-1",
    });
    expect(step.result.code, step.result.stdout).toBe(0);
    const lines = step.result.stdout.split("\n");
    const warnings = lines.filter((line) => line.startsWith("::warning title=ci-credentials%3A input not used::"));
    expect(warnings.map((line) => /::The input (\S+) /.exec(line)?.[1])).toEqual([
      "role-to-assume",
      "role-session-name",
    ]);
    expect(
      lines.filter((line) => line.startsWith("::notice title=ci-credentials%3A credential lifetime::")),
    ).toHaveLength(1);
    expect(step.result.stdout).not.toContain(arn);
    // Held back like every other line until the credentials are masked.
    expect(lines.findIndex((line) => line.startsWith("::warning"))).toBeGreaterThan(
      leadingMasks(step.result.stdout).length - 1,
    );

    const kept = await actionMain({ role: "deploy", "aws-region": "us-east-1", "role-duration-seconds": "3600" });
    expect(kept.result.code).toBe(0);
    expect(kept.result.stdout).not.toMatch(/^::(warning|notice)/m);
  });

  it("denied by policy: exit 6 with the broker's request id and the command to look it up", async () => {
    actions.claims = { repository: "acme/other", sub: "repo:acme/other:ref:refs/heads/main" };
    try {
      const step = await actionMain({});
      expect(step.result.code).toBe(6);
      const id = /Request id: ([0-9a-f-]{36})\./.exec(step.result.stdout)?.[1];
      expect(id, step.result.stdout).toBeDefined();
      expect(step.result.stdout).toContain(`npm run analytics -- request ${id}`);
      expect(step.env).toBe("");
    } finally {
      actions.claims = {};
    }
  });

  it("a broker-url that answers something other than credentials: exit 10", async () => {
    const impostor = await startFixedServer(200, JSON.stringify({ hello: "world" }));
    try {
      const step = await actionMain({ "broker-url": impostor.origin });
      expect(step.result.code).toBe(10);
      expect(step.result.stdout).toMatch(/^::error title=ci-credentials%3A not_credentials::/m);
      expect(step.env).toBe("");
    } finally {
      await impostor.close();
    }
  });
});

describe("CLI (committed bundle)", () => {
  const actionsEnv = () => ({
    ACTIONS_ID_TOKEN_REQUEST_URL: actions.requestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: actions.requestToken,
  });

  it("credential-process --debug: stdout is exactly one credential_process JSON line; stderr has progress and no secret", async () => {
    const before = actions.tokens.length;
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
    for (const secret of [credentials.SecretAccessKey, credentials.SessionToken, actions.tokens[before]])
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
      AWS_CONFIG_FILE: join(dir, "aws-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "aws-credentials"),
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
    const before = actions.tokens.length;
    const result = await runNode(
      BUNDLE.cli,
      ["credential-process", "--broker-url", "http://broker.example", "--github-actions"],
      actionsEnv(),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("usage (exit 2)");
    expect(actions.tokens.length).toBe(before);
  });
});

describe("AWS CLI with credential_process", () => {
  function profiles(log: string, command: string): string {
    // What a job writes: the Action's `credential-process` output as the profile's credential_process. The second profile
    // wraps the same command to record what it printed, so the test sees which keys were issued and when they expire.
    const recorder = join(dir, "recording-credential-process.sh");
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
    const step = await actionMain({});
    expect(step.result.code, step.result.stdout).toBe(0);
    const command = /^credential-process<<(\S+)\n(.+)\n\1\n/m.exec(step.output)?.[2];
    expect(command).toBe(credentialProcessLine(""));
    const log = join(dir, "issued.jsonl");
    writeFileSync(log, "");
    writeFileSync(join(dir, "aws-config"), profiles(log, command as string));
    writeFileSync(join(dir, "aws-credentials"), "");
    const env = {
      ACTIONS_ID_TOKEN_REQUEST_URL: actions.requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: actions.requestToken,
      GITHUB_ACTIONS: "true",
    };

    // The documented profile, as is.
    const plain = await aws(["--profile", "ci"], env);
    expect(plain.code, plain.stderr).toBe(0);
    const identity = JSON.parse(plain.stdout) as { Arn: string; UserId: string; Account: string };
    const session = ROLE_ARN.exec(identity.Arn)?.[1];
    expect(session, identity.Arn).toBeDefined();
    expect(identity.UserId.endsWith(`:${session}`)).toBe(true);
    expect(identity.Account).toBe("111122223333");

    // First call through the recording profile.
    const first = await aws(["--profile", "ci-recorded", "--debug"], env);
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
    const stale = await aws([], {
      AWS_ACCESS_KEY_ID: usedCredentials.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: usedCredentials.SecretAccessKey,
      AWS_SESSION_TOKEN: usedCredentials.SessionToken,
    });
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toContain("ExpiredToken");

    // The next call: the CLI runs credential_process again and signs with new, unexpired keys.
    const second = await aws(["--profile", "ci-recorded", "--debug"], env);
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
    expect(new Set(actions.tokens).size).toBe(actions.tokens.length);
  });
});

describe("GitHub tokens (committed bundle, sandbox broker and fake GitHub API)", () => {
  const API = `${SANDBOX_URL}/github`;
  const get = (token: string, path: string) =>
    fetch(`${API}${path}`, { headers: { authorization: `Bearer ${token}`, "user-agent": "e2e" } });

  it("the Action mints with github-token-name (masked first), the token reaches its repository only, the post step revokes it", async () => {
    const runnerTemp = join(dir, "runner-temp-github-token");
    actions.claims = { ref: "refs/tags/v1.0.0", ref_type: "tag" };
    let step: Step;
    try {
      step = await actionMain({ "github-token-name": "homebrew-tap" }, { env: { RUNNER_TEMP: runnerTemp } });
    } finally {
      actions.claims = {};
    }
    expect(step.result.code, step.result.stdout + step.result.stderr).toBe(0);
    const token = new RegExp(`^github-token<<${DELIMITER}\\n(ghs_\\S+)\\n\\1$`, "m").exec(step.output)?.[2] as string;
    expect(token).toMatch(/^ghs_/);
    // Masked before anything else is printed (among the leading masks, after the OIDC token's); never printed otherwise.
    expect(leadingMasks(step.result.stdout)).toContain(`::add-mask::${token}`);
    expect(count(step.result.stdout, token)).toBe(1);
    expect(step.env).not.toContain("AWS_ACCESS_KEY_ID");
    expect((await get(token, "/repos/acme/homebrew-tap")).status).toBe(200);
    expect((await get(token, "/repos/acme/private-lib")).status).toBe(404);
    expect((await get(token, "/repos/acme/app")).status).toBe(404);

    const post = await runNode(BUNDLE.post, [], {
      GITHUB_ACTIONS: "true",
      RUNNER_TEMP: runnerTemp,
      STATE_exported: "",
    });
    expect(post.code, post.stdout).toBe(0);
    expect(post.stdout).toContain("Revoked 1 GitHub token this job minted.");
    expect((await get(token, "/repos/acme/homebrew-tap")).status).toBe(401);
  });

  it("a branch push is refused homebrew-tap: exit 6, nothing minted", async () => {
    const step = await actionMain(
      { "github-token-name": "homebrew-tap" },
      { env: { RUNNER_TEMP: join(dir, "runner-temp-denied") } },
    );
    expect(step.result.code).toBe(6);
    expect(step.output).not.toContain("ghs_");
  });

  it("git credential fill through the helper gets a token for the sandbox's host; another host gets nothing", async () => {
    const runnerTemp = join(dir, "runner-temp-git");
    const helper = `!"${process.execPath}" "${BUNDLE.cli}" git-credential --broker-url ${BROKER_URL} --name private-deps --audience ci-credential-broker --host ${new URL(SANDBOX_URL).host}`;
    const env = {
      GITHUB_ACTIONS: "true",
      RUNNER_TEMP: runnerTemp,
      ACTIONS_ID_TOKEN_REQUEST_URL: actions.requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: actions.requestToken,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_TERMINAL_PROMPT: "0",
    };
    const fill = (host: string) =>
      runWithInput(
        "git",
        ["-c", `credential.helper=${helper}`, "credential", "fill"],
        env,
        `protocol=http\nhost=${host}\n\n`,
      );
    const filled = await fill(new URL(SANDBOX_URL).host);
    expect(filled.code, filled.stderr).toBe(0);
    const password = /^password=(ghs_\S+)$/m.exec(filled.stdout)?.[1] as string;
    expect(filled.stdout).toMatch(/^username=x-access-token$/m);
    expect((await get(password, "/repos/acme/private-lib")).status).toBe(200);
    // git asks again: the job's cache answers, no second token.
    const again = await fill(new URL(SANDBOX_URL).host);
    expect(/^password=(\S+)$/m.exec(again.stdout)?.[1]).toBe(password);
    // Another host: the helper answers nothing, so git (prompts off) fails.
    const other = await fill("example.com");
    expect(other.stdout).not.toContain("ghs_");
    const revoke = await runNode(BUNDLE.cli, ["revoke-github-tokens"], {
      GITHUB_ACTIONS: "true",
      RUNNER_TEMP: runnerTemp,
    });
    expect(revoke.code, revoke.stderr).toBe(0);
    expect((await get(password, "/repos/acme/private-lib")).status).toBe(401);
  });
});

/** A command with `input` on stdin and exactly `env` (plus PATH and HOME). */
function runWithInput(command: string, args: string[], env: Record<string, string>, input: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}
