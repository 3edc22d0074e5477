/** The few statistics the benchmarks print: percentiles of samples, and milliseconds made readable. */
export function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 0.5);
}

/** 0.012, 4.5, 183: three significant places where they matter. */
export function ms(x: number): string {
  return x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(1) : Math.round(x).toString();
}
