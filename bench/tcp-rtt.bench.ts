/**
 * Node to node over loopback TCP, beside a raw `node:net` baseline with the same payload:
 *
 * - round trip (sequential, one message in flight): node A `context.request` to B's `echo`; the
 *   same with a long-lived reply worker (`send` + reply, no per-request worker), which shows
 *   what `request` itself costs; raw length-prefixed ping-pong.
 * - one-way stream (pipelined, with backpressure): A sends small messages to a counting sink on
 *   B, which reports its count at the end; raw length-prefixed frames to a counting server.
 *
 * Both ends run in this process first (one event loop does both sides' work), then with B in a
 * child process (two event loops, the shape of two real nodes). Variants are interleaved in
 * rounds (order reversed every other round); each figure is the median over rounds and each
 * comparison the median of the per-round ratios with min-max (DESIGN §9).
 */
import { allowIngress } from '../runtime/access-control.js'
import { local, tcp } from '../runtime/address.js'
import type { Context } from '../runtime/context.js'
import { createDefaultNode } from '../runtime/defaults.js'
import { createLogger } from '../runtime/log.js'
import type { OckamNode } from '../runtime/node.js'
import type { Route } from '../runtime/route.js'
import { cpuMicros } from './helpers/cpu.js'
import { type Cell, formatSpread, printTable } from './helpers/format.js'
import { collectGarbage } from './helpers/gc.js'
import { benchKnobs, describeMachine } from './helpers/options.js'
import {
  type Peer,
  type PeerAddresses,
  SINK_ADDRESS,
  SINK_DATA,
  SINK_FINISH,
  startChildPeer,
  startInProcessPeer,
} from './helpers/peer.js'
import { RawEchoClient, RawSinkClient, rawFrame } from './helpers/raw-frames.js'
import { median, pairedRatios, summarizeLatencies } from './helpers/stats.js'
import { armWatchdog } from './helpers/watchdog.js'

const knobs = benchKnobs()
const PAYLOAD_SIZES = [1, 1024]
const RTT_COUNT = knobs.count(5_000, 100)
const RTT_WARMUP = knobs.count(500, 20)
/** Round trips per path before switching to the next path within a round. */
const RTT_BLOCK = knobs.count(500, 10)
/** Wall-clock bound of one round (all paths). */
const RTT_MAX_MS = 12_000
const STREAM_COUNT = knobs.count(100_000, 2_000)
const STREAM_WARMUP = knobs.count(10_000, 500)
const STREAM_MAX_MS = 3_000
const REQUEST_TIMEOUT_MS = 30_000

armWatchdog('tcp-rtt', 15 * 60_000)

interface Client {
  readonly node: OckamNode
  readonly pong: Context
  readonly echoRoute: Route
  readonly sinkRoute: Route
  readonly rawEcho: RawEchoClient
  readonly rawSink: RawSinkClient
  /** Resolves the pending `send` round trip when the echo comes back to the pong worker. */
  waiting: (() => void) | undefined
  close(): Promise<void>
}

async function startClient(addresses: PeerAddresses): Promise<Client> {
  const node = createDefaultNode({
    name: 'bench-client',
    pool: { threads: 0 },
    log: createLogger({ name: 'bench-client', level: 'warn' }),
  })
  await node.start()
  const rawEcho = await RawEchoClient.connect(addresses.rawEcho)
  const rawSink = await RawSinkClient.connect(addresses.rawSink)
  const client: Client = {
    node,
    pong: undefined as unknown as Context,
    echoRoute: [tcp(addresses.ockam), local('echo')],
    sinkRoute: [tcp(addresses.ockam), local(SINK_ADDRESS)],
    rawEcho,
    rawSink,
    waiting: undefined,
    async close() {
      rawEcho.close()
      rawSink.close()
      await node.stop()
    },
  }
  const pong = await node.startWorker(
    local('bench-pong'),
    {
      handleMessage() {
        const resolve = client.waiting
        client.waiting = undefined
        resolve?.()
      },
    },
    { incoming: allowIngress('tcp') },
  )
  return Object.assign(client, { pong })
}

// ---------------------------------------------------------------------------------------------
// Round trips

interface RttResult {
  readonly p50: number
  readonly p99: number
  readonly mean: number
  readonly count: number
  /** CPU µs of both processes per round trip. */
  readonly cpuPerOp: number
}

type RttPath = 'raw' | 'ours send+reply' | 'ours request'
const RTT_PATHS: readonly RttPath[] = ['raw', 'ours send+reply', 'ours request']

function rttOperation(client: Client, path: RttPath, size: number): () => Promise<unknown> {
  const payload = new Uint8Array(size).fill(7)
  switch (path) {
    case 'raw': {
      const frame = rawFrame(payload)
      return () => client.rawEcho.ping(frame)
    }
    case 'ours send+reply':
      return () =>
        new Promise<void>((resolve, reject) => {
          client.waiting = resolve
          client.pong.send(client.echoRoute, payload).catch(reject)
        })
    case 'ours request':
      return () => client.node.context.request(client.echoRoute, payload, { timeoutMs: REQUEST_TIMEOUT_MS })
  }
}

