// The CLI as a git credential helper and `github-token`, run as shipped (the committed bundle) against the fake broker
// and GitHub: git-credential(1)'s get/store/erase, the grant's host only, one mint for many calls, a new one near
// expiry,
// the GitLab single-use token, and `revoke-github-tokens`. The last test drives the helper through real `git`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeServices, type FakeServices } from "./fake-services.ts";
import { BUNDLE, run, runNode, type Result } from "./run.ts";

let services: FakeServices;
let dir: string;
let job = 0;
/** The host git sends for the fake's API base (GHES form: http://127.0.0.1:PORT/api/v3 -> 127.0.0.1:PORT). */
let host = "";

beforeAll(async () => {
  services = await startFakeServices();
  host = new URL(services.origin).host;
  dir = mkdtempSync(join(tmpdir(), "ci-credentials-git-"));
});

afterAll(async () => {
  await services?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  job++;
  services.scripted.length = 0;
  services.lifetimeMs = 3_600_000;
});

/** A GitHub Actions job's environment: RUNNER_TEMP of its own, the OIDC token endpoint. */
const actionsJob = () => ({
  GITHUB_ACTIONS: "true",
  RUNNER_TEMP: join(dir, `job-${job}`),
  ACTIONS_ID_TOKEN_REQUEST_URL: services.requestUrl,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: services.requestToken,
});

const helperArgs = (name = "homebrew-tap", extra: string[] = []) => [
  "git-credential",
  "--broker-url",
  services.origin,
  "--name",
  name,
  "--host",
  host,
  ...extra,
];
const helper = (
  operation: string,
  stdin: string,
  env: Record<string, string> = actionsJob(),
  args = helperArgs(),
): Promise<Result> => runNode(BUNDLE.cli, [...args, operation], env, stdin);
const ask = (lines: string[]) => `${lines.join("\n")}\n\n`;
const mine = () => ask(["protocol=http", `host=${host}`]);
const mints = () =>
  services.brokerCalls.filter((call) => call.route === "/v1/github-token" && call.status === 200).length;

describe("git-credential get", () => {
  it("answers the grant's host with x-access-token, the token and its expiry; nothing on stderr", async () => {
    const result = await helper("get", mine());
    expect(result.code, result.stderr).toBe(0);
    const token = services.minted.at(-1) as string;
    expect(result.stdout).toMatch(
      new RegExp(`^username=x-access-token\\npassword=${token}\\npassword_expiry_utc=\\d{10}\\n$`),
    );
    const expiry = Number(/password_expiry_utc=(\d+)/.exec(result.stdout)?.[1]) * 1000;
    expect(expiry).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(result.stderr).toBe("");
  });

  it("git's many calls mint one token: later gets answer from the job's cache", async () => {
    const before = mints();
    const answers = await Promise.all([helper("get", mine()), helper("get", mine()), helper("get", mine())]);
    const again = await helper("get", mine());
    expect(mints() - before).toBe(1);
    expect(new Set([...answers, again].map((answer) => answer.stdout)).size).toBe(1);
  });

  it("a token close to its expiry is not reused: the next get mints a new one", async () => {
    services.lifetimeMs = 4 * 60_000; // less than the 5-minute margin
    const before = mints();
    const first = await helper("get", mine());
    const second = await helper("get", mine());
    expect(mints() - before).toBe(2);
    expect(first.stdout).not.toBe(second.stdout);
  });

  it.each([
    ["another host", ask(["protocol=https", "host=gitlab.com"])],
    ["the host over another protocol", ask(["protocol=https", `host=${host}`])],
    ["a description without a host", ask(["protocol=http"])],
  ])("answers nothing, and mints nothing, for %s", async (_name, stdin) => {
    const before = services.brokerCalls.length;
    const result = await helper("get", stdin);
    expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(services.brokerCalls.length).toBe(before);
  });

  it("with credential.useHttpPath, answers only for the grant's repositories", async () => {
    const tap = await helper("get", ask(["protocol=http", `host=${host}`, "path=acme/homebrew-tap.git"]));
    expect(tap.stdout).toContain("username=x-access-token");
    const other = await helper("get", ask(["protocol=http", `host=${host}`, "path=acme/other.git"]));
    expect(other.stdout).toBe("");
  });

  it("when the broker refuses, tells git to quit (no prompt) and says why on stderr", async () => {
    const result = await helper("get", mine(), actionsJob(), helperArgs("no-such-grant"));
    expect(result.code).toBe(6);
    expect(result.stdout).toBe("quit=1\n");
    expect(result.stderr).toMatch(/^ci-credentials: forbidden \(exit 6\)/);
  });
});

