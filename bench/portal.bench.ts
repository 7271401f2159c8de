/**
 * Portals against their baselines (DESIGN §9), in one run, interleaved:
 *
 * - paths: raw TCP loopback (client → target), one plain Node pipe() proxy, two pipe() proxies
 *   (the shape of inlet + outlet), our portal (inlet here → one TCP hop → outlet), the same
 *   inside an end-to-end secure channel (Noise, AES-GCM: DESIGN §9's "direct portal"), the
 *   walkthrough's relay path (inlet → channel to a project node in a third process → its relay
 *   `forward_to_bench` → end-to-end channel to the outlet node → outlet), and `ssh -L` when
 *   OpenSSH's client and server are installed (else printed as missing);
 * - bulk throughput: the client uploads to a counting sink and ends; the sink answers the count
 *   after the FIN came through (so the half-close path is timed too). MB/s and CPU-s per GB of
 *   both processes (plus ssh and sshd for the ssh -L rows);
 * - 1-byte round trips on a long-lived connection to an echo target: p50 / p99;
 * - the chunk-size sweep (16, 32, 48 and the 64 KiB that fits one channel frame) and a window
 *   sweep that chose the defaults; and the codec micro-bench (hand-encoded header vs CBOR).
 *
 * The client, the inlet and the first pipe() proxy run here; the targets, the outlet node and
 * the second proxy run in a child process (this file, forked with `far`), so the portal's two
 * nodes have an event loop each; the relay path's project node runs in a third (`project`).
 * CPU-s/GB counts every process a path runs through (ssh's and the project node's included). Every segment is bounded in bytes and time; rounds alternate
 * the order of the paths; ratios are medians of per-round ratios with min–max.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decode as cborDecode, encode as cborEncode } from 'cborg'
import { Bench } from 'tinybench'
import { local, tcp } from '../runtime/address.js'
import { createDefaultNode, tcpOf } from '../runtime/defaults.js'
import { createLogger } from '../runtime/log.js'
import { createVault } from '../runtime/trust/vault/create-vault.js'
import { DEFAULT_PORTAL_WINDOW_BYTES, MAX_PORTAL_CHUNK_IN_CHANNEL_BYTES } from '../workers/portal/constants.js'
import { startTcpInlet } from '../workers/portal/inlet.js'
import { decodePortalMessage, encodeData } from '../workers/portal/messages.js'
import { startTcpOutlet } from '../workers/portal/outlet.js'
import { RELAY_FORWARD_PREFIX, startRelayService, startRelaySession } from '../workers/relay/index.js'
import { createSecureChannelIdentity } from '../workers/secure-channel/identity-material.js'
import { createSecureChannel } from '../workers/secure-channel/initiator.js'
import { startSecureChannelListener } from '../workers/secure-channel/listener.js'
import { trustAnyone } from '../workers/secure-channel/trust-policy.js'
import { baselineStatus } from './helpers/baselines.js'
import { countingSinkServer } from './helpers/counting-sink.js'
import { cpuMicros } from './helpers/cpu.js'
import { type Cell, formatSpread, printTable } from './helpers/format.js'
import { collectGarbage } from './helpers/gc.js'
import { benchKnobs, describeMachine } from './helpers/options.js'
import { startSshTunnels } from './helpers/ssh-tunnel.js'
import { median, pairedRatios, summarizeLatencies } from './helpers/stats.js'
import { armWatchdog } from './helpers/watchdog.js'

const KiB = 1024
const MiB = 1024 * KiB
const knobs = benchKnobs()
/** Bytes per throughput segment, and its time bound. */
const BULK_BYTES = knobs.quick ? 32 * MiB : 256 * MiB
const BULK_MAX_MS = 3_000
const RTT_COUNT = knobs.count(2_000, 100)
const RTT_WARMUP = knobs.count(300, 20)
const RTT_MAX_MS = 3_000
const WRITE_CHUNK = randomBytes(256 * KiB)
const CHUNK_SIZES = [16 * KiB, 32 * KiB, 48 * KiB, MAX_PORTAL_CHUNK_IN_CHANNEL_BYTES]
const WINDOW_SIZES = [128 * KiB, 256 * KiB, 512 * KiB, 1024 * KiB, 2048 * KiB]

const quietLog = (name: string) => createLogger({ name, level: 'warn' })

