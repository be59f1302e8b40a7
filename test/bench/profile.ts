// `npm run bench -- --profile [--profile-out=<dir> | --perf=<file>]`: where the broker's workerd CPU goes. Runs the
// bundle (as the bench does, beside its
// fakes Worker) with workerd's V8 inspector on, warms it up, then records a CPU profile of every isolate in the process
// (the broker's, whose Durable Objects run in it too, and the fakes Worker's) over measured requests at concurrency 1.
// Prints self time by function (top entries per isolate) and the process's CPU split by thread, and writes each
// profile as a .cpuprofile file (open it in Chrome DevTools' Performance panel) when --profile-out=<dir> is given.
// With --perf=<file> instead: no inspector; `perf record -g` of the workerd process over the measured requests (Linux
// perf; native frames, SQLite and the kernel included), read with `perf report -i <file>`. The fakes run in a process
// of their own, as in the bench; workerd's storage is wherever TMPDIR points (the bench puts it on /dev/shm).
//
// Native work (BoringSSL, SQLite, RPC serialisation, the HTTP stack) shows in V8's profile only as the JS call that
// entered it, or not at all (I/O threads): the per-thread CPU split says how much of the process that is.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { keepAliveAgent, runLoad, type LoadRequest } from "./load.ts";
import { buildBundle, bundleWorker, readWranglerSettings } from "./bundle.ts";
import { repositoryClaims } from "./load-shape.ts";
import { threadCpu } from "./process-cpu.ts";
import { linkFakes, startBroker } from "./start-broker.ts";
import type { WorkerHandle } from "./runtime.ts";
import { createBrokerWorld, type BrokerWorld } from "./world.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const progress = (message: string) => process.stderr.write(`profile: ${message}\n`);

/** A free port for the inspector: workerd binds it; 0 is not accepted there. */
const INSPECTOR_PORT = 9229 + 17;
const WARMUP_REQUESTS = 2_000;
const PROFILED_REQUESTS = 2_000;
const REQUESTS_PER_REPOSITORY = 60;
const TOP_FUNCTIONS = 30;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One Chrome DevTools Protocol session over the inspector's WebSocket. */
async function cdpSession(
  url: string,
): Promise<{ send: (method: string, params?: object) => Promise<unknown>; close: () => void }> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error(`inspector ${url}: connection failed`)), { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id === undefined) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(message.error.message));
    else waiter?.resolve(message.result);
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}

/** Self time per function (ms), the samples' time deltas attributed to the sampled node. */
function selfTimes(profile: CpuProfile): { total: number; rows: [string, number][] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    const frame = byId.get(id)?.callFrame;
    const where =
      frame === undefined
        ? "?"
        : `${frame.functionName || "(anonymous)"} ${frame.url.split("/").slice(-2).join("/")}:${frame.lineNumber + 1}:${frame.columnNumber + 1}`;
    self.set(where, (self.get(where) ?? 0) + ms);
    total += ms;
  });
  return { total, rows: [...self].sort((a, b) => b[1] - a[1]) };
}

type Session = Awaited<ReturnType<typeof cdpSession>>;
type Inspector = { title: string; session: Session }[];

/** `--profile-out=<dir>` and `--perf=<file>`, resolved. */
function profileArgs(): { outDir: string | undefined; perfOut: string | undefined } {
  const outArg = process.argv.find((arg) => arg.startsWith("--profile-out="));
  const perfArg = process.argv.find((arg) => arg.startsWith("--perf="));
  return {
    outDir: outArg === undefined ? undefined : path.resolve(outArg.slice("--profile-out=".length)),
    perfOut: perfArg === undefined ? undefined : path.resolve(perfArg.slice("--perf=".length)),
  };
}

/** `total` tokens minted before any timing; each request takes the next, from one of 200 runner addresses. */
async function tokenRequests(world: BrokerWorld, total: number): Promise<() => LoadRequest> {
  progress(`minting ${total} tokens...`);
  const tokens: string[] = [];
  for (let i = 0; i < total; i += 64) {
    tokens.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(64, total - i) }, (_, j) =>
          world.issuer.mint(repositoryClaims(Math.floor((i + j) / REQUESTS_PER_REPOSITORY))),
        ),
      )),
    );
  }
  let next = 0;
  return (): LoadRequest => {
    const index = next++;
    const n = (index % 200) + 1;
    return {
      method: "POST",
      path: "/v1/credentials",
      headers: { authorization: `Bearer ${tokens[index]}`, "cf-connecting-ip": `10.0.${n >> 8}.${n & 255}` },
    };
  };
}

