// Builds the Worker bundle exactly as `wrangler deploy` would upload it (dry run, offline) and runs Workers in
// workerd through Miniflare's API, their outbound fetches answered by Node-side fakes. Used by bench.ts only.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import {
  convertV4MiniflareOptions,
  Log,
  LogLevel,
  Miniflare,
  Response as MiniflareResponse,
  type Request as MiniflareRequest,
  type V4MiniflareOptions,
  type V4WorkerdStructuredLog,
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
  if (entryName === undefined) throw new Error(`no JavaScript module in ${dir} (found: ${names.join(", ") || "nothing"})`);
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

// --- Outbound network --------------------------------------------------------------------------

/** A fetch handler in the global (Node) Request/Response types, e.g. a fake network's `fetch`. */
export type OutboundFetch = (request: Request) => Promise<Response>;

/** Receives the wall time of each outbound request, measured inside the Node-side handler. */
export type OutboundObserver = (origin: string, ms: number, ok: boolean) => void;

/**
 * Miniflare's outboundService: converts Miniflare's Request (its own undici copy) to the global Request, lets
 * `fetch` answer, and converts back. The time observed spans the whole handler: reading the request, the fake's
 * work and building the reply, i.e. what the Worker waits on beyond the workerd<->Node hop itself.
 */
export function outboundService(fetch: OutboundFetch, observe: OutboundObserver): (request: MiniflareRequest) => Promise<MiniflareResponse> {
  return async (request) => {
    const started = performance.now();
    const origin = new URL(request.url).origin;
    let ok = false;
    try {
      const headers = new Headers();
      for (const [name, value] of request.headers) headers.append(name, value);
      const hasBody = request.method !== "GET" && request.method !== "HEAD";
      const body = hasBody ? await request.arrayBuffer() : undefined;
      const response = await fetch(new Request(request.url, { method: request.method, headers, body }));
      const replyHeaders: [string, string][] = [];
      for (const [name, value] of response.headers) replyHeaders.push([name, value]);
      const reply = new MiniflareResponse(await response.arrayBuffer(), { status: response.status, statusText: response.statusText, headers: replyHeaders });
      ok = true;
      return reply;
    } finally {
      observe(origin, performance.now() - started, ok);
    }
  };
}

// --- CPU accounting (Linux /proc; undefined elsewhere) ------------------------------------------

/** Linux reports process CPU times in USER_HZ ticks, 100 per second on every mainstream architecture. */
const MS_PER_CLOCK_TICK = 10;

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

// --- Workers in workerd ------------------------------------------------------------------------

export interface WorkerHandle {
  name: string;
  url: URL;
  /** The last few log lines the Worker wrote (silenced during the run, kept for diagnostics). */
  recentLogs: string[];
  logLines: () => number;
  /** CPU time the Worker's workerd process has used so far (ms), when the platform tells us. */
  cpuMs: () => number | undefined;
  dispose: () => Promise<void>;
}

export interface StartWorkerOptions {
  name: string;
  source: { scriptPath: string } | { script: string };
  settings: WranglerSettings;
  bindings: Record<string, string>;
  kvNamespaces?: string[];
  durableObjects?: Record<string, { className: string; useSQLite?: boolean }>;
  analyticsEngineDatasets?: Record<string, { dataset: string }>;
  outbound: (request: MiniflareRequest) => Promise<MiniflareResponse>;
  /** Sees every line the Worker logs (console.*), e.g. to read the broker's own per-exchange timings. */
  onLog?: (level: string, message: string) => void;
}

const KEPT_LOG_LINES = 20;

/** Starts one Worker in its own workerd process; resolves once it accepts HTTP requests. */
export async function startWorker(options: StartWorkerOptions): Promise<WorkerHandle> {
  const recentLogs: string[] = [];
  let lines = 0;
  const v4: V4MiniflareOptions = {
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
    outboundService: options.outbound,
    // Silence: Miniflare's own request log and the Worker's console lines stay off the terminal during the
    // run (a Worker still pays for console.log itself, as it does in production).
    log: new Log(LogLevel.WARN),
    cf: false,
    logRequests: false,
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
  const pid = started.length === 1 ? started[0] : undefined;
  return {
    name: options.name,
    url,
    recentLogs,
    logLines: () => lines,
    cpuMs: () => (pid === undefined ? undefined : processCpuMs(pid)),
    dispose: () => mf.dispose(),
  };
}