/** A throwaway identity (its vault in a scratch folder, removed at exit) for the channel path. */
async function scratchIdentity() {
  const dir = mkdtempSync(join(tmpdir(), 'portal-bench-vault-'))
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  return createSecureChannelIdentity(await createVault({ mode: 'inline', stateDir: dir, env: {} }))
}

// ---------------------------------------------------------------------------------------------
// Servers used on both sides

/** Every server and socket of this process's side, closed at the end so the process can exit. */
const servers: Server[] = []
const sockets = new Set<Socket>()

function track(socket: Socket): Socket {
  sockets.add(socket)
  socket.on('close', () => sockets.delete(socket))
  return socket
}

async function listen(server: Server): Promise<string> {
  servers.push(server)
  server.on('connection', track)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return `127.0.0.1:${(server.address() as { port: number }).port}`
}

async function closeAll(): Promise<void> {
  for (const socket of sockets) socket.destroy()
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
}

function hostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':')
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) }
}

function startSink(): Promise<string> {
  return listen(countingSinkServer())
}

function startEcho(): Promise<string> {
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.pipe(socket)
    socket.on('error', () => socket.destroy())
  })
  return listen(server)
}

/** The plainest proxy: accept, connect to `target`, pipe() both ways (half-close carried). */
function startPipeProxy(target: string): Promise<string> {
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const upstream = track(connect({ ...hostPort(target), allowHalfOpen: true, noDelay: true }))
    client.pipe(upstream)
    upstream.pipe(client)
    const destroy = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', destroy)
    upstream.on('error', destroy)
  })
  return listen(server)
}

// ---------------------------------------------------------------------------------------------
// The far process

interface FarAddresses {
  readonly sink: string
  readonly echo: string
  readonly proxySink: string
  readonly proxyEcho: string
  readonly ockam: string
}

type FarMessage = { type: 'ready'; addresses: FarAddresses } | { type: 'cpu'; micros: number }

/** The relay name the outlet node registers at the project node for the relay path. */
const RELAY_NAME = 'bench'

/** Answers CPU questions and stop over IPC (the child processes of this bench). */
function serveParent(): void {
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'cpu') process.send?.({ type: 'cpu', micros: cpuMicros() } satisfies FarMessage)
    else if (message.type === 'stop') process.exit(0)
  })
  process.on('disconnect', () => process.exit(0))
}

/**
 * The project node of the relay path (DESIGN §7, the walkthrough): a secure-channel listener and
 * the relay service, in a third process. Any identity may register (the bench has no authority).
 */
async function runProject(): Promise<void> {
  const node = createDefaultNode({
    name: 'project',
    listen: ['127.0.0.1:0'],
    pool: { threads: 0 },
    log: quietLog('project'),
  })
  await node.start()
  await startSecureChannelListener(node, { identity: await scratchIdentity(), trust: trustAnyone() })
  await startRelayService(node, { authorize: () => undefined })
  serveParent()
  const ockam = tcpOf(node).listenAddresses()[0] ?? ''
  process.send?.({
    type: 'ready',
    addresses: { sink: '', echo: '', proxySink: '', proxyEcho: '', ockam },
  } satisfies FarMessage)
}

async function runFar(project: string | undefined): Promise<void> {
  const sink = await startSink()
  const echo = await startEcho()
  const node = createDefaultNode({ name: 'far', listen: ['127.0.0.1:0'], pool: { threads: 0 }, log: quietLog('far') })
  await node.start()
  // The portal inside an end-to-end secure channel (DESIGN §9's "direct portal"): a listener here.
  await startSecureChannelListener(node, { identity: await scratchIdentity(), trust: trustAnyone() })
  const allow = () => true
  await startTcpOutlet(node, { target: sink, allow, address: 'sink' })
  await startTcpOutlet(node, { target: echo, allow, address: 'echo-outlet' })
  for (const window of WINDOW_SIZES) {
    await startTcpOutlet(node, { target: sink, allow, address: `sink-w${window / KiB}`, windowBytes: window })
  }
  if (project !== undefined) {
    // The outlet node's relay at the project: `forward_to_bench` there reaches this node's `api`.
    const identity = await scratchIdentity()
    const session = startRelaySession(node, {
      name: RELAY_NAME,
      connect: (signal) =>
        createSecureChannel(node, [tcp(project), local('api')], { identity, trust: trustAnyone(), signal }),
    })
    await session.whenUp(15_000)
  }
  const addresses: FarAddresses = {
    sink,
    echo,
    proxySink: await startPipeProxy(sink),
    proxyEcho: await startPipeProxy(echo),
    ockam: tcpOf(node).listenAddresses()[0] ?? '',
  }
  serveParent()
  process.send?.({ type: 'ready', addresses } satisfies FarMessage)
}

