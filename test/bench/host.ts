// The machine the bench runs on: CPU pinning of its processes (taskset), the storage medium workerd writes to, the
// hypervisor's steal time, and the versions of what runs. Linux-specific where it must be; best-effort elsewhere.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Fixture } from "./fixture.ts";

/** `taskset` exists and there are two CPUs or more to pin to. */
export function canPin(): boolean {
  return os.cpus().length >= 2 && spawnSync("taskset", ["-V"], { encoding: "utf8" }).status === 0;
}

/**
 * `--pin` (the default where `canPin`): the measured Workers' workerd processes on CPU 1, this process (the client) and
 * the fakes' processes on
 * CPU 0 (Linux `taskset`, all threads). On 2 vCPUs the scheduler otherwise moves them freely, and whether a Worker and
 * the processes it talks to share a vCPU changes its CPU per request by tens of percent from run to run
 * (docs/performance.md has the runs). Pinned, the Worker has a CPU of its own, as on the machine that runs it in
 * production, where neither the CI runner nor STS runs beside it.
 */
export function pinProcesses(fixture: Fixture): void {
  const pin = (pid: number | undefined, cpu: number) => {
    if (pid === undefined) throw new Error("--pin: a workerd process id is unknown");
    const result = spawnSync("taskset", ["-a", "-p", "-c", String(cpu), String(pid)], { encoding: "utf8" });
    if (result.status !== 0)
      throw new Error(`--pin: taskset failed for ${pid}: ${result.stderr || result.error?.message}`);
  };
  pin(process.pid, 0);
  for (const target of Object.values(fixture.targets)) {
    pin(target.handle.pid, 1);
    if (target.fakes !== undefined) pin(target.fakes.pid, 0);
  }
}

/**
 * Where workerd keeps local storage (Durable Object SQLite, KV): "ram" (default where /dev/shm exists), a tmpfs, or
 * "disk", this VM's virtual disk. Every admission still runs its SQLite transaction and WAL commit either way; on
 * "disk" each commit's fsync also traps to the hypervisor, which prices this VM's disk rather than the broker
 * (docs/performance.md, "What the bench measures").
 */
export type StorageMedium = "ram" | "disk";
const RAM_DIR = "/dev/shm";

/** Points Miniflare's temporary storage (os.tmpdir(), read at each start) at a fresh directory on the medium. */
export function useStorage(medium: StorageMedium): { medium: StorageMedium; dir: string | undefined } {
  if (medium === "disk" || !existsSync(RAM_DIR)) return { medium: "disk", dir: undefined };
  const dir = mkdtempSync(path.join(RAM_DIR, "broker-bench-"));
  process.env.TMPDIR = dir;
  return { medium, dir };
}

/** CPU time stolen by the hypervisor and all CPU time so far, in ticks, from /proc/stat (Linux only). */
export function readCpuTicks(): { steal: number; total: number } | undefined {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    return { steal: fields[7] ?? 0, total: fields.reduce((sum, value) => sum + value, 0) };
  } catch {
    return undefined;
  }
}

export function packageVersion(repoRoot: string, name: string): string | null {
  try {
    return (
      (
        JSON.parse(readFileSync(path.join(repoRoot, "node_modules", name, "package.json"), "utf8")) as {
          version?: string;
        }
      ).version ?? null
    );
  } catch {
    return null;
  }
}