describe("git-credential store and erase", () => {
  it("store changes nothing; erase of the cached token forgets it, so the next get mints", async () => {
    const first = await helper("get", mine());
    const token = /password=(\S+)/.exec(first.stdout)?.[1] as string;
    expect(
      await helper("store", `protocol=http\nhost=${host}\nusername=x-access-token\npassword=${token}\n\n`),
    ).toEqual({ code: 0, stdout: "", stderr: "" });
    expect((await helper("get", mine())).stdout).toBe(first.stdout);
    // Another password (a helper before ours), or another host: not ours to forget.
    await helper("erase", `protocol=http\nhost=${host}\nusername=x\npassword=ghs_not_ours\n\n`);
    await helper("erase", `protocol=https\nhost=github.com\nusername=x-access-token\npassword=${token}\n\n`);
    expect((await helper("get", mine())).stdout).toBe(first.stdout);
    const before = mints();
    expect(
      await helper("erase", `protocol=http\nhost=${host}\nusername=x-access-token\npassword=${token}\n\n`),
    ).toEqual({ code: 0, stdout: "", stderr: "" });
    const next = await helper("get", mine());
    expect(mints() - before).toBe(1);
    expect(next.stdout).not.toBe(first.stdout);
  });

  it("ignores an operation it does not know, as git-credential(1) asks", async () => {
    expect(await helper("capability", mine())).toEqual({ code: 0, stdout: "", stderr: "" });
  });
});

describe("github-token and revoke-github-tokens", () => {
  it("github-token prints the token alone on stdout, reuses the job's, and masks it on a GitHub runner", async () => {
    const args = ["github-token", "--broker-url", services.origin, "--name", "private-deps"];
    const first = await runNode(BUNDLE.cli, args, actionsJob());
    expect(first.code, first.stderr).toBe(0);
    const token = services.minted.at(-1) as string;
    expect(first.stdout).toBe(`${token}\n`);
    expect(first.stderr).toBe(`::add-mask::${token}\n`);
    const second = await runNode(BUNDLE.cli, args, actionsJob());
    expect(second.stdout).toBe(first.stdout);
    expect(services.minted.at(-1)).toBe(token);
  });

  it("GitLab: one id_tokens variable mints once; the cache serves the hour, a second mint with it is token_reused", async () => {
    const gitlab = {
      GITLAB_CI: "true",
      CI_JOB_ID: String(900_000 + job),
      TMPDIR: dir,
      BROKER_ID_TOKEN: services.oidcToken(),
    };
    const args = [
      "github-token",
      "--broker-url",
      services.origin,
      "--name",
      "private-deps",
      "--token-env",
      "BROKER_ID_TOKEN",
    ];
    const first = await runNode(BUNDLE.cli, args, gitlab);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toBe("");
    expect((await runNode(BUNDLE.cli, args, gitlab)).stdout).toBe(first.stdout);
    // Past the cache (another broker URL: another cache entry), the one token is spent.
    const spent = await runNode(
      BUNDLE.cli,
      [
        "github-token",
        "--broker-url",
        `${services.origin}/`.replace("127.0.0.1", "localhost"),
        "--name",
        "private-deps",
        "--token-env",
        "BROKER_ID_TOKEN",
      ],
      gitlab,
    );
    expect(spent.code).toBe(11);
    expect(spent.stderr).toContain("id_tokens");
    // A second id_tokens variable mints again.
    const second = await runNode(
      BUNDLE.cli,
      [
        "github-token",
        "--broker-url",
        `${services.origin}/`.replace("127.0.0.1", "localhost"),
        "--name",
        "private-deps",
        "--token-env",
        "BROKER_ID_TOKEN_2",
      ],
      {
        ...gitlab,
        BROKER_ID_TOKEN_2: services.oidcToken(),
      },
    );
    expect(second.code, second.stderr).toBe(0);
    // after_script: revoke both.
    const revoked = await runNode(BUNDLE.cli, ["revoke-github-tokens"], gitlab);
    expect(revoked).toEqual({
      code: 0,
      stdout: "",
      stderr: "ci-credentials: Revoked 2 GitHub tokens this job minted\n",
    });
    expect(services.revoked).toContain(first.stdout.trim());
    expect(services.revoked).toContain(second.stdout.trim());
  });

  it("revoke-github-tokens revokes what the helper and github-token minted in this job", async () => {
    await helper("get", mine());
    await runNode(
      BUNDLE.cli,
      ["github-token", "--broker-url", services.origin, "--name", "private-deps"],
      actionsJob(),
    );
    const minted = services.minted.slice(-2);
    const result = await runNode(BUNDLE.cli, ["revoke-github-tokens"], actionsJob());
    expect(result.stderr).toBe("ci-credentials: Revoked 2 GitHub tokens this job minted\n");
    for (const token of minted) expect(services.revoked).toContain(token);
  });
});

describe("through git itself", () => {
  it("`git credential fill` runs the helper configured with `!` and takes its answer", async () => {
    const config = `!"${process.execPath}" "${BUNDLE.cli}" ${helperArgs().join(" ")}`;
    const env = { ...actionsJob(), GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_TERMINAL_PROMPT: "0" };
    const filled = await run(
      "git",
      ["-c", "credential.helper=", "-c", `credential.helper=${config}`, "credential", "fill"],
      env,
      `protocol=http\nhost=${host}\n\n`,
    );
    expect(filled.code, filled.stderr).toBe(0);
    const token = services.minted.at(-1) as string;
    expect(filled.stdout).toContain(`username=x-access-token\npassword=${token}\n`);
    // Another host: the helper stays silent and git, with no prompt allowed, fails as it would without a helper.
    const other = await run(
      "git",
      ["-c", "credential.helper=", "-c", `credential.helper=${config}`, "credential", "fill"],
      env,
      "protocol=https\nhost=gitlab.com\n\n",
    );
    expect(other.code).not.toBe(0);
    expect(other.stdout).toBe("");
  });
});
