import { availableParallelism, cpus as cpus_, loadavg } from 'node:os'

/**
 * Knobs shared by the benches, from the environment so `npm run bench` needs no arguments:
 *   BENCH_ROUNDS  measured A/B rounds (default 5, at least 1)
 *   BENCH_QUICK=1 a smoke run: 2 rounds and a tenth of the counts (figures not meaningful)
 */
export interface BenchKnobs {
  readonly rounds: number
  readonly quick: boolean
  /** Scales a default count (never below `min`). */
  count(defaultCount: number, min?: number): number
}

export function benchKnobs(env: NodeJS.ProcessEnv = process.env): BenchKnobs {
  const quick = env.BENCH_QUICK === '1'
  const parsed = Number.parseInt(env.BENCH_ROUNDS ?? '', 10)
  const rounds = Number.isInteger(parsed) && parsed >= 1 ? parsed : quick ? 2 : 5
  return {
    rounds,
    quick,
    count: (defaultCount, min = 1) => Math.max(min, quick ? Math.floor(defaultCount / 10) : defaultCount),
  }
}

/** One header line so every bench's output says where and how it ran. */
export function describeMachine(knobs: BenchKnobs): string {
  const cpus = cpus_()
  const parts = [
    `node ${process.version}`,
    `${availableParallelism()} cpus (${cpus[0]?.model.trim() ?? 'unknown'})`,
    `${process.platform}/${process.arch}`,
    `${knobs.rounds} rounds`,
    // Other work on the box skews everything; the 1-minute load says how much there was.
    `load ${loadavg()[0]?.toFixed(2)} at start`,
    ...(knobs.quick ? ['QUICK (smoke run, figures not meaningful)'] : []),
  ]
  return parts.join(', ')
}
