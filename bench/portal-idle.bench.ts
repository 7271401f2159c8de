/**
 * Memory of idle portals, per node process (DESIGN §9: "10,000 idle portal connections, per
 * node: must < 1 GiB, goal < 300 MiB").
 *
 * Four processes, as in the walkthrough's direct path: this one is the client; `inlet` is an
 * inlet node whose portals all run inside one end-to-end secure channel (shared, like an
 * inlet's session) to `outlet`, an outlet node that connects each portal to `target`, a
 * trivial echo server in a fourth process (one process holding both the clients and the
 * targets would need 2 N descriptors). Steps of N portals (1,000, 5,000, 10,000; BENCH_QUICK:
 * 200, 1,000) are reached by opening more connections on the same processes; each new
 * connection carries one 32-byte exchange (so its portal is fully open both ways), then all
 * idle for two sweep periods (so idle senders give their credit back) and each node reports,
 * after a full GC: RSS, heapUsed, external and arrayBuffers (process.memoryUsage), its credit
 * pool's reserved and held bytes, and its portals open. Per-portal bytes = (RSS now − RSS at
 * the baseline) / N; the baseline is taken after a warm-up of a few portals, opened and closed.
 *
 * Open files: every process needs N + a few descriptors. Node raises its own soft limit to the
 * hard one at startup; children are started through bash, which raises the hard limit too where
 * allowed (helpers/fd-limit.ts), and report what they got. Steps beyond the limit are capped and
 * printed as not reached (the verdict then extrapolates).
 */
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { local, tcp } from '../runtime/address.js'
import { createDefaultNode, tcpOf } from '../runtime/defaults.js'
import { createLogger } from '../runtime/log.js'
import { createVault } from '../runtime/trust/vault/create-vault.js'
import {
  DEFAULT_OUTLET_MAX_PORTALS_PER_PEER,
  DEFAULT_PORTAL_IDLE_CREDIT_KEEP_BYTES,
  DEFAULT_PORTAL_SWEEP_INTERVAL_MS,
} from '../workers/portal/constants.js'
import { sharedCreditPool } from '../workers/portal/credit-pool.js'
import { startTcpInlet, type TcpInlet } from '../workers/portal/inlet.js'
import { startTcpOutlet, type TcpOutlet } from '../workers/portal/outlet.js'
import type { PortalStats } from '../workers/portal/portal-set.js'
import { createSecureChannelIdentity } from '../workers/secure-channel/identity-material.js'
import { createSecureChannel } from '../workers/secure-channel/initiator.js'
import { startSecureChannelListener } from '../workers/secure-channel/listener.js'
import { trustAnyone } from '../workers/secure-channel/trust-policy.js'
import { openFileLimits, spawnNodeWithFdLimit } from './helpers/fd-limit.js'
import { type Cell, printTable } from './helpers/format.js'
import { collectGarbage } from './helpers/gc.js'
import { benchKnobs, describeMachine } from './helpers/options.js'
import { percentile } from './helpers/stats.js'
import { armWatchdog } from './helpers/watchdog.js'

const MiB = 1024 * 1024
const knobs = benchKnobs()
const STEPS = knobs.quick ? [200, 1_000] : [1_000, 5_000, 10_000]
const MAX_N = STEPS.at(-1) ?? 0
/** Descriptors a process needs beyond its N sockets (listeners, node connections, stdio, pool). */
const FD_MARGIN = 256
/** DESIGN §9, per node at 10,000 idle portals. */
const TARGET_PORTALS = 10_000
const MUST_BYTES = 1024 * MiB
const GOAL_BYTES = 300 * MiB
/** Connections being opened at once, and bounds on a step. */
const CONCURRENCY = 128
const STEP_MAX_MS = 180_000
const WARMUP_PORTALS = 50
const EXCHANGE = Buffer.alloc(32, 7)
/** Idle: two sweeps (the first clears "sent since the last sweep", the second gives back). */
const IDLE_MS = 2 * DEFAULT_PORTAL_SWEEP_INTERVAL_MS + 500
const SETTLE_POLL_MS = 500
const SETTLE_MAX_MS = 15_000
const CHILD_READY_MS = 30_000
const REQUEST_MS = 30_000

const quietLog = (name: string) => createLogger({ name, level: 'warn' })

async function scratchIdentity() {
  const dir = mkdtempSync(join(tmpdir(), 'portal-idle-bench-vault-'))
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  return createSecureChannelIdentity(await createVault({ mode: 'inline', stateDir: dir, env: {} }))
}

