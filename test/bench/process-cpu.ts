// CPU accounting of this process's children from Linux /proc: which workerd processes Miniflare spawned, and how much
// CPU a process has used (clock ticks, or nanosecond schedstat for short spans). Undefined where /proc is missing.
import { readdirSync, readFileSync } from "node:fs";

/** Linux reports process CPU times in USER_HZ ticks, 100 per second on every mainstream architecture. */
export const MS_PER_CLOCK_TICK = 10;

/** Pids of this process's live children named `comm` (e.g. the workerd processes Miniflare spawned). */
export function childPids(comm: string): Set<number> {
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
export function processCpuMs(pid: number): number | undefined {
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
export function processCpuPreciseMs(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`))
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    return ns / 1e6;
  } catch {
    return undefined;
  }
}

/** CPU time (ms) per thread name of a process, from /proc/<pid>/task/<tid>/stat (utime + stime). */
export function threadCpu(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ms = (Number(fields[11]) + Number(fields[12])) * MS_PER_CLOCK_TICK;
      byName.set(name, (byName.get(name) ?? 0) + ms);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return byName;
}