interface Far {
  readonly addresses: FarAddresses
  cpuMicros(): Promise<number>
  stop(): void
}

/** Forks this file as `far [PROJECT]` (targets and the outlet node) or `project` (the relay node). */
async function startFar(args: readonly string[] = ['far']): Promise<Far> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const next = async (type: FarMessage['type']): Promise<FarMessage> => {
    const timeout = AbortSignal.timeout(15_000)
    for (;;) {
      const [message] = (await once(child, 'message', { signal: timeout })) as [FarMessage]
      if (message.type === type) return message
    }
  }
  const ready = await next('ready')
  if (ready.type !== 'ready') throw new Error('unexpected first message from the far process')
  return {
    addresses: ready.addresses,
    async cpuMicros() {
      const reply = next('cpu')
      child.send({ type: 'cpu' })
      const message = await reply
      return message.type === 'cpu' ? message.micros : 0
    },
    stop() {
      child.send({ type: 'stop' })
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Measurements

async function connectTo(address: string): Promise<Socket> {
  const socket = track(connect({ ...hostPort(address), noDelay: true, allowHalfOpen: true }))
  await once(socket, 'connect')
  return socket
}

interface BulkResult {
  readonly mbPerSecond: number
  /** CPU seconds (both processes) per GB of payload. */
  readonly cpuPerGb: number
}

/** Uploads up to BULK_BYTES (or BULK_MAX_MS) and waits for the sink's count after the FIN. */
async function bulk(address: string, far: Far, path?: Path): Promise<BulkResult> {
  const extraCpu = path?.extraCpu ?? (() => 0)
  collectGarbage()
  const socket = await connectTo(address)
  const replyChunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => replyChunks.push(chunk))
  const ended = once(socket, 'end')
  const farCpu0 = await far.cpuMicros()
  await path?.before?.()
  const extraCpu0 = extraCpu()
  const cpu0 = cpuMicros()
  const t0 = performance.now()
  const deadline = t0 + BULK_MAX_MS
  let sent = 0
  while (sent < BULK_BYTES && performance.now() < deadline) {
    if (!socket.write(WRITE_CHUNK)) await once(socket, 'drain')
    sent += WRITE_CHUNK.length
  }
  socket.end()
  await ended
  const seconds = (performance.now() - t0) / 1000
  await path?.before?.()
  const cpu = cpuMicros() - cpu0 + ((await far.cpuMicros()) - farCpu0) + (extraCpu() - extraCpu0)
  socket.destroy()
  const counted = Number(Buffer.concat(replyChunks).readBigUInt64BE(0))
  if (counted !== sent) throw new Error(`the sink counted ${counted} of ${sent} bytes through ${address}`)
  return { mbPerSecond: sent / 1e6 / seconds, cpuPerGb: cpu / 1e6 / (sent / 1e9) }
}

/** Sequential 1-byte round trips on one connection. */
class Pinger {
  readonly #socket: Socket
  #waiting: (() => void) | undefined

  private constructor(socket: Socket) {
    this.#socket = socket
    socket.on('data', () => {
      const resolve = this.#waiting
      this.#waiting = undefined
      resolve?.()
    })
  }

  static async connect(address: string): Promise<Pinger> {
    return new Pinger(await connectTo(address))
  }

  ping(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting = resolve
      this.#socket.write(ONE_BYTE)
    })
  }

  close(): void {
    this.#socket.destroy()
  }
}

const ONE_BYTE = Uint8Array.of(7)

interface RttResult {
  readonly p50: number
  readonly p99: number
}

async function rtt(pinger: Pinger): Promise<RttResult> {
  collectGarbage()
  const samples = new Float64Array(RTT_COUNT)
  const deadline = performance.now() + RTT_MAX_MS
  let n = 0
  while (n < RTT_COUNT) {
    const t0 = performance.now()
    await pinger.ping()
    const t1 = performance.now()
    samples[n++] = (t1 - t0) * 1000
    if (t1 > deadline) break
  }
  const summary = summarizeLatencies(samples, n)
  return { p50: summary.p50, p99: summary.p99 }
}