// ---------------------------------------------------------------------------------------------
// IPC between this process and the children

interface Sample {
  readonly rss: number
  readonly heapUsed: number
  readonly heapTotal: number
  readonly external: number
  readonly arrayBuffers: number
  /** Node processes only: the node's credit pool and its inlet's or outlet's portals. */
  readonly poolReserved: number
  readonly poolHeld: number
  readonly poolWaiting: number
  /** Times a receiver found the pool short and waited (since start). */
  readonly poolWaits: number
  readonly portalsOpen: number
  readonly portalsActive: number
  readonly resets: number
}

type ChildMessage =
  | { type: 'ready'; address: string; fdSoft: number; fdHard: number }
  | { type: 'sample'; sample: Sample }
  | { type: 'failed'; error: string }

type ParentMessage = { type: 'sample'; gc: boolean } | { type: 'stop' }

function sampleOf(portals: (() => PortalStats) | undefined, router?: Parameters<typeof sharedCreditPool>[0]): Sample {
  const memory = process.memoryUsage()
  const pool = router === undefined ? undefined : sharedCreditPool(router)
  const stats = portals?.()
  return {
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    poolReserved: pool?.reserved ?? 0,
    poolHeld: pool?.held ?? 0,
    poolWaiting: pool?.waiting ?? 0,
    poolWaits: pool?.waits ?? 0,
    portalsOpen: stats?.portalsOpen ?? 0,
    portalsActive: stats?.portalsActive ?? 0,
    resets: stats?.resets ?? 0,
  }
}

/** A child's side: report ready, answer samples (after a full GC when asked), exit on stop. */
function serveParent(address: string, sample: () => Sample): void {
  const send = (message: ChildMessage) => process.send?.(message)
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stop') process.exit(0)
    if (message.type === 'sample') {
      if (message.gc) {
        collectGarbage()
        collectGarbage()
      }
      try {
        send({ type: 'sample', sample: sample() })
      } catch (error) {
        // Out of descriptors, process.memoryUsage() itself fails (it reads /proc): say so.
        send({ type: 'failed', error: String(error) })
      }
    }
  })
  process.on('disconnect', () => process.exit(0))
  const limits = openFileLimits()
  send({ type: 'ready', address, fdSoft: limits?.soft ?? Number.NaN, fdHard: limits?.hard ?? Number.NaN })
}

async function runChild(role: string, args: readonly string[]): Promise<void> {
  try {
    if (role === 'target') {
      const server = createServer({ noDelay: true }, (socket) => {
        socket.on('error', () => socket.destroy())
        socket.pipe(socket)
      })
      server.listen(0, '127.0.0.1', 4096)
      await once(server, 'listening')
      serveParent(`127.0.0.1:${(server.address() as { port: number }).port}`, () => sampleOf(undefined))
      return
    }
    // Real nodes: the default CPU pool ('auto' threads), as a daemon would run.
    const node = createDefaultNode({
      name: role,
      listen: role === 'outlet' ? ['127.0.0.1:0'] : [],
      log: quietLog(role),
    })
    await node.start()
    if (role === 'outlet') {
      const [target = ''] = args
      await startSecureChannelListener(node, { identity: await scratchIdentity(), trust: trustAnyone() })
      // Every portal comes from one peer (the inlet's channel): lift the per-peer cap to the step.
      const outlet: TcpOutlet = await startTcpOutlet(node, {
        target,
        allow: () => true,
        maxPortalsPerPeer: MAX_N + WARMUP_PORTALS,
        maxPortals: MAX_N + WARMUP_PORTALS,
      })
      serveParent(tcpOf(node).listenAddresses()[0] ?? '', () => sampleOf(outlet.stats, node.router))
      return
    }
    const [outletNode = ''] = args
    const channel = await createSecureChannel(node, [tcp(outletNode), local('api')], {
      identity: await scratchIdentity(),
      trust: trustAnyone(),
    })
    const inlet: TcpInlet = await startTcpInlet(node, {
      listen: '127.0.0.1:0',
      to: [channel.address, local('outlet')],
      maxPortals: MAX_N + WARMUP_PORTALS,
    })
    serveParent(inlet.address, () => sampleOf(inlet.stats, node.router))
  } catch (error) {
    process.send?.({ type: 'failed', error: String(error) } satisfies ChildMessage)
    process.exit(1)
  }
}