/** Samples of one path in one round, filled block by block. */
class RttRound {
  readonly samples = new Float64Array(RTT_COUNT)
  count = 0
  cpu = 0

  result(): RttResult {
    return { ...summarizeLatencies(this.samples, this.count), cpuPerOp: this.cpu / this.count }
  }
}

/** Adds up to `limit` sequential round trips to `round`; stops early past `deadline`. */
async function measureRttBlock(
  operation: () => Promise<unknown>,
  peer: Peer,
  round: RttRound,
  limit: number,
  deadline: number,
): Promise<void> {
  const peerCpu0 = await peer.cpuMicros()
  const cpu0 = cpuMicros()
  const end = Math.min(RTT_COUNT, round.count + limit)
  while (round.count < end) {
    const t0 = performance.now()
    await operation()
    const t1 = performance.now()
    round.samples[round.count++] = (t1 - t0) * 1000
    if (t1 > deadline) break
  }
  round.cpu += cpuMicros() - cpu0 + ((await peer.cpuMicros()) - peerCpu0)
}

/**
 * Each round gives every path RTT_COUNT round trips, in blocks of RTT_BLOCK that alternate
 * between the paths (order reversed every other round), so drift within a round hits every path
 * alike and the per-round ratios pair like with like.
 */
async function benchRtt(client: Client, peer: Peer, size: number): Promise<Cell[][]> {
  const results = new Map<RttPath, RttResult[]>(RTT_PATHS.map((p) => [p, []]))
  const operations = new Map(RTT_PATHS.map((p) => [p, rttOperation(client, p, size)]))
  for (const path of RTT_PATHS) {
    const operation = operations.get(path) as () => Promise<unknown>
    for (let i = 0; i < RTT_WARMUP; i++) await operation()
  }
  for (let r = 0; r < knobs.rounds; r++) {
    const order = r % 2 === 0 ? RTT_PATHS : [...RTT_PATHS].reverse()
    const rounds = new Map(RTT_PATHS.map((p) => [p, new RttRound()]))
    collectGarbage()
    const deadline = performance.now() + RTT_MAX_MS
    for (let done = 0; done < RTT_COUNT && performance.now() <= deadline; done += RTT_BLOCK) {
      for (const path of order) {
        const operation = operations.get(path) as () => Promise<unknown>
        await measureRttBlock(operation, peer, rounds.get(path) as RttRound, RTT_BLOCK, deadline)
      }
    }
    for (const path of RTT_PATHS) results.get(path)?.push((rounds.get(path) as RttRound).result())
  }
  const raw = results.get('raw') ?? []
  return RTT_PATHS.map((path) => {
    const rounds = results.get(path) ?? []
    const pick = (f: (r: RttResult) => number) => rounds.map(f)
    const vsRaw = (f: (r: RttResult) => number) =>
      path === 'raw' ? '1' : formatSpread(pairedRatios(pick(f), raw.map(f)))
    return [
      size === 1 ? '1 B' : `${size / 1024} KiB`,
      path,
      median(pick((r) => r.p50)),
      median(pick((r) => r.p99)),
      median(pick((r) => r.mean)),
      median(pick((r) => r.cpuPerOp)),
      vsRaw((r) => r.p50),
      vsRaw((r) => r.p99),
      vsRaw((r) => r.cpuPerOp),
      Math.min(...pick((r) => r.count)),
    ]
  })
}

// ---------------------------------------------------------------------------------------------
// One-way stream

interface StreamResult {
  readonly messagesPerSecond: number
  /** CPU µs of both processes per message = CPU-seconds per million messages. */
  readonly cpuPerMessage: number
  readonly count: number
}

type StreamPath = 'raw' | 'ours'
const STREAM_PATHS: readonly StreamPath[] = ['raw', 'ours']

const FINISH = Uint8Array.of(SINK_FINISH)

async function streamOurs(client: Client, payload: Uint8Array, limit: number, maxMs: number): Promise<number> {
  const ctx = client.node.context
  await ctx.request(client.sinkRoute, FINISH, { timeoutMs: REQUEST_TIMEOUT_MS }) // resets the count
  const deadline = performance.now() + maxMs
  let sent = 0
  while (sent < limit) {
    await ctx.send(client.sinkRoute, payload)
    sent++
    if ((sent & 1023) === 0 && performance.now() > deadline) break
  }
  const reply = await ctx.request(client.sinkRoute, FINISH, { timeoutMs: REQUEST_TIMEOUT_MS })
  const counted = Buffer.from(reply.payload).readUInt32BE(0)
  if (counted !== sent) throw new Error(`the sink counted ${counted} of ${sent} messages`)
  return sent
}

