// `wrangler deploy --dry-run` is what an operator's release runs first, for each Worker: it must bundle offline, and
// each
// bundle must hold its Worker only (no test fakes, no sandbox code; the request Worker no alerting code, and the
// reverse).
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, expect, it } from "vitest";
import {
  ADDRESS_LIMIT_PERIOD_SECONDS,
  ADDRESS_LIMIT_PER_PERIOD,
  NETWORK_LIMIT_PER_PERIOD,
} from "../../src/admission/constants.ts";

const run = promisify(execFile);
/**
 * Regression guards for the uploaded bundles (zlib gzip, default level); `npm run bench` reports the request Worker's
 * figure. Workers start faster with small bundles (docs/performance.md "Bundle"); growth past a budget is a decision,
 * not drift. The request Worker measured 63.9 KiB once the alert cron left it: 66 leaves ~3% for fixes, not features.
 */
const BUNDLE_GZIP_KIB_MAX = 66;
/** The alert cron Worker measured 13.9 KiB at its split (rules, SQL API client, webhook, zod/mini): 16 KiB likewise. */
const ALERTS_BUNDLE_GZIP_KIB_MAX = 16;
/** Strings only the alerting code holds: its log lines, its secrets' names and its SQL. */
const ALERT_MARKERS = [
  "alerts_evaluated",
  "alerts_disabled",
  "ANALYTICS_API_TOKEN",
  "ALERT_WEBHOOK_URL",
  "quantileExactWeighted",
];
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const outdir = mkdtempSync(join(tmpdir(), "ci-credential-broker-dry-run-"));

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** `wrangler deploy --dry-run` of one config into its own folder: wrangler's output and the bundle's JavaScript. */
async function dryRun(config: string): Promise<{ stdout: string; bundle: string }> {
  const wrangler = join(repoRoot, "node_modules/wrangler/bin/wrangler.js");
  const dir = join(outdir, config);
  const { stdout } = await run(process.execPath, [wrangler, "deploy", "-c", config, "--dry-run", "--outdir", dir], {
    cwd: repoRoot,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  const bundle = readdirSync(dir)
    .filter((name) => name.endsWith(".js"))
    .map((name) => readFileSync(join(dir, name), "utf8"))
    .join("\n");
  return { stdout, bundle };
}

const TEST_ONLY = ["createStsEmulator", "createFakeIssuer", "SANDBOX_PORT", "@smithy", "createFakeSqlApi"];

it("wrangler deploy --dry-run bundles the request Worker offline, without test code or alerting code", async () => {
  const { stdout, bundle } = await dryRun("wrangler.toml");
  expect(stdout).toMatch(/--dry-run: exiting now/);
  expect(stdout).toMatch(/env\.ADMISSION/);
  expect(stdout).toMatch(/env\.JWKS_CACHE/);
  expect(stdout).toMatch(/env\.AUDIT/);
  expect(stdout).not.toMatch(/schedule|ANALYTICS_API_TOKEN|ALERT_WEBHOOK_URL|ANALYTICS_ACCOUNT_ID/);
  expect(bundle).toContain("AdmissionControl");
  // Size is a budget, not a timing.
  expect(gzipSync(bundle).byteLength / 1024).toBeLessThanOrEqual(BUNDLE_GZIP_KIB_MAX);
  for (const absent of [...TEST_ONLY, ...ALERT_MARKERS]) expect(bundle).not.toContain(absent);
});

it("wrangler deploy -c wrangler.alerts.toml --dry-run bundles the alert cron Worker: alerting only", async () => {
  const { stdout, bundle } = await dryRun("wrangler.alerts.toml");
  expect(stdout).toMatch(/--dry-run: exiting now/);
  expect(stdout).toMatch(/env\.ALERT_STATE/);
  expect(stdout).not.toMatch(/env\.(JWKS_CACHE|ADMISSION|AUDIT)\b/);
  for (const marker of ALERT_MARKERS) expect(bundle).toContain(marker);
  expect(gzipSync(bundle).byteLength / 1024).toBeLessThanOrEqual(ALERTS_BUNDLE_GZIP_KIB_MAX);
  // Nothing of the request path (no admission object, no STS call) and no test code.
  for (const absent of [...TEST_ONLY, "AdmissionControl", "AssumeRole"]) expect(bundle).not.toContain(absent);
});

it("the address limit's rate-limiting bindings match src/admission/constants.ts, in every environment", () => {
  const toml = readFileSync(join(repoRoot, "wrangler.toml"), "utf8");
  const bindings = [
    ...toml.matchAll(
      /^\[\[(env\.\w+\.)?ratelimits\]\]\s*\nname = "(\w+)"\s*\nnamespace_id = "(\d+)"\s*\nsimple = \{ limit = (\d+), period = (\d+) \}/gm,
    ),
  ].map(([, env, name, namespaceId, limit, period]) => ({
    env: env ?? "",
    name,
    namespaceId,
    limit: Number(limit),
    period: Number(period),
  }));
  const expected = (env: string) => [
    {
      env,
      name: "ADDRESS_LIMITER",
      namespaceId: "1401",
      limit: ADDRESS_LIMIT_PER_PERIOD,
      period: ADDRESS_LIMIT_PERIOD_SECONDS,
    },
    {
      env,
      name: "NETWORK_LIMITER",
      namespaceId: "1402",
      limit: NETWORK_LIMIT_PER_PERIOD,
      period: ADDRESS_LIMIT_PERIOD_SECONDS,
    },
  ];
  const environments = ["", ...[...toml.matchAll(/^\[env\.(\w+)\]/gm)].map(([, name]) => `env.${name}.`)];
  expect(bindings).toEqual(environments.flatMap(expected));
});
