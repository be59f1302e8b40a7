// `wrangler deploy --dry-run` is what an operator's release runs first: it must bundle offline, and the
// bundle must hold the Worker only (no test fakes, no sandbox code).
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
 * Regression guard for the uploaded bundle (zlib gzip, default level); `npm run bench` reports the same figure. The
 * request Worker's budget (docs/performance.md "Bundle"): Workers start faster with small bundles. Growth past it is a
 * decision, not drift.
 */
const BUNDLE_GZIP_KIB_MAX = 70;
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const outdir = mkdtempSync(join(tmpdir(), "ci-credential-broker-dry-run-"));

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

it("wrangler deploy --dry-run bundles the Worker offline, without test code", async () => {
  const wrangler = join(repoRoot, "node_modules/wrangler/bin/wrangler.js");
  const { stdout } = await run(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", outdir], {
    cwd: repoRoot,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  expect(stdout).toMatch(/--dry-run: exiting now/);
  expect(stdout).toMatch(/env\.ADMISSION/);
  expect(stdout).toMatch(/env\.JWKS_CACHE/);
  expect(stdout).toMatch(/env\.AUDIT/);
  const bundle = readdirSync(outdir)
    .filter((name) => name.endsWith(".js"))
    .map((name) => readFileSync(join(outdir, name), "utf8"))
    .join("\n");
  expect(bundle).toContain("AdmissionControl");
  // Size is a budget, not a timing.
  expect(gzipSync(bundle).byteLength / 1024).toBeLessThanOrEqual(BUNDLE_GZIP_KIB_MAX);
  for (const testOnly of ["createStsEmulator", "createFakeIssuer", "SANDBOX_PORT", "@smithy"])
    expect(bundle).not.toContain(testOnly);
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