interface Child {
  readonly role: string
  readonly address: string
  readonly fdSoft: number
  readonly fdHard: number
  sample(gc: boolean): Promise<Sample>
  stop(): Promise<void>
}

async function startChild(role: string, args: readonly string[]): Promise<Child> {
  const child: ChildProcess = spawnNodeWithFdLimit(fileURLToPath(import.meta.url), [role, ...args], MAX_N + FD_MARGIN)
  const exited = once(child, 'exit')
  const next = async (type: ChildMessage['type'], ms: number): Promise<ChildMessage> => {
    const signal = AbortSignal.timeout(ms)
    for (;;) {
      const [message] = (await once(child, 'message', { signal })) as [ChildMessage]
      if (message.type === 'failed') throw new Error(`${role}: ${message.error}`)
      if (message.type === type) return message
    }
  }
  const ready = await Promise.race([
    next('ready', CHILD_READY_MS),
    exited.then(() => {
      throw new Error(`the ${role} process exited before it was ready`)
    }),
  ])
  if (ready.type !== 'ready') throw new Error(`unexpected first message from ${role}`)
  return {
    role,
    address: ready.address,
    fdSoft: ready.fdSoft,
    fdHard: ready.fdHard,
    async sample(gc) {
      const reply = next('sample', REQUEST_MS)
      child.send({ type: 'sample', gc } satisfies ParentMessage)
      const message = await reply
      if (message.type !== 'sample') throw new Error(`unexpected reply from ${role}`)
      return message.sample
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.send({ type: 'stop' } satisfies ParentMessage)
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
}

// ---------------------------------------------------------------------------------------------
// The client

function hostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':')
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) }
}

/** Connects, sends EXCHANGE and waits for it to come back; the socket then stays open, idle. */
function openOne(address: string, deadline: number, latencies: number[]): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const socket = connect({ ...hostPort(address), noDelay: true })
    let received = 0
    const timer = setTimeout(() => fail(new Error('no echo in time')), Math.max(1, deadline - Date.now()))
    const fail = (error: Error) => {
      clearTimeout(timer)
      socket.destroy()
      reject(error)
    }
    const onData = (chunk: Buffer) => {
      received += chunk.length
      if (received < EXCHANGE.length) return
      latencies.push(performance.now() - t0)
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('error', fail)
      socket.off('close', onClose)
      socket.on('error', () => {})
      resolve(socket)
    }
    const onClose = () => fail(new Error('closed before the echo (reset by the inlet?)'))
    socket.on('data', onData)
    socket.on('error', fail)
    socket.on('close', onClose)
    socket.on('connect', () => socket.write(EXCHANGE))
  })
}

/** Opens `count` more portals, CONCURRENCY at a time, within STEP_MAX_MS; stops at the first failure. */
async function openMany(
  address: string,
  count: number,
  into: Socket[],
  latencies: number[] = [],
): Promise<string | undefined> {
  const deadline = Date.now() + STEP_MAX_MS
  let started = 0
  let failure: string | undefined
  const lane = async () => {
    while (started < count && failure === undefined) {
      if (Date.now() > deadline) {
        failure ??= `out of time (${STEP_MAX_MS / 1000} s)`
        return
      }
      started++
      try {
        into.push(await openOne(address, deadline, latencies))
      } catch (error) {
        failure ??= (error as NodeJS.ErrnoException).code ?? (error as Error).message
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane))
  return failure
}

/** Waits (bounded) until every node has `count` portals, opening or open. */
async function untilActive(nodes: readonly Child[], count: number): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    const samples = await Promise.all(nodes.map((n) => n.sample(false).catch(() => undefined)))
    if (samples.every((x) => x?.portalsActive === count)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Waits until the nodes' pools stop moving (idle credit given back), bounded. */
async function settle(nodes: readonly Child[]): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
  const deadline = Date.now() + SETTLE_MAX_MS
  let last = await Promise.all(nodes.map((n) => n.sample(false)))
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS))
    const now = await Promise.all(nodes.map((n) => n.sample(false)))
    const still = now.every((s, i) => s.poolReserved === last[i]?.poolReserved && s.poolWaiting === 0)
    last = now
    if (still) return
  }
}

const mib = (bytes: number) => bytes / MiB

