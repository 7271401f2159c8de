/**
 * The in-process router, no transport: how many messages per second go from a sender worker to
 * a sink worker, directly and through a chain of 3 local forwarders (4 deliveries per message),
 * and what one local round trip costs (a long-lived reply worker vs `context.request`, which
 * starts and stops a one-shot worker per call).
 *
 * tinybench runs each task in batches (one iteration = BATCH messages sent one after the other,
 * each `send` awaited as a real producer would, then waiting until the sink has them all). The
 * tasks are interleaved in rounds with the order reversed every other round; figures are
 * medians over rounds, comparisons medians of per-round ratios with min-max (DESIGN §9).
 */
import { Bench, type Task } from 'tinybench'
import { local } from '../runtime/address.js'
import type { Context } from '../runtime/context.js'
import { createLogger } from '../runtime/log.js'
import { stepOnward } from '../runtime/message.js'
import { OckamNode } from '../runtime/node.js'
import type { Route } from '../runtime/route.js'
import { echoWorker } from '../workers/echo.js'
import { cpuMicros } from './helpers/cpu.js'
import { type Cell, formatSpread, printTable } from './helpers/format.js'
import { collectGarbage } from './helpers/gc.js'
import { benchKnobs, describeMachine } from './helpers/options.js'
import { median, pairedRatios } from './helpers/stats.js'
import { armWatchdog } from './helpers/watchdog.js'

const knobs = benchKnobs()
const BATCH = 1_000
/** Per task and round: tinybench runs at least this long and this many iterations... */
const TASK_TIME_MS = knobs.quick ? 100 : 500
const TASK_MIN_ITERATIONS = 5
/** ...and each round is cut off here whatever happens. */
const ROUND_LIMIT_MS = 60_000
const HOPS = 3

armWatchdog('router', 10 * 60_000)

/** Counts deliveries and wakes whoever waits for a given total. */
class Sink {
  delivered = 0
  #target = Number.POSITIVE_INFINITY
  #resolve: (() => void) | undefined

  readonly worker = {
    handleMessage: () => {
      this.delivered++
      if (this.delivered >= this.#target) {
        const resolve = this.#resolve
        this.#resolve = undefined
        this.#target = Number.POSITIVE_INFINITY
        resolve?.()
      }
    },
  }

  /** Resolves once `more` further messages were delivered. */
  expect(more: number): Promise<void> {
    return new Promise((resolve) => {
      this.#target = this.delivered + more
      this.#resolve = resolve
    })
  }
}

const node = new OckamNode({ name: 'bench-router', log: createLogger({ name: 'bench-router', level: 'warn' }) })
await node.start()
const sink = new Sink()
await node.startWorker(local('sink'), sink.worker)
for (let i = 1; i <= HOPS; i++) {
  await node.startWorker(local(`hop-${i}`), { handleMessage: (ctx, message) => ctx.forward(stepOnward(message)) })
}
await node.startWorker(local('echo'), echoWorker())
const sender = await node.startWorker(local('sender'), { handleMessage() {} })
let pongWaiting: (() => void) | undefined
const pong: Context = await node.startWorker(local('pong'), {
  handleMessage() {
    const resolve = pongWaiting
    pongWaiting = undefined
    resolve?.()
  },
})

const payload = new Uint8Array(32)
const direct: Route = [local('sink')]
const chain: Route = [...Array.from({ length: HOPS }, (_, i) => local(`hop-${i + 1}`)), local('sink')]
const echo: Route = [local('echo')]

async function sendBatch(route: Route): Promise<void> {
  const delivered = sink.expect(BATCH)
  for (let i = 0; i < BATCH; i++) await sender.send(route, payload)
  await delivered
}

interface TaskSpec {
  readonly name: string
  /** Messages (or round trips) per iteration. */
  readonly perIteration: number
  readonly unit: 'msgs' | 'round trips'
  readonly fn: () => Promise<unknown>
}

