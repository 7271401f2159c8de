/**
 * Why node processes run with NODE_HOST_FLAGS (runtime/host-flags.ts): the same portal, inside an
 * end-to-end secure channel between two node processes, with V8's default heap settings and with
 * the host flags, in one run, interleaved (A B, B A, …).
 *
 * Per variant: an outlet node and an inlet node, each a child process started with that
 * variant's flags; the client and the counting sink run here and cost both variants the same.
 * Bulk upload of up to 256 MiB (or 3 s) per segment; MB/s, CPU-s per GB of the two node
 * processes, and their full (mark-compact) garbage collections per GB, counted inside each node
 * by a PerformanceObserver; and the larger RSS of the two nodes after a segment (the flag lets
 * garbage reach 64 MB before a full collection, which shows there).
 */
import { type ChildProcess, fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { local, tcp } from '../runtime/address.js'
import { createDefaultNode, tcpOf } from '../runtime/defaults.js'
import { NODE_HOST_FLAGS } from '../runtime/host-flags.js'
import { createLogger } from '../runtime/log.js'
import { createVault } from '../runtime/trust/vault/create-vault.js'
import { startTcpInlet } from '../workers/portal/inlet.js'
import { startTcpOutlet } from '../workers/portal/outlet.js'
import { createSecureChannelIdentity } from '../workers/secure-channel/identity-material.js'
import { createSecureChannel } from '../workers/secure-channel/initiator.js'
import { startSecureChannelListener } from '../workers/secure-channel/listener.js'
import { trustAnyone } from '../workers/secure-channel/trust-policy.js'
import { countingSinkServer } from './helpers/counting-sink.js'
import { cpuMicros } from './helpers/cpu.js'
import { formatSpread, printTable } from './helpers/format.js'
import { collectGarbage } from './helpers/gc.js'
import { benchKnobs, describeMachine } from './helpers/options.js'
import { median, pairedRatios } from './helpers/stats.js'
import { armWatchdog } from './helpers/watchdog.js'

const MiB = 1024 * 1024
const knobs = benchKnobs()
const BULK_BYTES = knobs.quick ? 32 * MiB : 256 * MiB
const BULK_MAX_MS = 3_000
const WRITE_CHUNK = randomBytes(256 * 1024)

interface Variant {
  readonly name: string
  readonly flags: readonly string[]
}

const VARIANTS: readonly Variant[] = [
  { name: 'V8 defaults', flags: [] },
  { name: NODE_HOST_FLAGS.join(' '), flags: NODE_HOST_FLAGS },
]

type ChildMessage =
  | { type: 'ready'; address: string }
  | { type: 'stats'; cpuMicros: number; fullGcs: number; rssBytes: number }

// ---------------------------------------------------------------------------------------------
// Child processes: one node each

let fullGcs = 0

function countFullGcs(): void {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as { detail?: unknown }).detail as { kind?: number } | undefined
      if (detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) fullGcs++
    }
  }).observe({ entryTypes: ['gc'] })
}

async function scratchIdentity() {
  const dir = mkdtempSync(join(tmpdir(), 'heap-flags-bench-'))
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  return createSecureChannelIdentity(await createVault({ mode: 'inline', stateDir: dir, env: {} }))
}

function serveParent(ready: string): void {
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'stats') {
      process.send?.({
        type: 'stats',
        cpuMicros: cpuMicros(),
        fullGcs,
        rssBytes: process.memoryUsage.rss(),
      } satisfies ChildMessage)
    } else if (message.type === 'stop') process.exit(0)
  })
  process.on('disconnect', () => process.exit(0))
  process.send?.({ type: 'ready', address: ready } satisfies ChildMessage)
}

async function runOutletNode(sink: string): Promise<void> {
  countFullGcs()
  const log = createLogger({ name: 'outlet', level: 'warn' })
  const node = createDefaultNode({ name: 'outlet', listen: ['127.0.0.1:0'], pool: { threads: 0 }, log })
  await node.start()
  await startSecureChannelListener(node, { identity: await scratchIdentity(), trust: trustAnyone() })
  await startTcpOutlet(node, { target: sink, allow: () => true, address: 'sink' })
  serveParent(tcpOf(node).listenAddresses()[0] ?? '')
}

async function runInletNode(outletNode: string): Promise<void> {
  countFullGcs()
  const log = createLogger({ name: 'inlet', level: 'warn' })
  const node = createDefaultNode({ name: 'inlet', pool: { threads: 0 }, log })
  await node.start()
  const channel = await createSecureChannel(node, [tcp(outletNode), local('api')], {
    identity: await scratchIdentity(),
    trust: trustAnyone(),
  })
  const inlet = await startTcpInlet(node, { listen: '127.0.0.1:0', to: [channel.address, local('sink')] })
  serveParent(inlet.address)
}

// ---------------------------------------------------------------------------------------------
// This process: the client and the sink

interface NodeChild {
  readonly address: string
  stats(): Promise<{ cpuMicros: number; fullGcs: number; rssBytes: number }>
  stop(): void
}

