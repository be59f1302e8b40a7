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

const run = promisify(execFile);
/** Issue #14's budget for the uploaded bundle (zlib gzip, default level); `npm run bench` checks the same figure. */
const BUNDLE_GZIP_KIB_MAX = 60;
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
  // Size is a budget, not a timing: Workers start faster with small bundles (issue #14: at most 60 KiB gzip).
  expect(gzipSync(bundle).byteLength / 1024).toBeLessThanOrEqual(BUNDLE_GZIP_KIB_MAX);
  for (const testOnly of ["createStsEmulator", "createFakeIssuer", "SANDBOX_PORT", "@smithy"]) expect(bundle).not.toContain(testOnly);
});
