// Builds the Worker bundle exactly as `wrangler deploy` would upload it (dry run, offline), bundles the fakes Worker
// (esbuild), and runs Workers in workerd through Miniflare's API, each with companion Workers (the fakes) in the same
// workerd process answering its outbound fetches. Used by bench.ts only.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import {
  convertV4MiniflareOptions,
  Log,
  LogLevel,
  Miniflare,
  type V4MiniflareOptions,
  type V4ServiceDesignator,
  type V4WorkerdStructuredLog,
  type V4WorkerOptions,
} from "miniflare";

// --- Bundle ------------------------------------------------------------------------------------

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

// --- CPU accounting (Linux /proc; undefined elsewhere) ------------------------------------------

/** Linux reports process CPU times in USER_HZ ticks, 100 per second on every mainstream architecture. */
export const MS_PER_CLOCK_TICK = 10;

/** Pids of this process's live children named `comm` (e.g. the workerd processes Miniflare spawned). */
function childPids(comm: string): Set<number> {
  const pids = new Set<number>();
  try {
    for (const task of readdirSync("/proc/self/task")) {
      for (const pid of readFileSync(`/proc/self/task/${task}/children`, "utf8").trim().split(/\s+/).filter(Boolean)) {
        if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === comm) pids.add(Number(pid));
      }
    }
  } catch {
    // Not Linux, or a child exited while we looked: CPU figures are best-effort.
  }
  return pids;
}

/** User + system CPU time of a process so far, in ms. */
function processCpuMs(pid: number): number | undefined {
  try {
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields of the line.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_CLOCK_TICK;
  } catch {
    return undefined;
  }
}

/**
 * CPU time of a process so far in ms, at nanosecond resolution: the sum of its live threads' schedstat run times
 * (threads that have exited are not counted, so use it for deltas over short spans, e.g. one request).
 */
function processCpuPreciseMs(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`))
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    return ns / 1e6;
  } catch {
    return undefined;
  }
}

// --- Workers in workerd ------------------------------------------------------------------------

export interface WorkerHandle {
  name: string;
  url: URL;
  /** The workerd process (undefined when it could not be told apart from others starting at the same time). */
  pid: number | undefined;
  /** `host:port` of the Worker's own socket (StartWorkerOptions `directSocket`). */
  directAddress: string | undefined;
  /** The last few log lines the Worker (or its companions) wrote (silenced during the run, kept for diagnostics). */
  recentLogs: string[];
  logLines: () => number;
  /** CPU time the Worker's workerd process (the Worker and its companions) has used so far (ms), when the platform tells us. */
  cpuMs: () => number | undefined;
  /** The same at nanosecond resolution, live threads only: for deltas over one request. */
  cpuPreciseMs: () => number | undefined;
  /** GET `url` from a companion Worker (e.g. the fakes' counters), straight from Node; the body as JSON. */
  getJson: (worker: string, url: string) => Promise<unknown>;
  dispose: () => Promise<void>;
}

/** Another Worker in the same workerd process (e.g. the fakes), reachable by name as a service. */
export interface CompanionWorker {
  name: string;
  script: string;
  /** JSON bindings (Miniflare `bindings`: any JSON value, parsed in the Worker's env). */
  bindings: Record<string, unknown>;
}

export interface StartWorkerOptions {
  name: string;
  source: { scriptPath: string } | { script: string };
  settings: WranglerSettings;
  /** Plain-text vars and secrets, or JSON values (Miniflare `bindings`). */
  bindings: Record<string, unknown>;
  kvNamespaces?: string[];
  durableObjects?: Record<string, { className: string; useSQLite?: boolean }>;
  analyticsEngineDatasets?: Record<string, { dataset: string }>;
  /** Rate-limiting bindings (wrangler.toml [[ratelimits]]), as Miniflare implements them. */
  ratelimits?: Record<string, { namespace_id: string; simple: { limit: number; period: 10 | 60 } }>;
  /** Service bindings, e.g. to a companion's entrypoint: `{ name, entrypoint, props }`. */
  serviceBindings?: Record<string, { name: string; entrypoint?: string; props?: Record<string, unknown> }>;
  /** Where the Worker's outbound fetches go, e.g. a companion's name, or another process (`externalOutbound`). */
  outbound?: V4ServiceDesignator;
  /** Also serve the Worker on its own loopback socket (no Miniflare entry Worker in front): `directAddress`. */
  directSocket?: boolean;
  /**
   * Where `url` points: "miniflare" (default), Miniflare's entry Worker, which passes each request on to this Worker
   * (one more isolate hop, in the same process: ~0.3 ms of CPU per request here, which production does not have);
   * "direct", this Worker's own socket (as `directSocket`).
   */
  entry?: Entry;
  companions?: CompanionWorker[];
  /** Sees every line the Workers log (console.*), e.g. to read the broker's own per-exchange timings. */
  onLog?: (level: string, message: string) => void;
  /** workerd's V8 inspector on this port (a CPU profile of the Workers: `npm run bench -- --profile`). */
  inspectorPort?: number;
}

const KEPT_LOG_LINES = 20;

/** How measured requests reach a Worker (StartWorkerOptions `entry`). */
export type Entry = "miniflare" | "direct";

/**
 * Starts one Worker (the first, so Miniflare's URL serves it) and its companions in their own workerd process;
 * resolves once it accepts HTTP requests.
 */
export async function startWorker(options: StartWorkerOptions): Promise<WorkerHandle> {
  const ownSocket = options.directSocket === true || options.entry === "direct";
  const recentLogs: string[] = [];
  let lines = 0;
  const main: V4WorkerOptions = {
    name: options.name,
    modules: true,
    ...options.source,
    // Module names are paths relative to this root; the bundle lives outside the repository (a temp dir).
    ...("scriptPath" in options.source ? { modulesRoot: path.dirname(options.source.scriptPath) } : {}),
    compatibilityDate: options.settings.compatibilityDate,
    compatibilityFlags: options.settings.compatibilityFlags,
    bindings: options.bindings,
    kvNamespaces: options.kvNamespaces,
    durableObjects: options.durableObjects,
    analyticsEngineDatasets: options.analyticsEngineDatasets,
    ratelimits: options.ratelimits,
    serviceBindings: options.serviceBindings,
    outboundService: options.outbound,
    ...(ownSocket ? { unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] } : {}),
  } as V4WorkerOptions;
  const companions = (options.companions ?? []).map(
    (companion) =>
      ({
        name: companion.name,
        modules: true,
        script: companion.script,
        compatibilityDate: options.settings.compatibilityDate,
        compatibilityFlags: options.settings.compatibilityFlags,
        bindings: companion.bindings,
      }) as V4WorkerOptions,
  );
  const v4: V4MiniflareOptions = {
    workers: [main, ...companions],
    // Silence: Miniflare's own request log and the Workers' console lines stay off the terminal during the
    // run (a Worker still pays for console.log itself, as it does in production).
    log: new Log(LogLevel.WARN),
    cf: false,
    logRequests: false,
    ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
    handleStructuredLogs: (log: V4WorkerdStructuredLog) => {
      lines++;
      options.onLog?.(log.level, log.message);
      recentLogs.push(`${log.level}: ${log.message}`);
      if (recentLogs.length > KEPT_LOG_LINES) recentLogs.shift();
    },
  };
  const before = childPids("workerd");
  const mf = new Miniflare(convertV4MiniflareOptions(v4));
  let url: URL;
  try {
    url = await mf.ready;
  } catch (error) {
    // A Worker that fails to start still leaves Miniflare's Node-side servers open: close them, or Node never exits.
    await mf.dispose().catch(() => undefined);
    throw error;
  }
  const started = [...childPids("workerd")].filter((pid) => !before.has(pid));
  const directAddress = ownSocket ? (await mf.unsafeGetDirectURL(options.name)).host : undefined;
  if (options.entry === "direct") url = new URL(`http://${directAddress}/`);
  const pid = started.length === 1 ? started[0] : undefined;
  return {
    name: options.name,
    url,
    pid,
    directAddress,
    recentLogs,
    logLines: () => lines,
    cpuMs: () => (pid === undefined ? undefined : processCpuMs(pid)),
    cpuPreciseMs: () => (pid === undefined ? undefined : processCpuPreciseMs(pid)),
    async getJson(worker, target) {
      const fetcher = await mf.getWorker(worker);
      const response = await fetcher.fetch(target);
      if (!response.ok) throw new Error(`${worker} answered ${response.status} for ${target}`);
      return await response.json();
    },
    dispose: () => mf.dispose(),
  };
}