async function startChild(args: readonly string[], flags: readonly string[]): Promise<NodeChild> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [...args], {
    execArgv: [...flags],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const next = async <T extends ChildMessage['type']>(type: T): Promise<Extract<ChildMessage, { type: T }>> => {
    const timeout = AbortSignal.timeout(15_000)
    for (;;) {
      const [message] = (await once(child, 'message', { signal: timeout })) as [ChildMessage]
      if (message.type === type) return message as Extract<ChildMessage, { type: T }>
    }
  }
  const ready = await next('ready')
  return {
    address: ready.address,
    async stats() {
      const reply = next('stats')
      child.send({ type: 'stats' })
      const { cpuMicros: micros, fullGcs: gcs, rssBytes } = await reply
      return { cpuMicros: micros, fullGcs: gcs, rssBytes }
    },
    stop: () => child.send({ type: 'stop' }),
  }
}

function hostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':')
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) }
}

/** The counting sink (helpers/counting-sink.ts), its connections closed at the end. */
async function startSink(): Promise<{ address: string; close(): void }> {
  const sockets = new Set<Socket>()
  const server = countingSinkServer()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    close() {
      for (const socket of sockets) socket.destroy()
      server.close()
    },
  }
}

interface Segment {
  readonly mbPerSecond: number
  readonly cpuPerGb: number
  readonly fullGcsPerGb: number
  /** The larger RSS of the two nodes right after the segment (MiB). */
  readonly rssMiB: number
}

async function bulk(inlet: string, nodes: readonly NodeChild[]): Promise<Segment> {
  collectGarbage()
  const socket = connect({ ...hostPort(inlet), noDelay: true, allowHalfOpen: true })
  await once(socket, 'connect')
  const reply: Buffer[] = []
  socket.on('data', (chunk: Buffer) => reply.push(chunk))
  const ended = once(socket, 'end')
  const before = await Promise.all(nodes.map((node) => node.stats()))
  const t0 = performance.now()
  let sent = 0
  while (sent < BULK_BYTES && performance.now() < t0 + BULK_MAX_MS) {
    if (!socket.write(WRITE_CHUNK)) await once(socket, 'drain')
    sent += WRITE_CHUNK.length
  }
  socket.end()
  await ended
  const seconds = (performance.now() - t0) / 1000
  const after = await Promise.all(nodes.map((node) => node.stats()))
  socket.destroy()
  const counted = Number(Buffer.concat(reply).readBigUInt64BE(0))
  if (counted !== sent) throw new Error(`the sink counted ${counted} of ${sent} bytes`)
  const gb = sent / 1e9
  const cpu = after.reduce((sum, s, i) => sum + s.cpuMicros - (before[i]?.cpuMicros ?? 0), 0) / 1e6
  const gcs = after.reduce((sum, s, i) => sum + s.fullGcs - (before[i]?.fullGcs ?? 0), 0)
  const rssMiB = Math.max(...after.map((s) => s.rssBytes)) / MiB
  return { mbPerSecond: sent / 1e6 / seconds, cpuPerGb: cpu / gb, fullGcsPerGb: gcs / gb, rssMiB }
}

async function runBench(): Promise<void> {
  armWatchdog('heap-flags', 10 * 60_000)
  console.log(`heap-flags: ${describeMachine(knobs)}`)
  const sink = await startSink()
  const pairs: { variant: Variant; inlet: NodeChild; outlet: NodeChild }[] = []
  try {
    for (const variant of VARIANTS) {
      const outlet = await startChild(['outlet', sink.address], variant.flags)
      const inlet = await startChild(['inlet', outlet.address], variant.flags)
      pairs.push({ variant, inlet, outlet })
    }
    const results = new Map<string, Segment[]>(VARIANTS.map((v) => [v.name, []]))
    const measure = async (pair: (typeof pairs)[number]) => bulk(pair.inlet.address, [pair.inlet, pair.outlet])
    for (const pair of pairs) await measure(pair) // warm-up
    for (let round = 0; round < knobs.rounds; round++) {
      const order = round % 2 === 0 ? pairs : [...pairs].reverse()
      for (const pair of order) results.get(pair.variant.name)?.push(await measure(pair))
    }
    const base = results.get(VARIANTS[0]?.name ?? '') ?? []
    printTable(
      `Portal in a secure channel, inlet and outlet nodes in child processes with each variant's flags; up to ${BULK_BYTES / MiB} MiB or ${BULK_MAX_MS / 1000} s per segment; ${knobs.rounds} interleaved rounds after a warm-up`,
      [
        'node flags',
        'MB/s',
        'CPU-s/GB',
        'full GCs/GB',
        'RSS MiB (max of nodes)',
        'MB/s vs defaults',
        'CPU vs defaults',
      ],
      VARIANTS.map((variant) => {
        const r = results.get(variant.name) ?? []
        return [
          variant.name,
          median(r.map((s) => s.mbPerSecond)),
          median(r.map((s) => s.cpuPerGb)),
          median(r.map((s) => s.fullGcsPerGb)),
          Math.max(...r.map((s) => s.rssMiB)),
          formatSpread(
            pairedRatios(
              r.map((s) => s.mbPerSecond),
              base.map((s) => s.mbPerSecond),
            ),
          ),
          formatSpread(
            pairedRatios(
              r.map((s) => s.cpuPerGb),
              base.map((s) => s.cpuPerGb),
            ),
          ),
        ]
      }),
    )
  } finally {
    for (const pair of pairs) {
      pair.inlet.stop()
      pair.outlet.stop()
    }
    sink.close()
  }
}

if (process.argv[2] === 'outlet') await runOutletNode(process.argv[3] ?? '')
else if (process.argv[2] === 'inlet') await runInletNode(process.argv[3] ?? '')
else await runBench()