interface Path {
  readonly name: string
  readonly sink: string
  readonly echo?: string
  /** CPU µs of processes beyond this one and the far one (ssh, sshd, the project node), if any. */
  readonly extraCpu?: () => number
  /** Runs before each reading of extraCpu (the project node's is fetched over IPC). */
  readonly before?: () => Promise<void>
}

/** Runs `measure` for every path, `rounds` times, alternating the order; returns per-path rounds. */
async function interleave<T>(paths: readonly Path[], measure: (path: Path) => Promise<T>): Promise<Map<string, T[]>> {
  const results = new Map<string, T[]>(paths.map((p) => [p.name, []]))
  for (const path of paths) await measure(path) // warm-up, not reported
  for (let round = 0; round < knobs.rounds; round++) {
    const order = round % 2 === 0 ? paths : [...paths].reverse()
    for (const path of order) results.get(path.name)?.push(await measure(path))
  }
  return results
}

function ratio(a: readonly number[] | undefined, b: readonly number[] | undefined): string {
  if (a === undefined || b === undefined || a.length === 0 || b.length !== a.length) return 'missing'
  return formatSpread(pairedRatios(a, b))
}

// ---------------------------------------------------------------------------------------------
// Codec micro-bench

function opsPerSecond(fn: () => void): number {
  const bench = new Bench({ time: 200, iterations: 64, warmupTime: 50, warmupIterations: 16, throws: true })
  bench.add('task', fn)
  const [task] = bench.runSync()
  const result = task?.result
  if (result?.state !== 'completed') throw new Error('codec bench did not complete')
  return 1000 / result.latency.p50
}

function codecRows(): Cell[][] {
  const rows: Cell[][] = []
  for (const size of [1, 1024, MAX_PORTAL_CHUNK_IN_CHANNEL_BYTES]) {
    const bytes = randomBytes(size)
    let seq = 0
    const hand = opsPerSecond(() => {
      const decoded = decodePortalMessage(encodeData(seq++ >>> 0, bytes))
      if (decoded.type !== 'data') throw new Error('bad decode')
    })
    const cbor = opsPerSecond(() => {
      const decoded = cborDecode(cborEncode([3, seq++ >>> 0, bytes])) as [number, number, Uint8Array]
      if (decoded[0] !== 3) throw new Error('bad decode')
    })
    rows.push([
      size === 1 ? '1 B' : size === 1024 ? '1 KiB' : `${size} B`,
      hand,
      cbor,
      1e9 / hand,
      1e9 / cbor,
      `${(hand / cbor).toFixed(2)}×`,
    ])
  }
  return rows
}

// ---------------------------------------------------------------------------------------------

