/**
 * Secure-channel benchmarks between two in-process nodes over loopback TCP (DESIGN §9 Method:
 * arms interleaved A B A B after a warm-up, median of the pairwise ratios with min–max):
 *
 * 1. handshakes/s, 8 in flight, each channel closed after it opened:
 *    vault inline vs vault thread (pool 1 thread), then pool 1 vs 2 threads (vault thread); with
 *    the event loop's busy time per handshake (both ends: what the vault thread and the pool
 *    take off the loop);
 * 2. one-way throughput into a sink on the other node for 1 KiB, 16 KiB and 64 KiB messages,
 *    through a channel vs plain TCP, with the process's CPU-seconds per GB (both nodes live in
 *    this process, so that is the CPU of both ends: seal and open, frame and unframe);
 * 3. round-trip latency of a 1-byte echo through a channel vs plain TCP (tinybench, p50/p99).
 *
 * Every loop is bounded in count and time.
 *
 *   npx tsc -p . && node dist/bench/secure-channel.bench.js
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Bench } from 'tinybench'
import { allowAll } from '../runtime/access-control.js'
import { type Address, local, tcp } from '../runtime/address.js'
import { createDefaultNode, tcpOf } from '../runtime/defaults.js'
import { createLogger } from '../runtime/log.js'
import type { OckamNode } from '../runtime/node.js'
import { createVault, type VaultMode } from '../runtime/trust/vault/create-vault.js'
import type { Vault } from '../runtime/trust/vault/types.js'
import { createSecureChannelIdentity } from '../workers/secure-channel/identity-material.js'
import { createSecureChannel } from '../workers/secure-channel/initiator.js'
import { startSecureChannelListener } from '../workers/secure-channel/listener.js'
import { trustAnyone } from '../workers/secure-channel/trust-policy.js'

const ROUNDS = 5
const HANDSHAKES_PER_RUN = 120
const HANDSHAKES_IN_FLIGHT = 8
/** Bytes sent per throughput run, and the time a run may take at most. */
const THROUGHPUT_BYTES = 24 * 1024 * 1024
const RUN_LIMIT_MS = 10_000
const RTT_RUN_MS = 300

const scratch = mkdtempSync(join(tmpdir(), 'ockam-bench-sc-'))
const vaults: Vault[] = []
const nodes: OckamNode[] = []

async function vault(mode: VaultMode): Promise<Vault> {
  const v = await createVault({ mode, stateDir: join(scratch, `v${vaults.length}`), env: {} })
  vaults.push(v)
  return v
}

const quiet = (name: string) => createLogger({ name, level: 'warn' })

interface Pair {
  readonly a: OckamNode
  readonly b: OckamNode
  readonly listener: Address[]
  readonly open: () => Promise<Awaited<ReturnType<typeof createSecureChannel>>>
}

/** Two nodes, each with its own vault (mode) and pool (threads), B listening at `api`. */
async function pair(name: string, mode: VaultMode, threads: number): Promise<Pair> {
  const a = createDefaultNode({ name: `${name}-a`, pool: { threads }, log: quiet(name) })
  const b = createDefaultNode({ name: `${name}-b`, listen: ['127.0.0.1:0'], pool: { threads }, log: quiet(name) })
  nodes.push(a, b)
  await a.start()
  await b.start()
  const alice = await createSecureChannelIdentity(await vault(mode))
  const bob = await createSecureChannelIdentity(await vault(mode))
  await startSecureChannelListener(b, {
    identity: bob,
    trust: trustAnyone(),
    maxHalfOpen: 64,
    maxHalfOpenPerConnection: 64,
  })
  const listener = [tcp(tcpOf(b).listenAddresses()[0]!), local('api')]
  return {
    a,
    b,
    listener,
    open: () => createSecureChannel(a, listener, { identity: alice, trust: trustAnyone() }),
  }
}

/** Main-thread (event loop) busy ms per handshake in the last run of each pair, by name. */
const loopMsPerHandshake = new Map<string, number[]>()

