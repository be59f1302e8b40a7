// Runs Workers in workerd through Miniflare's API, each with companion Workers (the fakes) in the same workerd process
// answering its outbound fetches, and a Node server (node_baseline) as its own process: handles with CPU figures.
import { spawn } from "node:child_process";
import path from "node:path";
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
import type { WranglerSettings } from "./bundle.ts";
import { childPids, processCpuMs, processCpuPreciseMs } from "./process-cpu.ts";

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
  /**
   * CPU time the Worker's workerd process (the Worker and its companions) has used so far (ms), when the platform tells
   * us.
   */
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