async function runNear(): Promise<void> {
  armWatchdog('portal', 20 * 60_000)
  console.log(`portal: ${describeMachine(knobs)}`)
  const statuses = baselineStatus(['ssh', 'sshd', 'iperf3'])
  console.log(
    `baselines: ${statuses.map((s) => `${s.command} ${s.path === undefined ? `MISSING (apt-get install ${s.debianPackage})` : 'found'}`).join(', ')}`,
  )
  console.log(
    'raw TCP loopback is measured with node:net here; iperf3 figures are not part of this bench (DESIGN §9 lists them).',
  )

  printTable(
    'Portal data message codec: encode + decode one data message (tinybench, p50), hand-encoded 5-byte header vs CBOR [type, seq, bytes] (cborg)',
    ['payload', 'hand ops/s', 'CBOR ops/s', 'hand ns', 'CBOR ns', 'hand vs CBOR'],
    codecRows(),
  )

  const project = await startFar(['project'])
  const far = await startFar(['far', project.addresses.ockam])
  const node = createDefaultNode({ name: 'near', pool: { threads: 0 }, log: quietLog('near') })
  await node.start()
  const toFar = (service: string) => [tcp(far.addresses.ockam), local(service)]
  const inlet = async (service: string, extra: { maxChunkBytes?: number } = {}) =>
    (await startTcpInlet(node, { listen: '127.0.0.1:0', to: toFar(service), ...extra })).address
  const channel = await createSecureChannel(node, [tcp(far.addresses.ockam), local('api')], {
    identity: await scratchIdentity(),
    trust: trustAnyone(),
  })
  const inletInChannel = async (service: string) =>
    (await startTcpInlet(node, { listen: '127.0.0.1:0', to: [channel.address, local(service)] })).address
  // The walkthrough's path: a channel to the project node, its relay to the outlet node, and an
  // end-to-end channel through that to the outlet node (bytes sealed twice on this hop).
  const toProject = await createSecureChannel(node, [tcp(project.addresses.ockam), local('api')], {
    identity: await scratchIdentity(),
    trust: trustAnyone(),
  })
  const endToEnd = await createSecureChannel(
    node,
    [toProject.address, local(`${RELAY_FORWARD_PREFIX}${RELAY_NAME}`), local('api')],
    { identity: await scratchIdentity(), trust: trustAnyone() },
  )
  const inletViaRelay = async (service: string) =>
    (await startTcpInlet(node, { listen: '127.0.0.1:0', to: [endToEnd.address, local(service)] })).address
  let projectCpu = 0
  const projectCpuNow = () => projectCpu
  const refreshProjectCpu = async () => {
    projectCpu = await project.cpuMicros()
  }
  const sshTargets = [far.addresses.sink, far.addresses.echo]
  const sshAes = await startSshTunnels('aes128-gcm@openssh.com', sshTargets)
  const sshChacha = await startSshTunnels('chacha20-poly1305@openssh.com', sshTargets)
  try {
    const paths: Path[] = [
      { name: 'raw TCP loopback', sink: far.addresses.sink, echo: far.addresses.echo },
      { name: 'one pipe() proxy', sink: far.addresses.proxySink, echo: far.addresses.proxyEcho },
      {
        name: 'two pipe() proxies',
        sink: await startPipeProxy(far.addresses.proxySink),
        echo: await startPipeProxy(far.addresses.proxyEcho),
      },
      { name: 'portal (inlet → outlet)', sink: await inlet('sink'), echo: await inlet('echo-outlet') },
      {
        name: 'portal in a secure channel',
        sink: await inletInChannel('sink'),
        echo: await inletInChannel('echo-outlet'),
      },
      {
        name: 'portal via relay',
        sink: await inletViaRelay('sink'),
        echo: await inletViaRelay('echo-outlet'),
        extraCpu: projectCpuNow,
        before: refreshProjectCpu,
      },
    ]
    for (const tunnel of [sshAes, sshChacha]) {
      if (typeof tunnel === 'string') continue
      const [sink = '', echo = ''] = tunnel.local
      paths.push({ name: `ssh -L ${tunnel.cipher}`, sink, echo, extraCpu: () => tunnel.cpuMicros() })
    }

    const bulkResults = await interleave(paths, (path) => bulk(path.sink, far, path))
    const pingers = new Map<string, Pinger>()
    for (const path of paths) if (path.echo !== undefined) pingers.set(path.name, await Pinger.connect(path.echo))
    for (const pinger of pingers.values()) for (let i = 0; i < RTT_WARMUP; i++) await pinger.ping()
    const rttResults = await interleave(paths, (path) => rtt(pingers.get(path.name) as Pinger))
    for (const pinger of pingers.values()) pinger.close()

    const raw = 'raw TCP loopback'
    const sshName = typeof sshAes === 'string' ? undefined : `ssh -L ${sshAes.cipher}`
    const rows: Cell[][] = paths.map((path) => {
      const b = bulkResults.get(path.name) ?? []
      const r = rttResults.get(path.name) ?? []
      const mb = b.map((x) => x.mbPerSecond)
      return [
        path.name,
        median(mb),
        (median(mb) * 8) / 1000,
        median(b.map((x) => x.cpuPerGb)),
        median(r.map((x) => x.p50)),
        median(r.map((x) => x.p99)),
        path.name === raw
          ? '1'
          : ratio(
              mb,
              bulkResults.get(raw)?.map((x) => x.mbPerSecond),
            ),
        sshName === undefined
          ? 'ssh missing'
          : ratio(
              mb,
              bulkResults.get(sshName)?.map((x) => x.mbPerSecond),
            ),
        path.name === raw
          ? '1'
          : ratio(
              r.map((x) => x.p50),
              rttResults.get(raw)?.map((x) => x.p50),
            ),
        path.name === raw
          ? '1'
          : ratio(
              r.map((x) => x.p99),
              rttResults.get(raw)?.map((x) => x.p99),
            ),
        sshName === undefined
          ? 'ssh missing'
          : ratio(
              r.map((x) => x.p50),
              rttResults.get(sshName)?.map((x) => x.p50),
            ),
        sshName === undefined
          ? 'ssh missing'
          : ratio(
              r.map((x) => x.p99),
              rttResults.get(sshName)?.map((x) => x.p99),
            ),
      ]
    })
    for (const tunnel of [
      ['aes128-gcm', sshAes],
      ['chacha20-poly1305', sshChacha],
    ] as const) {
      if (typeof tunnel[1] === 'string')
        rows.push([`ssh -L ${tunnel[0]}`, tunnel[1], '', '', '', '', '', '', '', '', '', ''])
    }
    printTable(
      `Through one TCP hop on loopback (client and inlet/first proxy here, outlet/second proxy and targets in a child process); bulk: up to ${BULK_BYTES / MiB} MiB or ${BULK_MAX_MS / 1000} s upload then the sink's count after FIN; RTT: ${RTT_COUNT} sequential 1-byte round trips; ${knobs.rounds} interleaved rounds after a warm-up`,
      [
        'path',
        'MB/s',
        'Gbit/s',
        'CPU-s/GB',
        'RTT p50 µs',
        'RTT p99 µs',
        'MB/s vs raw',
        'MB/s vs ssh aes',
        'p50 vs raw',
        'p99 vs raw',
        'p50 vs ssh aes',
        'p99 vs ssh aes',
      ],
      rows,
    )

    // Chunk-size sweep: the inlet's chunk size decides the upload's data messages.
    const chunkPaths: Path[] = []
    for (const size of CHUNK_SIZES) {
      chunkPaths.push({ name: `${size} B`, sink: await inlet('sink', { maxChunkBytes: size }) })
    }
    const chunkResults = await interleave(chunkPaths, (path) => bulk(path.sink, far))
    const largest = chunkPaths.at(-1)?.name ?? ''
    printTable(
      `Chunk-size sweep (portal upload, window ${DEFAULT_PORTAL_WINDOW_BYTES / KiB} KiB; ${MAX_PORTAL_CHUNK_IN_CHANNEL_BYTES} B is the largest that fits one channel frame)`,
      ['chunk', 'MB/s', 'CPU-s/GB', `MB/s vs ${largest}`, `CPU vs ${largest}`],
      chunkPaths.map((path) => {
        const r = chunkResults.get(path.name) ?? []
        const big = chunkResults.get(largest) ?? []
        return [
          path.name,
          median(r.map((x) => x.mbPerSecond)),
          median(r.map((x) => x.cpuPerGb)),
          ratio(
            r.map((x) => x.mbPerSecond),
            big.map((x) => x.mbPerSecond),
          ),
          ratio(
            r.map((x) => x.cpuPerGb),
            big.map((x) => x.cpuPerGb),
          ),
        ]
      }),
    )

    // Window sweep: the outlet's window decides how much of the upload may be in flight.
    const windowPaths: Path[] = []
    for (const window of WINDOW_SIZES) {
      windowPaths.push({ name: `${window / KiB} KiB`, sink: await inlet(`sink-w${window / KiB}`) })
    }
    const windowResults = await interleave(windowPaths, (path) => bulk(path.sink, far))
    const reference = `${DEFAULT_PORTAL_WINDOW_BYTES / KiB} KiB`
    printTable(
      'Window sweep (portal upload, default chunk)',
      ['window', 'MB/s', 'CPU-s/GB', `MB/s vs ${reference}`],
      windowPaths.map((path) => {
        const r = windowResults.get(path.name) ?? []
        return [
          path.name,
          median(r.map((x) => x.mbPerSecond)),
          median(r.map((x) => x.cpuPerGb)),
          ratio(
            r.map((x) => x.mbPerSecond),
            windowResults.get(reference)?.map((x) => x.mbPerSecond),
          ),
        ]
      }),
    )
  } finally {
    for (const tunnel of [sshAes, sshChacha]) if (typeof tunnel !== 'string') tunnel.stop()
    await node.stop()
    await closeAll()
    far.stop()
    project.stop()
  }
}

if (process.argv[2] === 'far') await runFar(process.argv[3])
else if (process.argv[2] === 'project') await runProject()
else await runNear()