async function runClient(): Promise<void> {
  armWatchdog('portal-idle', (knobs.quick ? 5 : 20) * 60_000)
  console.log(`portal-idle: ${describeMachine(knobs)}`)
  const own = openFileLimits()
  const wanted = MAX_N + FD_MARGIN
  console.log(
    `open files: this process soft ${own?.soft ?? '?'} / hard ${own?.hard ?? '?'}; each process needs ~${wanted.toLocaleString('en-US')} for N = ${MAX_N.toLocaleString('en-US')}`,
  )
  const target = await startChild('target', [])
  const outlet = await startChild('outlet', [target.address])
  const inlet = await startChild('inlet', [outlet.address])
  const processes = [inlet, outlet, target]
  const nodes = [inlet, outlet]
  for (const p of processes) {
    const ok = p.fdSoft >= wanted
    console.log(
      `  ${p.role}: open files soft ${p.fdSoft} / hard ${p.fdHard}${ok ? '' : ` — BELOW ${wanted}: N = ${MAX_N} may not be reachable`}`,
    )
  }
  console.log(
    `outlet: maxPortalsPerPeer raised to ${MAX_N + WARMUP_PORTALS} (the default, ${DEFAULT_OUTLET_MAX_PORTALS_PER_PEER}, refuses one inlet session's portals past it)`,
  )
  const reachable = Math.min(own?.soft ?? Number.POSITIVE_INFINITY, ...processes.map((p) => p.fdSoft)) - FD_MARGIN
  const plannedSteps = [...new Set(STEPS.map((n) => Math.max(1, Math.min(n, reachable))))]
  if (reachable < MAX_N) {
    console.log(
      `CANNOT REACH N = ${MAX_N}: the open-file limit allows ~${reachable} portals per process; steps ${plannedSteps.join(', ')} (the verdict extrapolates)`,
    )
  }

  const sockets: Socket[] = []
  const steps: Step[] = []
  try {
    // Warm-up: the code paths of open, data and reset run once before the baseline.
    const warm: Socket[] = []
    const warmFailure = await openMany(inlet.address, WARMUP_PORTALS, warm)
    if (warmFailure !== undefined) throw new Error(`warm-up portals failed: ${warmFailure}`)
    for (const socket of warm) socket.destroy()
    await untilActive(nodes, 0)
    await settle(nodes)
    let previous = new Map<string, Sample>()
    for (const p of processes) previous.set(p.role, await p.sample(true))
    collectGarbage()
    previous.set('client', sampleOf(undefined))
    const base = new Map(previous)

    for (const n of plannedSteps) {
      const before = sockets.length
      const latencies: number[] = []
      const t0 = performance.now()
      const failure = await openMany(inlet.address, n - before, sockets, latencies)
      const seconds = (performance.now() - t0) / 1000
      if (failure !== undefined) {
        console.log(`N = ${n} NOT REACHED: ${sockets.length} portals open, then: ${failure}`)
        // A process may be out of descriptors: close a few portals so every one can report.
        for (const socket of sockets.splice(Math.floor(sockets.length * 0.95))) socket.destroy()
        await untilActive(nodes, sockets.length)
      }
      await settle(nodes)
      if (sockets.length === before) break
      const now = new Map<string, Sample>()
      for (const p of processes) now.set(p.role, await p.sample(true))
      collectGarbage()
      now.set('client', sampleOf(undefined))
      steps.push({ n: sockets.length, previousN: before, seconds, latencies, base, previous, now })
      console.log(`N = ${sockets.length}: ${sockets.length - before} opened in ${seconds.toFixed(1)} s`)
      previous = now
      if (failure !== undefined) break
    }
  } finally {
    for (const socket of sockets) socket.destroy()
    await Promise.all(processes.map((p) => p.stop()))
  }
  printResults(steps)
}

interface Step {
  /** Portals open at this step, and at the one before (0 for the first). */
  readonly n: number
  readonly previousN: number
  readonly seconds: number
  /** Milliseconds from connect to the echo of the first exchange, per portal opened in this step. */
  readonly latencies: readonly number[]
  readonly base: ReadonlyMap<string, Sample>
  readonly previous: ReadonlyMap<string, Sample>
  readonly now: ReadonlyMap<string, Sample>
}

const ROLES = ['inlet', 'outlet', 'target', 'client'] as const
const NODE_ROLES = ['inlet', 'outlet'] as const

