// The GitHub Action end to end, as shipped (the committed bundle), against the real broker under wrangler dev and the
// sandbox: env and outputs modes as the runner reads them, masks before anything else, the post step, and each
// failure as a job sees it (exit code and annotation).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BUNDLE, runNode, startFixedServer } from "./client-harness.ts";
import {
  count,
  credentialProcessLine,
  DELIMITER,
  escapeRegExp,
  leadingMasks,
  ROLE_ARN,
  useClientRunner,
} from "./client-runner.ts";

const runner = useClientRunner();

/** Post: the runner hands the state back as STATE_exported; every variable is overwritten with "", new delimiter. */
async function expectPostEmptiesEnv(delimiter: string): Promise<void> {
  const postEnv = runner.runnerFile("post-env");
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
}

describe("GitHub Action (committed bundle)", () => {
  it("env mode: masks first, exact GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE, credentials that work, post empties them", async () => {
    const tokensBefore = runner.actions.tokens.length;
    const step = await runner.actionMain({ role: "deploy", region: "us-east-1" });
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

    // Stdout: only ::add-mask:: lines until the secret key and session token are masked; each secret printed only
    // there.
    const stdout = step.result.stdout;
    const masks = leadingMasks(stdout);
    expect(masks).toContain(`::add-mask::${secret}`);
    expect(masks).toContain(`::add-mask::${sessionToken}`);
    const token = runner.actions.tokens[tokensBefore] as string;
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
    expect(runner.actions.audiences.slice(tokensBefore)).toEqual(["ci-credential-broker"]);

    // The exported variables are credentials the sandbox STS accepts, for the deploy role.
    const identity = await runner.aws([], {
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secret,
      AWS_SESSION_TOKEN: sessionToken,
    });
    expect(identity.code, identity.stderr).toBe(0);
    expect((JSON.parse(identity.stdout) as { Arn: string }).Arn).toMatch(ROLE_ARN);

    await expectPostEmptiesEnv(delimiter);
  });

  it("outputs mode: step outputs only, GITHUB_ENV untouched, post has nothing to clear", async () => {
    const step = await runner.actionMain({ "output-mode": "outputs", duration: "3600", region: "eu-west-1" });
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

    const postEnv = runner.runnerFile("post-env");
    const post = await runNode(BUNDLE.post, [], { GITHUB_ENV: postEnv, STATE_exported: "" });
    expect(post.code).toBe(0);
    expect(readFileSync(postEnv, "utf8")).toBe("");
    expect(post.stdout).toContain("Nothing to clear");
  });

  it("missing `id-token: write` (no ACTIONS_ID_TOKEN_REQUEST_URL): exit 3, an error annotation saying what to add, nothing written", async () => {
    const step = await runner.actionMain({}, { noToken: true });
    expect(step.result.code).toBe(3);
    expect(step.result.stdout).toMatch(/^::error title=ci-credentials%3A id_token_permission_missing::/m);
    expect(step.result.stdout).toContain("id-token: write");
    expect([step.env, step.output, step.state]).toEqual(["", "", ""]);
  });

  it("wrong audience: the token endpoint is asked for it, the broker refuses it, exit 5 says to check the audience", async () => {
    const before = runner.actions.audiences.length;
    const step = await runner.actionMain({ audience: "sts.amazonaws.com" });
    expect(runner.actions.audiences.slice(before)).toEqual(["sts.amazonaws.com"]);
    expect(step.result.code).toBe(5);
    expect(step.result.stdout).toMatch(/^::error title=ci-credentials%3A invalid_token::.*audience/m);
    expect(step.env).toBe("");
  });

  it("a step migrated from configure-aws-credentials: a warning per unused input (the runner passes it as INPUT_*), a notice about the 900 s default", async () => {
    const arn = "arn:aws:iam::111122223333:role/acme-app-deploy";
    // As the runner sets them: INPUT_ + the `with:` key upper-cased, hyphens kept, for declared and undeclared inputs
    // alike.
    const step = await runner.actionMain({
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

    const kept = await runner.actionMain({
      role: "deploy",
      "aws-region": "us-east-1",
      "role-duration-seconds": "3600",
    });
    expect(kept.result.code).toBe(0);
    expect(kept.result.stdout).not.toMatch(/^::(warning|notice)/m);
  });

  it("denied by policy: exit 6 with the broker's request id and the command to look it up", async () => {
    runner.actions.claims = { repository: "acme/other", sub: "repo:acme/other:ref:refs/heads/main" };
    try {
      const step = await runner.actionMain({});
      expect(step.result.code).toBe(6);
      const id = /Request id: ([0-9a-f-]{36})\./.exec(step.result.stdout)?.[1];
      expect(id, step.result.stdout).toBeDefined();
      expect(step.result.stdout).toContain(`npm run analytics -- request ${id}`);
      expect(step.env).toBe("");
    } finally {
      runner.actions.claims = {};
    }
  });

  it("a broker-url that answers something other than credentials: exit 10", async () => {
    const impostor = await startFixedServer(200, JSON.stringify({ hello: "world" }));
    try {
      const step = await runner.actionMain({ "broker-url": impostor.origin });
      expect(step.result.code).toBe(10);
      expect(step.result.stdout).toMatch(/^::error title=ci-credentials%3A not_credentials::/m);
      expect(step.env).toBe("");
    } finally {
      await impostor.close();
    }
  });
});
