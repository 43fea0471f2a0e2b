/** Nearest-rank percentile (q in 0..1) of the samples; 0 for none. Sorts a copy. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return 0;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Runs `fn` `times` times (after `warmup` unmeasured runs) and gives p50/p95 in ms. */
export async function timeRepeated(
  times: number,
  warmup: number,
  fn: (i: number) => unknown,
): Promise<{ p50Ms: number; p95Ms: number; runs: number }> {
  for (let i = 0; i < warmup; i++) await fn(i);
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await fn(warmup + i);
    samples.push(performance.now() - started);
  }
  return { p50Ms: percentile(samples, 0.5), p95Ms: percentile(samples, 0.95), runs: times };
}
