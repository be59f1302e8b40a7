// `node sandbox/local-analytics/install.ts`: installs chdb, pinned, into the git-ignored .cache/chdb on first use
// (npm test and npm start run it). One progress line. The lockfile npm writes there must name exactly the packages,
// versions and tarball integrity hashes of CHDB_PINS: npm has checked each download against that integrity, so a
// match means the installed bytes are the pinned ones. Any failure is recorded (CHDB_FAILURE_FILE) and printed in one
// line, and the exit code stays 0: `npm start` runs without local analytics, and the tests that need chdb fail naming
// the reason (ChdbUnavailableError) instead of stopping every other test.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import {
  CHDB_DIR,
  CHDB_FAILURE_FILE,
  CHDB_PINS,
  CHDB_VERIFIED_FILE,
  chdbVerified,
  lockMismatches,
  pinsFingerprint,
} from "./chdb.ts";
import { CHDB_INSTALL_TIMEOUT_MS } from "./constants.ts";

/** The one platform whose native chdb package the registry serves (the others answer 404). */
const SUPPORTED_PLATFORM = "linux-x64";

function fail(reason: string): never {
  mkdirSync(CHDB_DIR, { recursive: true });
  rmSync(CHDB_VERIFIED_FILE, { force: true });
  writeFileSync(CHDB_FAILURE_FILE, `${reason}\n`);
  process.stdout.write(`local analytics off: chdb could not be installed (${reason})\n`);
  process.exit(0);
}

if (!chdbVerified()) {
  const platform = `${process.platform}-${process.arch}`;
  if (platform !== SUPPORTED_PLATFORM)
    fail(`no chdb native package for ${platform} on this registry, only ${SUPPORTED_PLATFORM}`);
  const started = Date.now();
  process.stdout.write(
    `local analytics: installing chdb@${CHDB_PINS.chdb?.version} (pinned, about 180 MB once) into .cache/chdb ... `,
  );
  rmSync(CHDB_DIR, { recursive: true, force: true });
  mkdirSync(CHDB_DIR, { recursive: true });
  // Exact versions everywhere: chdb itself as the dependency, every other package through overrides.
  const overrides = Object.fromEntries(
    Object.entries(CHDB_PINS)
      .filter(([name]) => name !== "chdb")
      .map(([name, pin]) => [name, pin.version]),
  );
  writeFileSync(
    `${CHDB_DIR}package.json`,
    `${JSON.stringify({ private: true, description: "chdb for the local Analytics Engine (sandbox/local-analytics)", dependencies: { chdb: CHDB_PINS.chdb?.version }, overrides }, null, 2)}\n`,
  );
  // The npm that runs `npm test` / `npm start` (npm_execpath), else the one on the PATH. No install scripts: chdb's is
  // a no-op.
  const npmCli = process.env.npm_execpath;
  const args = [
    "install",
    "--prefix",
    CHDB_DIR,
    "--no-audit",
    "--no-fund",
    "--ignore-scripts",
    "--loglevel=error",
    "--package-lock=true",
  ];
  const result = npmCli?.endsWith(".js")
    ? spawnSync(process.execPath, [npmCli, ...args], { encoding: "utf8", timeout: CHDB_INSTALL_TIMEOUT_MS })
    : spawnSync("npm", args, { encoding: "utf8", timeout: CHDB_INSTALL_TIMEOUT_MS });
  if (result.status !== 0) {
    process.stdout.write("\n");
    // npm's own reason (its first error lines), not the pointer to its debug log.
    const lines = `${result.stderr ?? ""}\n${result.error?.message ?? ""}`
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.includes("A complete log of this run"));
    const detail = lines.slice(0, 2).join(" ");
    fail(
      `npm install failed${result.status === null ? " (timed out or killed)" : ` (exit ${result.status})`}: ${detail}`,
    );
  }
  let lock: Parameters<typeof lockMismatches>[0];
  try {
    lock = JSON.parse(readFileSync(`${CHDB_DIR}package-lock.json`, "utf8")) as Parameters<typeof lockMismatches>[0];
  } catch {
    process.stdout.write("\n");
    fail("npm wrote no readable package-lock.json to verify");
  }
  const problems = lockMismatches(lock);
  if (problems.length > 0) {
    rmSync(`${CHDB_DIR}node_modules`, { recursive: true, force: true });
    process.stdout.write("\n");
    fail(`integrity check failed: ${problems.join("; ")}`);
  }
  rmSync(CHDB_FAILURE_FILE, { force: true });
  writeFileSync(CHDB_VERIFIED_FILE, pinsFingerprint());
  process.stdout.write(`done in ${Math.round((Date.now() - started) / 1000)} s\n`);
}
