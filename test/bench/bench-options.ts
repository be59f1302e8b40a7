// `npm run bench`'s command line: its options (test/bench/README.md) parsed into the run's settings.
import path from "node:path";
import type { Entry } from "./runtime.ts";
import type { FakesConfig } from "./fakes-api.ts";
import { canPin, type StorageMedium } from "./host.ts";
import type { FakesPlacement } from "./start-broker.ts";

export interface CliOptions {
  scale: number;
  bundleDir: string | undefined;
  stsHash: FakesConfig["stsHash"];
  rateLimits: "stand-in" | "miniflare";
  fakes: FakesPlacement;
  storage: StorageMedium;
  pin: boolean;
  entry: Entry;
}

export function parseCli(argv: string[]): CliOptions {
  let scale = process.env.BENCH_SCALE === undefined ? 1 : Number(process.env.BENCH_SCALE);
  let bundleDir: string | undefined;
  let stsHash: FakesConfig["stsHash"] = "webcrypto";
  let rateLimits: CliOptions["rateLimits"] = "stand-in";
  let fakes: FakesPlacement = "own-process";
  let storage: StorageMedium = "ram";
  // Pinned by default where it can be done (Linux, taskset, 2 CPUs or more); --no-pin leaves placement to the
  // scheduler.
  let pin = canPin();
  let entry: Entry = "miniflare";
  for (const arg of argv) {
    if (arg === "--quick") scale = 0.1;
    else if (arg.startsWith("--scale=")) scale = Number(arg.slice("--scale=".length));
    else if (arg.startsWith("--bundle-dir=")) bundleDir = path.resolve(arg.slice("--bundle-dir=".length));
    else if (arg === "--sts-hash=js" || arg === "--sts-hash=webcrypto")
      stsHash = arg.slice("--sts-hash=".length) as FakesConfig["stsHash"];
    else if (arg === "--ratelimit=miniflare" || arg === "--ratelimit=stand-in")
      rateLimits = arg.slice("--ratelimit=".length) as CliOptions["rateLimits"];
    else if (arg === "--fakes=own-process" || arg === "--fakes=in-process")
      fakes = arg.slice("--fakes=".length) as FakesPlacement;
    else if (arg === "--storage=ram" || arg === "--storage=disk")
      storage = arg.slice("--storage=".length) as StorageMedium;
    else if (arg === "--pin") pin = true;
    else if (arg === "--no-pin") pin = false;
    else if (arg === "--entry=direct" || arg === "--entry=miniflare") entry = arg.slice("--entry=".length) as Entry;
    else
      throw new Error(
        `unknown option ${arg} (use --quick, --scale=<factor>, --bundle-dir=<dir>, --sts-hash=js|webcrypto, --ratelimit=stand-in|miniflare, --fakes=own-process|in-process, --storage=ram|disk, --pin, --no-pin, --entry=miniflare|direct)`,
      );
  }
  if (!(scale > 0)) throw new Error("scale must be a positive number");
  return { scale, bundleDir, stsHash, rateLimits, fakes, storage, pin, entry };
}
