// `npm run preflight` as an operator runs it: wrangler's own reader resolves the environment (vars, secrets and
// bindings
// per environment; placement inherited), the policies are imported, the exit code is 0 ok, 1 problems, 2 usage.
// Runs in Node against the shipped wrangler.toml and small ones written here, with the test policy; no network.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const policies = join(repoRoot, "test/fixtures/policies");
const dir = mkdtempSync(join(tmpdir(), "ci-credential-broker-preflight-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function preflight(
  args: string[],
): Promise<{ stdout: string; stderr: string; exitCode: number; problems: string[] }> {
  const result = await run(
    process.execPath,
    [join(repoRoot, "src/cli/preflight.ts"), "--policies", policies, ...args],
    {
      cwd: repoRoot,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    },
  ).then(
    ({ stdout, stderr }) => ({ stdout, stderr, exitCode: 0 }),
    (error: { stdout: string; stderr: string; code: number }) => ({
      stdout: error.stdout,
      stderr: error.stderr,
      exitCode: error.code,
    }),
  );
  return {
    ...result,
    problems: [...result.stdout.matchAll(/^error (\S+) (.+?): /gm)].map(([, code, subject]) => `${code} ${subject}`),
  };
}

function writeToml(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const SANDBOX_SECRETS =
  "AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,BROKER_SIGNING_KEY,GITHUB_APP_PRIVATE_KEY,GITHUB_TOKEN_APP_PRIVATE_KEY";

describe("the shipped wrangler.toml", () => {
  it("top level: refuses the example policy while GITHUB_APP_ID and GITHUB_TOKEN_APP_ID are empty, with the other two placeholders (exit 1)", async () => {
    const result = await preflight([]);
    expect(result.exitCode).toBe(1);
    expect(result.problems).toEqual([
      "kv_namespace_placeholder [[kv_namespaces]] JWKS_CACHE",
      "github_app_missing var GITHUB_APP_ID",
      "github_token_app_missing var GITHUB_TOKEN_APP_ID",
      "audience_shared_default var ISSUERS",
    ]);
    // [placement] region is "aws:" + AWS_REGION (the check moved here from deploy.test.ts): no
    // placement_region_mismatch.
    expect(result.stdout).toMatch(
      /^not checked: the secrets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, GITHUB_APP_PRIVATE_KEY, GITHUB_TOKEN_APP_PRIVATE_KEY /m,
    );
  });

  it("prints what docs/deployment.md shows (there for the example policy, here for its copy, the test policy)", async () => {
    const page = readFileSync(join(repoRoot, "docs/deployment.md"), "utf8");
    const shown = /^```\n\$ npm run -s preflight\n([\s\S]*?)^```$/m.exec(page)?.[1];
    expect(shown).toBeDefined();
    const result = await preflight([]);
    expect(result.stdout.replaceAll(`${policies}/`, "policies/")).toBe(shown);
  });

  it("env.sandbox with the secrets `npm start` writes: ok (exit 0)", async () => {
    const result = await preflight(["--env", "sandbox", "--secrets", SANDBOX_SECRETS]);
    expect(result.stdout).toMatch(/preflight: ok, env\.sandbox/);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
  });

  it("reads secret names from `wrangler secret list --format json` output", async () => {
    const listed = writeToml(
      "secrets.json",
      JSON.stringify(
        SANDBOX_SECRETS.split(",")
          .slice(1)
          .map((name) => ({ name, type: "secret_text" })),
        null,
        "  ",
      ),
    );
    const result = await preflight(["--env", "sandbox", "--secrets-file", listed]);
    expect(result.problems).toEqual(["secret_missing secret AWS_ACCESS_KEY_ID"]);
  });

  it("refuses an environment wrangler.toml does not have (exit 2, usage)", async () => {
    const result = await preflight(["--env", "production"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/has no \[env\.production\] \(environments: sandbox;/);
  });
});

describe("wrangler's inheritance rules", () => {
  const shipped = readFileSync(join(repoRoot, "wrangler.toml"), "utf8").split(/^\[env\.sandbox\]/m)[0] as string;
  const topLevel = shipped
    .replace('id = "00000000000000000000000000000000"', 'id = "0f2ac74b498b48028cb68387c421e279"')
    .replaceAll('"audiences":["ci-credential-broker"]', '"audiences":["acme-ci-credential-broker-prod"]')
    .replace('GITHUB_APP_ID = ""', 'GITHUB_APP_ID = "424243"')
    .replace('GITHUB_TOKEN_APP_ID = ""', 'GITHUB_TOKEN_APP_ID = "424244"');
  const secrets = [
    "--secrets",
    "AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,GITHUB_APP_PRIVATE_KEY,GITHUB_TOKEN_APP_PRIVATE_KEY",
  ];

  it("a filled-in top level passes", async () => {
    const result = await preflight(["--config", writeToml("filled.toml", topLevel), ...secrets]);
    expect(result.problems).toEqual([]);
    expect(result.exitCode).toBe(0);
  });

  it("an environment inherits [placement] but not vars, secrets or bindings", async () => {
    const config = writeToml(
      "staging.toml",
      `${topLevel}\n[env.staging]\nname = "ci-credential-broker-staging"\n\n[env.staging.vars]\nAWS_REGION = "eu-west-1"\n`,
    );
    const result = await preflight(["--config", config, "--env", "staging", ...secrets]);
    expect(result.exitCode).toBe(1);
    expect(result.problems).toEqual(
      expect.arrayContaining([
        "binding_missing [[kv_namespaces]] JWKS_CACHE",
        "binding_missing [[durable_objects.bindings]] ADMISSION",
        "placement_region_mismatch var AWS_REGION",
        "config_invalid var ISSUERS",
      ]),
    );
    // wrangler says the same about what the environment does not inherit.
    expect(result.stderr).toMatch(/"kv_namespaces" exists at the top level, but not on "env\.staging"/);
  });
});

describe("the alert cron Worker (--alerts)", () => {
  const shipped = readFileSync(join(repoRoot, "wrangler.alerts.toml"), "utf8");
  const filled = shipped
    .replace('id = "00000000000000000000000000000000"', 'id = "0f2ac74b498b48028cb68387c421e279"')
    .replace('ANALYTICS_ACCOUNT_ID = ""', 'ANALYTICS_ACCOUNT_ID = "0123456789abcdef0123456789abcdef"');
  const secrets = ["--secrets", "ANALYTICS_API_TOKEN,ALERT_WEBHOOK_URL"];

  it("as shipped: only the placeholder KV id, and the secrets named as not checked (exit 1)", async () => {
    const result = await preflight(["--alerts"]);
    expect(result.exitCode).toBe(1);
    expect(result.problems).toEqual(["kv_namespace_placeholder [[kv_namespaces]] ALERT_STATE"]);
    expect(result.stdout).toMatch(/^preflight: wrangler\.alerts\.toml top level \(the alert cron Worker\)/);
    expect(result.stdout).toMatch(/^not checked: the secrets ANALYTICS_API_TOKEN, ALERT_WEBHOOK_URL /m);
  });

  it("filled in: passes; AUDIT_DATASET apart from wrangler.toml's AUDIT binding fails", async () => {
    const ok = await preflight(["--alerts", "--config", writeToml("alerts.toml", filled), ...secrets]);
    expect(ok.problems).toEqual([]);
    expect(ok.exitCode).toBe(0);
    const other = filled.replace('AUDIT_DATASET = "ci_credential_broker"', 'AUDIT_DATASET = "another_dataset"');
    const result = await preflight(["--alerts", "--config", writeToml("alerts-other.toml", other), ...secrets]);
    expect(result.problems).toEqual(["audit_dataset_mismatch var AUDIT_DATASET"]);
    expect(result.exitCode).toBe(1);
  });
});
