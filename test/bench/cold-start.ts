// One cold start measured: a fresh workerd process for a Worker (its fakes the warm ones when they run apart), then
// its first request, the broker's first issuance (JWKS fetch, key import, new Durable Object, ...); wall and CPU time
// of each.
import type { LoadRequest } from "./load.ts";
import type { WorkerHandle } from "./runtime.ts";

/** One cold start: a fresh workerd process for the Worker (and its fakes), then its first request. */
export interface ColdStart {
  /**
   * From spawning workerd to its first answer being possible (Miniflare `ready`): the runtime's start, our module's
   * evaluation included.
   */
  startup_wall_ms: number;
  startup_cpu_ms: number | null;
  /**
   * The first request, timed from Node; the broker's first issuance (JWKS fetch, key import, new Durable Object, ...).
   */
  first_request_wall_ms: number;
  /** workerd CPU during that request (all threads, nanosecond schedstat). */
  first_request_cpu_ms: number | null;
}

/** Cold starts measured per Worker (median of this many fresh processes). */
export const COLD_START_SAMPLES = 3;

/** The broker's audit write and log line may finish just after the answer: time to let them land in the CPU figure. */
const SETTLE_AFTER_ANSWER_MS = 50;

/** Starts the Worker (`start`), sends it one request, measures both, disposes of it; throws unless it answers 200. */
export async function measureColdStart(
  worker: string,
  start: () => Promise<WorkerHandle>,
  request: () => LoadRequest,
): Promise<ColdStart> {
  const startedAt = performance.now();
  const handle = await start();
  try {
    const startupWallMs = performance.now() - startedAt;
    const startupCpuMs = handle.cpuMs();
    const spec = request();
    const cpuBefore = handle.cpuPreciseMs();
    const requestStarted = performance.now();
    const response = await fetch(new URL(spec.path, handle.url), { method: spec.method, headers: spec.headers });
    await response.arrayBuffer();
    const firstRequestWallMs = performance.now() - requestStarted;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_AFTER_ANSWER_MS));
    const cpuAfter = handle.cpuPreciseMs();
    if (response.status !== 200)
      throw new Error(`${worker} cold start answered ${response.status}:\n${handle.recentLogs.join("\n")}`);
    return {
      startup_wall_ms: startupWallMs,
      startup_cpu_ms: startupCpuMs ?? null,
      first_request_wall_ms: firstRequestWallMs,
      first_request_cpu_ms: cpuBefore === undefined || cpuAfter === undefined ? null : cpuAfter - cpuBefore,
    };
  } finally {
    await handle.dispose();
  }
}