/** Starts recording: a V8 CPU profile per isolate over the inspector, or `perf record` of the process. */
async function startRecording(pid: number, perfOut: string | undefined) {
  const targets =
    perfOut !== undefined
      ? []
      : ((await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json/list`)).json()) as {
          title?: string;
          id?: string;
          webSocketDebuggerUrl?: string;
        }[]);
  const perf =
    perfOut === undefined
      ? undefined
      : spawn("perf", ["record", "-F", "2000", "-g", "-p", String(pid), "-o", perfOut], { stdio: "inherit" });
  if (perf !== undefined) await new Promise((resolve) => setTimeout(resolve, 1_000));
  const sessions: Inspector = await Promise.all(
    targets
      .filter((target) => target.webSocketDebuggerUrl !== undefined)
      .map(async (target) => ({
        title: target.title ?? target.id ?? "?",
        session: await cdpSession(target.webSocketDebuggerUrl as string),
      })),
  );
  for (const { session } of sessions) {
    await session.send("Profiler.enable");
    await session.send("Profiler.setSamplingInterval", { interval: 100 });
    await session.send("Profiler.start");
  }
  return { sessions, perf };
}

/** The process's CPU over the measured requests, by thread, per request. */
function printThreadCpu(before: Map<string, number>, after: Map<string, number>): void {
  process.stdout.write("\nworkerd CPU by thread (ms per request):\n");
  let processTotal = 0;
  for (const [name, ms] of [...after]
    .map(([name, ms]) => [name, ms - (before.get(name) ?? 0)] as const)
    .sort((a, b) => b[1] - a[1])) {
    processTotal += ms;
    if (ms > 0) process.stdout.write(`  ${name.padEnd(20)} ${(ms / PROFILED_REQUESTS).toFixed(3)}\n`);
  }
  process.stdout.write(`  ${"all".padEnd(20)} ${(processTotal / PROFILED_REQUESTS).toFixed(3)}\n`);
}

/** Stops each isolate's profile, writes it to `outDir` if given, and prints its top functions by self time. */
async function printIsolates(sessions: Inspector, outDir: string | undefined): Promise<void> {
  for (const { title, session } of sessions) {
    const { profile } = (await session.send("Profiler.stop")) as { profile: CpuProfile };
    session.close();
    if (outDir !== undefined)
      writeFileSync(path.join(outDir, `${title.replace(/[^\w.-]+/g, "_")}.cpuprofile`), JSON.stringify(profile));
    const { total: sampledMs, rows } = selfTimes(profile);
    const busy = rows.filter(([where]) => !where.startsWith("(idle)")).reduce((sum, [, ms]) => sum + ms, 0);
    process.stdout.write(
      `\nisolate ${title}: ${(busy / PROFILED_REQUESTS).toFixed(3)} ms per request not idle (of ${(sampledMs / PROFILED_REQUESTS).toFixed(3)} sampled); self time, µs per request:\n`,
    );
    for (const [where, ms] of rows.filter(([where]) => !where.startsWith("(idle)")).slice(0, TOP_FUNCTIONS)) {
      process.stdout.write(`  ${((1000 * ms) / PROFILED_REQUESTS).toFixed(1).padStart(7)}  ${where}\n`);
    }
  }
}

/** Warm-up, then the measured requests at concurrency 1 under the recording; prints what it found. */
async function profileBroker(handle: WorkerHandle, request: () => LoadRequest, outDir?: string, perfOut?: string) {
  const pid = handle.pid;
  if (pid === undefined) throw new Error("the broker's workerd process was not found");
  const agent = keepAliveAgent(10);
  progress(`warming up (${WARMUP_REQUESTS} requests)...`);
  await runLoad({ origin: handle.url, concurrency: 10, agent, request, requests: WARMUP_REQUESTS, expectStatus: 200 });
  agent.destroy();

  const { sessions, perf } = await startRecording(pid, perfOut);
  const before = threadCpu(pid);
  const measuredAgent = keepAliveAgent(1);
  const started = performance.now();
  const result = await runLoad({
    origin: handle.url,
    concurrency: 1,
    agent: measuredAgent,
    request,
    requests: PROFILED_REQUESTS,
    expectStatus: 200,
  });
  const wallMs = performance.now() - started;
  measuredAgent.destroy();
  const after = threadCpu(pid);
  if (perf !== undefined) {
    perf.kill("SIGINT");
    await new Promise((resolve) => perf.once("exit", resolve));
  }
  const non200 = [...result.statuses].filter(([status]) => status !== 200).reduce((sum, [, count]) => sum + count, 0);
  process.stdout.write(
    `${PROFILED_REQUESTS} requests at concurrency 1 in ${wallMs.toFixed(0)} ms (${non200} not 200)\n`,
  );
  printThreadCpu(before, after);
  await printIsolates(sessions, outDir);
}

async function main(): Promise<number> {
  const { outDir, perfOut } = profileArgs();
  const tmpdir = mkdtempSync(path.join(os.tmpdir(), "broker-profile-"));
  try {
    progress("building the bundle...");
    const bundle = await buildBundle(repoRoot, tmpdir);
    const settings = readWranglerSettings(path.join(repoRoot, "wrangler.toml"));
    const world = await createBrokerWorld(
      await bundleWorker(path.join(repoRoot, "test", "bench", "fakes-worker.ts")),
      "webcrypto",
    );
    const request = await tokenRequests(world, WARMUP_REQUESTS + PROFILED_REQUESTS);
    // The fakes in a process of their own, as in the bench: the broker's process is the broker's work.
    const fakes = await linkFakes(world, settings, "own-process", "broker");
    const handle = await startBroker(
      world,
      settings,
      bundle,
      undefined,
      perfOut === undefined ? { inspectorPort: INSPECTOR_PORT, fakes } : { fakes },
    );
    try {
      await profileBroker(handle, request, outDir, perfOut);
    } finally {
      await handle.dispose();
      await fakes.process?.dispose();
    }
  } finally {
    rmSync(tmpdir, { recursive: true, force: true });
  }
  return 0;
}

export { main };