// --- A Node server (the bench's node_baseline) ----------------------------------------------------

/** How long a Node server may take to print `listening <port>`. */
const NODE_SERVER_START_TIMEOUT_MS = 30_000;

/**
 * Starts `script` with this Node (the project's pinned Node 24) as a server of its own, `env` added to the
 * environment; resolves once it prints `listening <port>` on stdout. The handle's CPU figures are that process's.
 */
export function startNodeServer(options: {
  name: string;
  script: string;
  env: Record<string, string>;
}): Promise<WorkerHandle> {
  const recentLogs: string[] = [];
  let lines = 0;
  const child = spawn(process.execPath, [options.script], {
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
      lines++;
      recentLogs.push(line);
      if (recentLogs.length > KEPT_LOG_LINES) recentLogs.shift();
    }
  };
  child.stderr.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise<WorkerHandle>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(
        new Error(
          `${options.name}: no "listening" line within ${NODE_SERVER_START_TIMEOUT_MS} ms:\n${recentLogs.join("\n")}`,
        ),
      );
    }, NODE_SERVER_START_TIMEOUT_MS);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited (${code}) before listening:\n${recentLogs.join("\n")}`));
    });
    child.stdout.on("data", (chunk: Buffer) => {
      keep(chunk);
      const port = /^listening (\d+)$/m.exec(chunk.toString("utf8"))?.[1];
      if (port === undefined || child.pid === undefined) return;
      clearTimeout(timer);
      const pid = child.pid;
      resolve({
        name: options.name,
        url: new URL(`http://127.0.0.1:${port}/`),
        pid,
        directAddress: `127.0.0.1:${port}`,
        recentLogs,
        logLines: () => lines,
        cpuMs: () => processCpuMs(pid),
        cpuPreciseMs: () => processCpuPreciseMs(pid),
        getJson: () => Promise.reject(new Error(`${options.name} is not a Worker: no companion Workers`)),
        async dispose() {
          child.kill();
          await exited;
        },
      });
    });
  });
}
