// Summary statistics for the benchmark: nearest-rank percentiles over latency samples in milliseconds.
// Pure; no I/O; no clock.

export interface LatencySummary {
  count: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
  max_ms: number;
  total_ms: number;
}

/** Nearest-rank percentile (p in [0, 100]) of ascending-sorted samples; NaN when there are none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function summarise(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let total = 0;
  for (const value of sorted) total += value;
  return {
    count: sorted.length,
    p50_ms: percentile(sorted, 50),
    p99_ms: percentile(sorted, 99),
    mean_ms: sorted.length === 0 ? Number.NaN : total / sorted.length,
    max_ms: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
    total_ms: total,
  };
}

/** Rounds for the report: enough digits to compare runs, none that are noise. */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
