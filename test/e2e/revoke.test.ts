// The incident runbook against `npm start` (docs/operations.md, "Incident: a repository's credentials are
// compromised"):
// kill switch, then `npm run revoke --apply` through the sandbox's IAM with the keys `npm run sandbox -- aws-keys`
// prints, the attached policy read back with the real AWS CLI, what the repository got from the sandbox's local
// Analytics Engine, then --remove. Runs in Node, offline.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, SANDBOX_URL, startSandbox, type RunningSandbox } from "./client-harness.ts";

const run = promisify(execFile);
const AWS = process.env.AWS_CLI ?? "aws";
const IAM = `${SANDBOX_URL}/iam`;
/** The end-to-end sandbox runs the test policy's Worker; the revocation reads the same policy. */
const REVOKE = `npm run -s revoke -- --repository acme/app --env sandbox --policy test/fixtures/policies/index.ts --iam-endpoint ${IAM}`;
let sandbox: RunningSandbox;

/** A shell as the operator has one: no AWS variables of the developer's, the project's tools on PATH. */
async function shell(command: string): Promise<{ stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${repoRoot}node_modules/.bin:${process.env.PATH ?? ""}`,
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  };
  for (const name of [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "CLOUDFLARE_ACCOUNT_ID",
    "CLOUDFLARE_API_TOKEN",
  ])
    delete env[name];
  return run("bash", ["-o", "pipefail", "-c", command], { cwd: repoRoot, env });
}

beforeAll(async () => {
  sandbox = await startSandbox([]);
});

afterAll(async () => {
  await sandbox.stop();
});

describe("npm start: revoking sessions already issued", () => {
  it("kill switch, then revoke --apply through the sandbox IAM: every role of acme/app carries the deny, read back with the AWS CLI", async () => {
    expect((await fetch(`${SANDBOX_URL}/exchange`, { method: "POST" })).status).toBe(200);
    await shell("npm run -s sandbox -- kill repository acme/app INC-1234");
    // An isolate trusts its last lookup for 5 s: poll until the key bites.
    let status = 200;
    for (let i = 0; i < 40 && status !== 403; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = (await fetch(`${SANDBOX_URL}/exchange`, { method: "POST" })).status;
    }
    expect(status).toBe(403);
    const keys = 'eval "$(npm run -s sandbox -- aws-keys 111122223333)"';
    const { stdout } = await shell(`${keys} && ${REVOKE} --apply`);
    expect(stdout).toContain("3 of 3 roles done.");
    const name = /(ci-credential-broker-revoke-acme\.app-[0-9a-f]{16}) attached/.exec(stdout)?.[1] ?? "";
    expect(name).not.toBe("");

    const read = await shell(
      `${keys} && ${AWS} iam get-role-policy --endpoint-url ${IAM} --region us-east-1 --role-name acme-app-deploy --policy-name ${name} --output json`,
    );
    const condition = (
      JSON.parse(read.stdout) as {
        PolicyDocument: { Statement: Array<{ Effect: string; Condition: Record<string, Record<string, string>> }> };
      }
    ).PolicyDocument.Statement[0];
    expect(condition?.Effect).toBe("Deny");
    expect(condition?.Condition).toMatchObject({
      StringEquals: { "aws:PrincipalTag/Issuer": SANDBOX_URL },
      StringEqualsIgnoreCase: { "aws:PrincipalTag/Repository": "acme/app" },
    });

    // A rerun replaces the policy; it never adds a second one.
    await shell(`${keys} && ${REVOKE} --apply`);
    const listed = await shell(
      `${keys} && ${AWS} iam list-role-policies --endpoint-url ${IAM} --region us-east-1 --role-name acme-app-deploy --output json`,
    );
    expect((JSON.parse(listed.stdout) as { PolicyNames: string[] }).PolicyNames).toEqual([name]);

    // Step 3: what the repository got, and that the kill switch bites, from the sandbox's local Analytics Engine.
    let history = "";
    for (let i = 0; i < 40 && !history.includes("kill_switch_repository"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      history = (await shell("npm run -s analytics -- repository acme/app --since 10m --format csv")).stdout;
    }
    expect(history).toMatch(
      /^timestamp,outcome,reason,issuer,rule_id,role_alias,ref,event_name,request_id,token_sha256\r\n/,
    );
    expect(history).toMatch(
      /,issued,,github,acme-app-main-deploy,deploy,refs\/heads\/main,push,[0-9a-f-]{36},[0-9a-f]{16}\r\n/,
    );
    expect(history).toMatch(/,denied,kill_switch_repository,github,/);
    expect((await shell("npm run -s analytics -- denials --since 10m")).stdout).toContain("kill_switch_repository");

    const removed = await shell(`${keys} && ${REVOKE} --remove`);
    expect(removed.stdout).toContain("3 of 3 roles done.");
    await shell("npm run -s sandbox -- lift repository acme/app");
  });

  it("refuses keys IAM does not know, as AWS does, and exits non-zero naming each role", async () => {
    const failure = await shell(
      `AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRiCYEXAMPLEKEY ${REVOKE} --apply`,
    ).catch((error: { code: number; stdout: string }) => error);
    expect("code" in failure ? failure.code : 0).toBe(1);
    expect(failure.stdout).toMatch(/FAILED {2}arn:aws:iam::111122223333:role\/acme-app-deploy +InvalidClientTokenId/);
  });
});