const TASKS: readonly TaskSpec[] = [
  { name: 'sender → sink', perIteration: BATCH, unit: 'msgs', fn: () => sendBatch(direct) },
  { name: `sender → ${HOPS} forwarders → sink`, perIteration: BATCH, unit: 'msgs', fn: () => sendBatch(chain) },
  {
    name: 'round trip: send + reply worker → echo',
    perIteration: 1,
    unit: 'round trips',
    fn: () =>
      new Promise<void>((resolve, reject) => {
        pongWaiting = resolve
        pong.send(echo, payload).catch(reject)
      }),
  },
  {
    name: 'round trip: context.request → echo',
    perIteration: 1,
    unit: 'round trips',
    fn: () => node.context.request(echo, payload),
  },
]

interface RoundFigures {
  /** Operations (messages or round trips) per second. */
  readonly rate: number
  readonly p50Micros: number
  readonly p99Micros: number
  /** CPU µs per operation (= CPU-seconds per million). */
  readonly cpuPerOp: number
}

async function runRound(round: number): Promise<Map<string, RoundFigures>> {
  const bench = new Bench({
    name: `router round ${round}`,
    time: TASK_TIME_MS,
    iterations: TASK_MIN_ITERATIONS,
    warmupTime: TASK_TIME_MS / 5,
    signal: AbortSignal.timeout(ROUND_LIMIT_MS),
    throws: true,
  })
  const cpu = new Map<string, number>()
  const order = round % 2 === 0 ? TASKS : [...TASKS].reverse()
  for (const spec of order) {
    let cpu0 = 0
    bench.add(spec.name, spec.fn, {
      beforeAll(mode) {
        collectGarbage()
        if (mode === 'run') cpu0 = cpuMicros()
      },
      afterAll(mode) {
        if (mode === 'run') cpu.set(spec.name, cpuMicros() - cpu0)
      },
    })
  }
  const tasks: Task[] = await bench.run()
  const figures = new Map<string, RoundFigures>()
  for (const task of tasks) {
    const spec = TASKS.find((t) => t.name === task.name) as TaskSpec
    const result = task.result
    if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}`)
    const operations = task.runs * spec.perIteration
    figures.set(spec.name, {
      rate: (spec.perIteration * 1000) / result.latency.mean,
      p50Micros: (result.latency.p50 * 1000) / spec.perIteration,
      p99Micros: (result.latency.p99 * 1000) / spec.perIteration,
      cpuPerOp: (cpu.get(spec.name) ?? Number.NaN) / operations,
    })
  }
  return figures
}

console.log(`router: ${describeMachine(knobs)}`)
await runRound(-1) // warm-up round, not reported
const rounds: Map<string, RoundFigures>[] = []
for (let round = 0; round < knobs.rounds; round++) rounds.push(await runRound(round))
const series = (name: string, f: (r: RoundFigures) => number) => rounds.map((r) => f(r.get(name) as RoundFigures))

const directName = TASKS[0]?.name as string
const rows: Cell[][] = TASKS.map((spec) => {
  const batch = spec.unit === 'msgs'
  return [
    spec.name,
    median(series(spec.name, (r) => r.rate)),
    spec.unit,
    median(series(spec.name, (r) => r.p50Micros)),
    // The p99 of a batch divided by its size says nothing about one message: left out.
    batch ? '—' : median(series(spec.name, (r) => r.p99Micros)),
    median(series(spec.name, (r) => r.cpuPerOp)),
    !batch
      ? '—'
      : spec.name === directName
        ? '1'
        : formatSpread(
            pairedRatios(
              series(spec.name, (r) => r.rate),
              series(directName, (r) => r.rate),
            ),
          ),
  ]
})
printTable(
  `In-process router; batches of ${BATCH.toLocaleString('en-US')} messages (p50 per message = batch p50 / ${BATCH}); ≥ ${TASK_TIME_MS} ms per task per round`,
  ['path', 'per second', 'unit', 'p50 µs', 'p99 µs', 'CPU µs/op', 'rate vs direct'],
  rows,
)
await node.stop()