async function handshakesPerSecond(p: Pair): Promise<number> {
  const loopBefore = performance.eventLoopUtilization()
  const started = performance.now()
  let next = 0
  const lane = async () => {
    while (next < HANDSHAKES_PER_RUN && performance.now() - started < RUN_LIMIT_MS) {
      next += 1
      const channel = await p.open()
      await channel.close()
    }
  }
  await Promise.all(Array.from({ length: HANDSHAKES_IN_FLIGHT }, lane))
  const busy = performance.eventLoopUtilization(loopBefore).active
  const list = loopMsPerHandshake.get(p.a.name) ?? []
  list.push(busy / next)
  loopMsPerHandshake.set(p.a.name, list)
  return (next / (performance.now() - started)) * 1000
}

/** Median main-thread ms per handshake of a pair's measured runs (its first, warm-up run excluded). */
function loopMs(p: Pair): string {
  return median((loopMsPerHandshake.get(p.a.name) ?? []).slice(1)).toFixed(2)
}

/** A sink on B counting bytes; resolves `until(bytes)` when that many arrived. */
async function startSink(node: OckamNode): Promise<(bytes: number) => Promise<void>> {
  let received = 0
  let waiter: { bytes: number; resolve: () => void } | undefined
  await node.startWorker(
    local('sink'),
    {
      handleMessage(_ctx, message) {
        received += message.payload.length
        if (waiter !== undefined && received >= waiter.bytes) {
          waiter.resolve()
          waiter = undefined
        }
      },
    },
    { incoming: allowAll },
  )
  return (bytes) => {
    received = 0
    return new Promise((resolve) => {
      waiter = { bytes, resolve }
    })
  }
}

interface Throughput {
  readonly mbPerSecond: number
  readonly cpuSecondsPerGb: number
}

async function throughput(
  from: OckamNode,
  route: Address[],
  size: number,
  arrived: (bytes: number) => Promise<void>,
): Promise<Throughput> {
  const payload = new Uint8Array(size).fill(0x5a)
  const count = Math.ceil(THROUGHPUT_BYTES / size)
  const total = count * size
  const done = arrived(total)
  const cpu = process.cpuUsage()
  const started = performance.now()
  for (let i = 0; i < count && performance.now() - started < RUN_LIMIT_MS; i += 1) {
    await from.context.send(route, payload)
  }
  await done
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  return {
    mbPerSecond: total / 1e6 / seconds,
    cpuSecondsPerGb: (used.user + used.system) / 1e6 / (total / 1e9),
  }
}

