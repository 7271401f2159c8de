/**
 * Small statistics for benchmarks. The machine drifts 30-40% minute to minute (DESIGN §9), so
 * what we report is the median of per-round figures and, for comparisons, the median of the
 * pairwise ratios of rounds that ran side by side, with their min and max.
 */

/** The p-th percentile (0..100) of ascending `sorted`, by linear interpolation between ranks. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = (p / 100) * (sorted.length - 1)
  const low = Math.floor(rank)
  const high = Math.ceil(rank)
  const a = sorted[low] as number
  const b = sorted[high] as number
  return a + (b - a) * (rank - low)
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  )
}

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN
  let sum = 0
  for (let i = 0; i < values.length; i++) sum += values[i] as number
  return sum / values.length
}

export interface LatencySummary {
  readonly count: number
  readonly p50: number
  readonly p99: number
  readonly mean: number
}

/** Summarizes the first `count` samples (any unit); sorts a copy. */
export function summarizeLatencies(samples: Float64Array, count = samples.length): LatencySummary {
  const sorted = samples.slice(0, count).sort()
  return { count, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: mean(sorted) }
}

export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN }
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) }
}

/** Per-round ratios `a[i] / b[i]` of paired rounds, summarized. */
export function pairedRatios(a: readonly number[], b: readonly number[]): Spread {
  if (a.length !== b.length) throw new RangeError(`unpaired rounds: ${a.length} vs ${b.length}`)
  return spread(a.map((value, i) => value / (b[i] as number)))
}
