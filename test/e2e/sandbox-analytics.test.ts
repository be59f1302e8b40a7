// `npm start`'s local Analytics Engine (chdb), as a newcomer uses it without a Cloudflare account: `npm run analytics`
// reads the sandbox's own traffic back, and the alert cron fires on a burst of denials and delivers to the webhook.
import { describe, expect, it } from "vitest";
import { repoRoot, run, useSandboxSession } from "./sandbox-session.ts";

const session = useSandboxSession();

describe("npm start: the local Analytics Engine (docs/sandbox.md)", () => {
  /** npm run analytics as a newcomer has it: no Cloudflare account in the environment. */
  const offline = (command: string) => {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${repoRoot}node_modules/.bin:${process.env.PATH ?? ""}` };
    for (const name of ["CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "AUDIT_DATASET", "ALERT_RULES"])
      delete env[name];
    return run("bash", ["-o", "pipefail", "-c", command], { cwd: repoRoot, env });
  };

  it("starts with local analytics on", () => {
    expect(session.startOutput).toContain(
      "local Analytics Engine (chdb): SQL API http://127.0.0.1:8788/client/v4/accounts/",
    );
  });

  it("npm run analytics reads the sandbox's own traffic back: denials, and one request by its id", async () => {
    let last = "";
    for (let i = 0; i < 6; i++) {
      const denied = await session.exchange({ claims: { runner_environment: "self-hosted" } });
      expect(denied.status).toBe(403);
      last = String(denied.body.request_id);
    }
    await session.printed(new RegExp(`request_id=${last}`));
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
    await session.printed(/alert webhook delivery:/);
    expect((await offline(`npm run -s sandbox -- alerts run --rules '{"denials":{"max":5}}'`)).stdout).toContain(
      "suppressed (incident already open): denials",
    );
  });
});
