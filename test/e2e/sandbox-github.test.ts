// `npm start`'s fake GitHub, as a newcomer drives it: the facts a rule requires (a failed scan, a forged check run, a
// reader's approval, an outage) decide the next exchange, and the documented GitHub token grant and denial run as
// shown.
import { describe, expect, it } from "vitest";
import { markedBlocks } from "./doc-snippets.ts";
import { repoRoot, useSandboxSession } from "./sandbox-session.ts";

const session = useSandboxSession();

describe("npm start: GitHub facts (docs/github-facts.md)", () => {
  const credentials = async () =>
    JSON.parse((await session.shell(session.credentialsCommand)).stdout) as Record<string, unknown>;
  const github = (args: string) => session.shell(`npm run -s sandbox -- github ${args}`);

  it("denies deploy after a failed dependency scan, even with a forged check run, and allows it again once the scan passes and a writer approves", async () => {
    await github("scan failure");
    // The denial reasons (context_check_failed, context_approval_not_writer…) are asserted by test/github/ inside
    // workerd.
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
      /^GitHub facts \(rule acme-app-main-deploy requires them; [^)]*\): (.+)$/m.exec(session.startOutput)?.[1] ?? "";
    expect(hint).toMatch(/ sandbox -- github scan failure$/);
    await session.shell(hint, session.elsewhere);
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
    const granted = await session.shell((blocks().get("sandbox-github-token-grant") as string).trim());
    expect(granted.stdout).toMatch(/POST \/v1\/github-token homebrew-tap: 200 token ghs_/);
    expect(granted.stdout).toMatch(/\/repos\/acme\/homebrew-tap: 200\n/);
    expect(granted.stdout).toMatch(/\/repos\/acme\/app: 404 \(not granted\)/);
    expect(granted.stdout).toMatch(/installation\/token: 204/);
    expect(granted.stdout).toMatch(/: 401 \(after revocation\)/);
    await expect(session.shell((blocks().get("sandbox-github-token-denial") as string).trim())).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringContaining(': 403 {"error":"forbidden"'),
    });
    expect(await session.printed(/reason=grant_not_granted .*kind=github_token/)).toContain("repository=acme/app");
    expect(
      await session.printed(/200 issued rule=acme-app-release-homebrew-tap kind=github_token grant=homebrew-tap/),
    ).toContain("repository=acme/app");
  });
});