async function streamRaw(client: Client, frame: Buffer, limit: number, maxMs: number): Promise<number> {
  await client.rawSink.finish()
  const deadline = performance.now() + maxMs
  let sent = 0
  while (sent < limit) {
    if (!client.rawSink.write(frame)) await client.rawSink.drained()
    sent++
    if ((sent & 1023) === 0 && performance.now() > deadline) break
  }
  const counted = await client.rawSink.finish()
  if (counted !== sent) throw new Error(`the raw sink counted ${counted} of ${sent} frames`)
  return sent
}

async function measureStream(
  run: (limit: number, maxMs: number) => Promise<number>,
  peer: Peer,
  limit: number,
): Promise<StreamResult> {
  collectGarbage()
  const peerCpu0 = await peer.cpuMicros()
  const cpu0 = cpuMicros()
  const t0 = performance.now()
  const count = await run(limit, STREAM_MAX_MS)
  const seconds = (performance.now() - t0) / 1000
  const cpu = cpuMicros() - cpu0 + ((await peer.cpuMicros()) - peerCpu0)
  return { messagesPerSecond: count / seconds, cpuPerMessage: cpu / count, count }
}

async function benchStream(client: Client, peer: Peer, size: number): Promise<Cell[][]> {
  const payload = new Uint8Array(size).fill(7)
  payload[0] = SINK_DATA
  const frame = rawFrame(payload)
  const runners = new Map<StreamPath, (limit: number, maxMs: number) => Promise<number>>([
    ['raw', (limit, maxMs) => streamRaw(client, frame, limit, maxMs)],
    ['ours', (limit, maxMs) => streamOurs(client, payload, limit, maxMs)],
  ])
  for (const path of STREAM_PATHS) await runners.get(path)?.(STREAM_WARMUP, STREAM_MAX_MS)
  const results = new Map<StreamPath, StreamResult[]>(STREAM_PATHS.map((p) => [p, []]))
  for (let round = 0; round < knobs.rounds; round++) {
    const order = round % 2 === 0 ? STREAM_PATHS : [...STREAM_PATHS].reverse()
    for (const path of order) {
      const run = runners.get(path) as (limit: number, maxMs: number) => Promise<number>
      results.get(path)?.push(await measureStream(run, peer, STREAM_COUNT))
    }
  }
  const raw = results.get('raw') ?? []
  return STREAM_PATHS.map((path) => {
    const rounds = results.get(path) ?? []
    const rate = median(rounds.map((r) => r.messagesPerSecond))
    const cpu = median(rounds.map((r) => r.cpuPerMessage))
    return [
      size === 1 ? '1 B' : `${size / 1024} KiB`,
      path,
      rate,
      (rate * size) / 1e6,
      cpu,
      size >= 1024 ? (cpu * 1e3) / size : '—',
      path === 'raw'
        ? '1'
        : formatSpread(
            pairedRatios(
              rounds.map((r) => r.messagesPerSecond),
              raw.map((r) => r.messagesPerSecond),
            ),
          ),
      path === 'raw'
        ? '1'
        : formatSpread(
            pairedRatios(
              rounds.map((r) => r.cpuPerMessage),
              raw.map((r) => r.cpuPerMessage),
            ),
          ),
      Math.min(...rounds.map((r) => r.count)),
    ]
  })
}

// ---------------------------------------------------------------------------------------------

async function benchTopology(peer: Peer): Promise<void> {
  const client = await startClient(peer.addresses)
  try {
    const where =
      peer.kind === 'in-process'
        ? 'both nodes in this process (one event loop does both ends)'
        : 'echo/sink node in a child process (two event loops)'
    const rttRows: Cell[][] = []
    for (const size of PAYLOAD_SIZES) rttRows.push(...(await benchRtt(client, peer, size)))
    printTable(
      `TCP round trip over loopback, ${where}; ${RTT_COUNT} sequential round trips per path and round, interleaved in blocks of ${RTT_BLOCK}, after ${RTT_WARMUP} warm-up; ≤ ${RTT_MAX_MS / 1000} s per round`,
      ['payload', 'path', 'p50 µs', 'p99 µs', 'mean µs', 'CPU µs/RT', 'p50 vs raw', 'p99 vs raw', 'CPU vs raw', 'n'],
      rttRows,
    )
    const streamRows: Cell[][] = []
    for (const size of PAYLOAD_SIZES) streamRows.push(...(await benchStream(client, peer, size)))
    printTable(
      `One-way pipelined stream over loopback, ${where}; up to ${STREAM_COUNT.toLocaleString('en-US')} messages or ${STREAM_MAX_MS / 1000} s per segment`,
      ['payload', 'path', 'msgs/s', 'payload MB/s', 'CPU-s/M msgs', 'CPU-s/GB', 'msgs/s vs raw', 'CPU vs raw', 'n'],
      streamRows,
    )
  } finally {
    await client.close()
  }
}

console.log(`tcp-rtt: ${describeMachine(knobs)}`)
console.log('ratios: median of per-round ratios ours/raw [min–max]; CPU covers both processes')
for (const start of [startInProcessPeer, startChildPeer]) {
  const peer = await start()
  try {
    await benchTopology(peer)
  } finally {
    await peer.stop()
  }
}