function printResults(steps: readonly Step[]): void {
  const memoryRows: Cell[][] = []
  const gaugeRows: Cell[][] = []
  const openRows: Cell[][] = []
  for (const step of steps) {
    for (const role of ROLES) {
      const b = step.base.get(role) as Sample
      const p = step.previous.get(role) as Sample
      const now = step.now.get(role) as Sample
      memoryRows.push([
        step.n,
        NODE_ROLES.includes(role as 'inlet') ? `${role} node` : role,
        mib(now.rss),
        mib(now.heapTotal),
        mib(now.heapUsed),
        mib(now.external),
        mib(now.arrayBuffers),
        mib(now.rss - b.rss),
        Math.round((now.rss - b.rss) / step.n),
        Math.round((now.rss - p.rss) / (step.n - step.previousN)),
        Math.round((now.heapUsed - b.heapUsed) / step.n),
      ])
    }
    for (const role of NODE_ROLES) {
      const p = step.previous.get(role) as Sample
      const now = step.now.get(role) as Sample
      gaugeRows.push([
        step.n,
        `${role} node`,
        now.portalsOpen,
        now.resets,
        mib(now.poolReserved),
        now.poolHeld / 1024,
        now.poolWaits - p.poolWaits,
      ])
    }
    const sorted = Float64Array.from(step.latencies).sort()
    openRows.push([
      step.n,
      step.n - step.previousN,
      step.seconds,
      (step.n - step.previousN) / step.seconds,
      percentile(sorted, 50),
      percentile(sorted, 99),
      sorted.at(-1) ?? 0,
    ])
  }
  printTable(
    `Memory per process with N idle portals (inlet node → one end-to-end secure channel → outlet node → echo target; each portal carried one ${EXCHANGE.length}-byte exchange, then ≥ ${IDLE_MS / 1000} s idle; full GC before each sample; Δ from a baseline taken after ${WARMUP_PORTALS} warm-up portals; "marginal" = from the previous step)`,
    [
      'N',
      'process',
      'RSS MiB',
      'heapTotal MiB',
      'heapUsed MiB',
      'external MiB',
      'arrayBuffers MiB',
      'Δ RSS MiB',
      'RSS B/portal',
      'marginal RSS B/portal',
      'heapUsed B/portal',
    ],
    memoryRows,
  )
  printTable(
    'Node gauges at each step (pool reserved = credit granted and unused, accounting rather than memory; held = bytes buffered for slow sockets)',
    ['N', 'node', 'portals open', 'resets', 'pool reserved MiB', 'pool held KiB', 'pool waits in step'],
    gaugeRows,
  )
  printTable(
    `Opening (${CONCURRENCY} connections at a time; latency = connect to the echo of the first exchange)`,
    ['N', 'opened', 'seconds', 'opens/s', 'p50 ms', 'p99 ms', 'max ms'],
    openRows,
  )
  printVerdict(steps)
}

function printVerdict(steps: readonly Step[]): void {
  const last = steps.at(-1)
  if (last === undefined) {
    console.log('no step was reached: no verdict')
    return
  }
  const measured = last.n >= TARGET_PORTALS
  const rows: Cell[][] = NODE_ROLES.map((role) => {
    const now = last.now.get(role) as Sample
    const previous = last.previous.get(role) as Sample
    // Below 10,000 (a quick run or a limit), extend the last step's marginal cost: rough.
    const marginal = (now.rss - previous.rss) / (last.n - last.previousN)
    const rss = measured ? now.rss : now.rss + marginal * (TARGET_PORTALS - last.n)
    return [
      `${role} node`,
      measured ? `measured at N = ${last.n}` : `extrapolated from N = ${last.n} (rough)`,
      mib(rss),
      rss < MUST_BYTES ? 'MET' : 'MISSED',
      rss < GOAL_BYTES ? 'MET' : 'missed',
    ]
  })
  printTable(
    `Verdict: RSS of one node holding ${TARGET_PORTALS.toLocaleString('en-US')} idle portals (DESIGN §9: must < 1 GiB, goal < 300 MiB)`,
    ['node', 'how', 'RSS MiB', 'must < 1 GiB', 'goal < 300 MiB'],
    rows,
  )
  console.log(
    `(an idle sender keeps ${DEFAULT_PORTAL_IDLE_CREDIT_KEEP_BYTES / 1024} KiB of credit per portal direction; the rest goes back at the second sweep)`,
  )
}

const [role, ...rest] = process.argv.slice(2)
if (role === undefined) await runClient()
else await runChild(role, rest)
