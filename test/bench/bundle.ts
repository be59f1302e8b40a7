// What workerd runs: the Worker bundle exactly as `wrangler deploy` would upload it (dry run, offline), bench-only
// Workers bundled by esbuild (the fakes, the admission A/B broker), and wrangler.toml's compatibility settings.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

export interface BundleFile {
  name: string;
  bytes: number;
  gzipBytes: number;
}

export interface Bundle {
  dir: string;
  /** The module workerd starts from. */
  entry: string;
  /** The files wrangler would upload (source maps and the README wrangler writes are not among them). */
  files: BundleFile[];
  bytes: number;
  gzipBytes: number;
  /** "gzip: N KiB" as printed by wrangler's dry run, when it printed one: a cross-check of `gzipBytes`. */
  wranglerGzipKiB: number | undefined;
  buildMs: number;
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Sizes the files of an already built bundle directory (the output of `wrangler deploy --dry-run --outdir`). */
export function measureBundle(dir: string): Omit<Bundle, "wranglerGzipKiB" | "buildMs"> {
  const names = readdirSync(dir)
    .filter((name) => statSync(path.join(dir, name)).isFile())
    .filter((name) => !name.endsWith(".map") && name !== "README.md")
    .sort();
  const files = names.map((name) => {
    const contents = readFileSync(path.join(dir, name));
    return { name, bytes: contents.byteLength, gzipBytes: gzipSync(contents).byteLength };
  });
  const entryName = names.includes("index.js") ? "index.js" : names.find((name) => /\.(m?js)$/.test(name));
  if (entryName === undefined)
    throw new Error(`no JavaScript module in ${dir} (found: ${names.join(", ") || "nothing"})`);
  return {
    dir,
    entry: path.join(dir, entryName),
    files,
    bytes: files.reduce((sum, file) => sum + file.bytes, 0),
    gzipBytes: files.reduce((sum, file) => sum + file.gzipBytes, 0),
  };
}

/** `wrangler deploy --dry-run --outdir <outdir>`: bundles without contacting Cloudflare. */
export async function buildBundle(repoRoot: string, outdir: string): Promise<Bundle> {
  const started = performance.now();
  const wrangler = path.join(repoRoot, "node_modules", ".bin", "wrangler");
  const { code, output } = await run(wrangler, ["deploy", "--dry-run", "--env", "", "--outdir", outdir], repoRoot);
  const buildMs = performance.now() - started;
  if (code !== 0) throw new Error(`wrangler deploy --dry-run failed (exit ${code}):\n${output.trim()}`);
  const reported = /gzip:\s*([\d.]+)\s*KiB/i.exec(output);
  return { ...measureBundle(outdir), wranglerGzipKiB: reported === null ? undefined : Number(reported[1]), buildMs };
}

/**
 * The bundle to measure: `dir` as an earlier `wrangler deploy --dry-run --outdir` left it, or a fresh build in a
 * temporary directory named `tmpPrefix*` (returned as `tmpdir`: the caller removes it).
 */
export async function prepareBundle(
  repoRoot: string,
  dir: string | undefined,
  tmpPrefix: string,
  progress: (message: string) => void,
): Promise<{ bundle: Bundle; tmpdir: string | undefined }> {
  if (dir !== undefined)
    return { bundle: { ...measureBundle(dir), wranglerGzipKiB: undefined, buildMs: 0 }, tmpdir: undefined };
  const tmpdir = mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  progress("building the bundle (wrangler deploy --dry-run)...");
  try {
    return { bundle: await buildBundle(repoRoot, tmpdir), tmpdir };
  } catch (error) {
    rmSync(tmpdir, { recursive: true, force: true });
    throw error;
  }
}

// --- wrangler.toml -----------------------------------------------------------------------------

export interface WranglerSettings {
  compatibilityDate: string;
  compatibilityFlags: string[];
}

/** The top-level compatibility settings of wrangler.toml (the default environment, the one deployed). */
export function readWranglerSettings(configPath: string): WranglerSettings {
  const text = readFileSync(configPath, "utf8");
  // Top level only: stop at the first table header.
  const topLevel = text.split(/^\s*\[/m)[0] ?? "";
  const date = /^\s*compatibility_date\s*=\s*"([^"]+)"/m.exec(topLevel)?.[1];
  if (date === undefined) throw new Error(`no compatibility_date in ${configPath}`);
  const flags = /^\s*compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(topLevel)?.[1];
  return {
    compatibilityDate: date,
    compatibilityFlags: flags === undefined ? [] : [...flags.matchAll(/"([^"]+)"/g)].map((match) => match[1] as string),
  };
}

// --- Bench-only Workers (the fakes, the admission A/B broker) ---------------------------------------

/**
 * Bundles a bench-only Worker (test/bench/fakes-worker.ts, test/bench/broker-ab-worker.ts) for workerd, in memory,
 * resolving packages as wrangler does (workerd/worker/browser builds, no Node built-ins).
 */
export async function bundleWorker(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*"],
    target: "es2023",
    // As wrangler bundles: function names kept (stack traces, error names).
    keepNames: true,
    logLevel: "silent",
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild produced no output for ${entry}`);
  return output.text;
}
