// GitHub tokens end to end, as shipped (the committed bundle), against the sandbox broker and its fake GitHub API: the
// Action mints a grant's token (masked, its repository only, revoked by the post step), a denial mints nothing, and
// git's credential helper gets a token for the sandbox's host only.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BROKER_URL, BUNDLE, runNode, SANDBOX_URL } from "./client-harness.ts";
import { count, DELIMITER, leadingMasks, useClientRunner, type Step } from "./client-runner.ts";

const runner = useClientRunner();

describe("GitHub tokens (committed bundle, sandbox broker and fake GitHub API)", () => {
  const API = `${SANDBOX_URL}/github`;
  const get = (token: string, path: string) =>
    fetch(`${API}${path}`, { headers: { authorization: `Bearer ${token}`, "user-agent": "e2e" } });

  it("the Action mints with github-token-name (masked first), the token reaches its repository only, the post step revokes it", async () => {
    const runnerTemp = join(runner.dir, "runner-temp-github-token");
    runner.actions.claims = { ref: "refs/tags/v1.0.0", ref_type: "tag" };
    let step: Step;
    try {
      step = await runner.actionMain({ "github-token-name": "homebrew-tap" }, { env: { RUNNER_TEMP: runnerTemp } });
    } finally {
      runner.actions.claims = {};
    }
    expect(step.result.code, step.result.stdout + step.result.stderr).toBe(0);
    const token = new RegExp(`^github-token<<${DELIMITER}\\n(ghs_\\S+)\\n\\1$`, "m").exec(step.output)?.[2] as string;
    expect(token).toMatch(/^ghs_/);
    // Masked before anything else is printed (among the leading masks, after the OIDC token's); never printed
    // otherwise.
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
    const step = await runner.actionMain(
      { "github-token-name": "homebrew-tap" },
      { env: { RUNNER_TEMP: join(runner.dir, "runner-temp-denied") } },
    );
    expect(step.result.code).toBe(6);
    expect(step.output).not.toContain("ghs_");
  });

  it("git credential fill through the helper gets a token for the sandbox's host; another host gets nothing", async () => {
    const runnerTemp = join(runner.dir, "runner-temp-git");
    const helper = `!"${process.execPath}" "${BUNDLE.cli}" git-credential --broker-url ${BROKER_URL} --name private-deps --audience ci-credential-broker --host ${new URL(SANDBOX_URL).host}`;
    const env = {
      GITHUB_ACTIONS: "true",
      RUNNER_TEMP: runnerTemp,
      ACTIONS_ID_TOKEN_REQUEST_URL: runner.actions.requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: runner.actions.requestToken,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_TERMINAL_PROMPT: "0",
    };
    const fill = (host: string) =>
      runner.runWithInput(
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