async function rttMicros(from: OckamNode, route: Address[]): Promise<{ p50: number; p99: number }> {
  const bench = new Bench({ time: RTT_RUN_MS, iterations: 50, warmupTime: 50, warmupIterations: 10, throws: true })
  const one = Uint8Array.of(1)
  bench.add('rtt', async () => {
    await from.context.request(route, one, { timeoutMs: 5000 })
  })
  const [task] = await bench.run()
  const latency = task?.result?.state === 'completed' ? task.result.latency : undefined
  if (latency === undefined) throw new Error('the RTT run did not complete')
  return { p50: latency.p50 * 1000, p99: latency.p99 * 1000 }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function ratioText(a: readonly number[], b: readonly number[]): string {
  const ratios = a.map((x, i) => x / b[i]!)
  return `${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1))

async function interleave(a: () => Promise<number>, b: () => Promise<number>): Promise<[number[], number[]]> {
  await a()
  await b()
  const as: number[] = []
  const bs: number[] = []
  for (let round = 0; round < ROUNDS; round += 1) {
    as.push(await a())
    bs.push(await b())
  }
  return [as, bs]
}

try {
  const inline1 = await pair('inline1', 'inline', 1)
  const thread1 = await pair('thread1', 'thread', 1)
  const thread2 = await pair('thread2', 'thread', 2)

  const handshakeRows: Record<string, string>[] = []
  {
    const [inline, thread] = await interleave(
      () => handshakesPerSecond(inline1),
      () => handshakesPerSecond(thread1),
    )
    handshakeRows.push({
      compare: 'vault inline (A) vs vault thread (B), pool 1 thread',
      'A handshakes/s': fmt(median(inline)),
      'B handshakes/s': fmt(median(thread)),
      'B/A (min–max)': ratioText(thread, inline),
      'loop ms/handshake A / B': `${loopMs(inline1)} / ${loopMs(thread1)}`,
    })
    const [one, two] = await interleave(
      () => handshakesPerSecond(thread1),
      () => handshakesPerSecond(thread2),
    )
    handshakeRows.push({
      compare: 'pool 1 thread (A) vs 2 threads (B), vault thread',
      'A handshakes/s': fmt(median(one)),
      'B handshakes/s': fmt(median(two)),
      'B/A (min–max)': ratioText(two, one),
      'loop ms/handshake A / B': `${loopMs(thread1)} / ${loopMs(thread2)}`,
    })
  }

  const p = thread1
  const arrived = await startSink(p.b)
  const channel = await p.open()
  const throughputRows: Record<string, string>[] = []
  const rttRows: Record<string, string>[] = []
  for (const [label, size] of [
    ['1 KiB', 1024],
    ['16 KiB', 16 * 1024],
    ['64 KiB', 64 * 1024],
  ] as const) {
    const viaChannel: Throughput[] = []
    const plain: Throughput[] = []
    const [c, t] = await interleave(
      async () => {
        const r = await throughput(p.a, [channel.address, local('sink')], size, arrived)
        viaChannel.push(r)
        return r.mbPerSecond
      },
      async () => {
        const r = await throughput(p.a, [p.listener[0]!, local('sink')], size, arrived)
        plain.push(r)
        return r.mbPerSecond
      },
    )
    throughputRows.push({
      message: label,
      'channel MB/s': fmt(median(c)),
      'plain TCP MB/s': fmt(median(t)),
      'channel/plain (min–max)': ratioText(c, t),
      'channel CPU-s/GB': median(viaChannel.slice(1).map((r) => r.cpuSecondsPerGb)).toFixed(2),
      'plain CPU-s/GB': median(plain.slice(1).map((r) => r.cpuSecondsPerGb)).toFixed(2),
    })
  }
  {
    const viaChannel: { p50: number; p99: number }[] = []
    const plain: { p50: number; p99: number }[] = []
    await interleave(
      async () => {
        const r = await rttMicros(p.a, [channel.address, local('echo')])
        viaChannel.push(r)
        return r.p50
      },
      async () => {
        const r = await rttMicros(p.a, [p.listener[0]!, local('echo')])
        plain.push(r)
        return r.p50
      },
    )
    const c = viaChannel.slice(1)
    const t = plain.slice(1)
    rttRows.push({
      measure: '1-byte echo RTT',
      'channel p50/p99 µs': `${fmt(median(c.map((r) => r.p50)))} / ${fmt(median(c.map((r) => r.p99)))}`,
      'plain TCP p50/p99 µs': `${fmt(median(t.map((r) => r.p50)))} / ${fmt(median(t.map((r) => r.p99)))}`,
      'added p50 µs': fmt(median(c.map((r, i) => r.p50 - t[i]!.p50))),
      'channel/plain p50 (min–max)': ratioText(
        c.map((r) => r.p50),
        t.map((r) => r.p50),
      ),
    })
  }
  await channel.close()

  console.log(
    `Secure-channel benchmarks: Node ${process.version}, two nodes in one process over loopback TCP, ${ROUNDS} interleaved pairs after a warm-up, medians`,
  )
  console.table(handshakeRows)
  console.table(throughputRows)
  console.table(rttRows)
} finally {
  for (const node of nodes) await node.stop()
  for (const v of vaults) await v.close()
  rmSync(scratch, { recursive: true, force: true })
}
