/**
 * `pgbench -S` (select-only transactions: small request, small answer, one round trip each)
 * straight to PostgreSQL, through our portal inside a secure channel (inlet here → channel →
 * outlet node in a child process → PostgreSQL), through the same portal over plain TCP (no
 * channel: what the channel costs per message), and through `ssh -L` (DESIGN §9's reference),
 * interleaved for BENCH_ROUNDS rounds after a warm-up. Prints tps and average latency, their
 * ratios to the direct path and to ssh, and for the portal paths the CPU time each node spends
 * per transaction (steadier than tps on this drifting machine).
 *
 * PostgreSQL runs as a throwaway cluster: initdb in a temp folder (owned by the `postgres` user
 * when this runs as root, since postgres refuses root), fsync off, on a free loopback port,
 * `pgbench -i -s 1`, removed at the end. Without PostgreSQL's binaries it says so and exits 0.
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { local, tcp } from '../runtime/address.js'
import { createDefaultNode, tcpOf } from '../runtime/defaults.js'
import { createLogger } from '../runtime/log.js'
import { createVault } from '../runtime/trust/vault/create-vault.js'
import { startTcpInlet } from '../workers/portal/inlet.js'
import { startTcpOutlet } from '../workers/portal/outlet.js'
import { createSecureChannelIdentity } from '../workers/secure-channel/identity-material.js'
import { createSecureChannel } from '../workers/secure-channel/initiator.js'
import { startSecureChannelListener } from '../workers/secure-channel/listener.js'
import { trustAnyone } from '../workers/secure-channel/trust-policy.js'
import { findExecutable } from './helpers/baselines.js'
import { cpuMicros } from './helpers/cpu.js'
import { type Cell, formatSpread, printTable } from './helpers/format.js'
import { benchKnobs, describeMachine } from './helpers/options.js'
import { freeLoopbackPort, startSshTunnels } from './helpers/ssh-tunnel.js'
import { median, pairedRatios } from './helpers/stats.js'
import { armWatchdog } from './helpers/watchdog.js'

const knobs = benchKnobs()
/** DESIGN §9 measures `pgbench -S -c 8 -j 2`. */
const CLIENTS = 8
const THREADS = 2
/** Seconds per pgbench run (bounded: pgbench -T). */
const SECONDS = knobs.quick ? 1 : 5
const quietLog = (name: string) => createLogger({ name, level: 'warn' })

async function scratchIdentity(dir: string) {
  return createSecureChannelIdentity(
    await createVault({ mode: 'inline', stateDir: mkdtempSync(join(dir, 'vault-')), env: {} }),
  )
}

// ---------------------------------------------------------------------------------------------
// The outlet node (child process): a secure-channel listener and an outlet to PostgreSQL.

async function runOutlet(target: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pgbench-outlet-'))
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  const node = createDefaultNode({
    name: 'outlet',
    listen: ['127.0.0.1:0'],
    pool: { threads: 0 },
    log: quietLog('outlet'),
  })
  await node.start()
  await startSecureChannelListener(node, { identity: await scratchIdentity(dir), trust: trustAnyone() })
  await startTcpOutlet(node, { target, allow: () => true, address: 'postgres' })
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'stop') process.exit(0)
    if (message.type === 'cpu') process.send?.({ type: 'cpu', micros: cpuMicros() })
  })
  process.on('disconnect', () => process.exit(0))
  process.send?.({ type: 'ready', ockam: tcpOf(node).listenAddresses()[0] ?? '' })
}

// ---------------------------------------------------------------------------------------------
// The throwaway PostgreSQL cluster

interface Cluster {
  readonly port: number
  stop(): void
}

/** Runs `command` as the postgres user when we are root (postgres refuses root), else as us. */
function asPostgresUser(command: string, args: readonly string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, [...args]]
  const runuser = findExecutable('runuser')
  if (runuser === undefined) throw new Error('running as root needs runuser (util-linux) to drop to the postgres user')
  return [runuser, ['-u', 'postgres', '--', command, ...args]]
}

async function startCluster(bin: { initdb: string; postgres: string; pgbench: string }): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'pgbench-cluster-'))
  const children: ChildProcess[] = []
  const stop = () => {
    for (const child of children) child.kill('SIGINT') // fast shutdown
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString())
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString())
      chownSync(dir, uid, gid)
      chmodSync(dir, 0o700)
    }
    const data = join(dir, 'data')
    const [initdb, initArgs] = asPostgresUser(bin.initdb, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
    execFileSync(initdb, initArgs, { stdio: ['ignore', 'ignore', 'pipe'] })
    const port = await freeLoopbackPort()
    const [postgres, postgresArgs] = asPostgresUser(bin.postgres, [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
    ])
    const server = spawn(postgres, postgresArgs, { stdio: ['ignore', 'ignore', 'pipe'] })
    children.push(server)
    let errors = ''
    server.stderr?.on('data', (chunk: Buffer) => {
      if (errors.length < 4096) errors += chunk.toString('utf8')
    })
    const deadline = performance.now() + 30_000
    for (;;) {
      if (server.exitCode !== null) throw new Error(`postgres exited ${server.exitCode}: ${errors.trim()}`)
      if (performance.now() > deadline) throw new Error(`postgres did not start: ${errors.trim()}`)
      try {
        execFileSync(
          bin.pgbench,
          ['-i', '-s', '1', '-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'postgres'],
          {
            stdio: 'ignore',
          },
        )
        break
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }
    return { port, stop }
  } catch (error) {
    stop()
    throw error
  }
}

// ---------------------------------------------------------------------------------------------

interface PgbenchResult {
  readonly tps: number
  /** Average latency, ms. */
  readonly latencyMs: number
}

function pgbench(binary: string, address: string): Promise<PgbenchResult> {
  const colon = address.lastIndexOf(':')
  const args = [
    '-S',
    '-n',
    '-c',
    String(CLIENTS),
    '-j',
    String(THREADS),
    '-T',
    String(SECONDS),
    '-h',
    address.slice(0, colon),
    '-p',
    address.slice(colon + 1),
    '-U',
    'postgres',
    'postgres',
  ]
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8')
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), (SECONDS + 30) * 1000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      const tps = /tps = ([\d.]+)/.exec(out)?.[1]
      const latency = /latency average = ([\d.]+) ms/.exec(out)?.[1]
      if (code !== 0 || tps === undefined || latency === undefined) {
        reject(
          new Error(
            `pgbench through ${address} failed (exit ${code}): ${out.trim().split('\n').slice(-3).join(' / ')}`,
          ),
        )
      } else {
        resolve({ tps: Number(tps), latencyMs: Number(latency) })
      }
    })
  })
}

interface OutletChild {
  readonly ockam: string
  cpuMicros(): Promise<number>
  stop(): void
}

async function startOutletChild(target: string): Promise<OutletChild> {
  const child = fork(fileURLToPath(import.meta.url), ['outlet', target], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const [message] = (await once(child, 'message', { signal: AbortSignal.timeout(15_000) })) as [{ ockam: string }]
  return {
    ockam: message.ockam,
    async cpuMicros() {
      const reply = once(child, 'message', { signal: AbortSignal.timeout(15_000) }) as Promise<[{ micros: number }]>
      child.send({ type: 'cpu' })
      return (await reply)[0].micros
    },
    stop: () => child.send({ type: 'stop' }),
  }
}

interface Measured extends PgbenchResult {
  /** CPU µs per transaction of the inlet node (this process) and of the outlet node (child). */
  readonly inletCpuPerTx: number
  readonly outletCpuPerTx: number
}

async function measure(binary: string, address: string, outlet: OutletChild): Promise<Measured> {
  const inlet0 = cpuMicros()
  const outlet0 = await outlet.cpuMicros()
  const result = await pgbench(binary, address)
  const transactions = result.tps * SECONDS
  return {
    ...result,
    inletCpuPerTx: (cpuMicros() - inlet0) / transactions,
    outletCpuPerTx: ((await outlet.cpuMicros()) - outlet0) / transactions,
  }
}

async function runNear(): Promise<void> {
  armWatchdog('pgbench', 15 * 60_000)
  console.log(`pgbench: ${describeMachine(knobs)}`)
  const bin = {
    initdb: findExecutable('initdb'),
    postgres: findExecutable('postgres'),
    pgbench: findExecutable('pgbench'),
  }
  if (bin.initdb === undefined || bin.postgres === undefined || bin.pgbench === undefined) {
    console.log(
      'pgbench: MISSING PostgreSQL (needs initdb, postgres, pgbench; looked in PATH and /usr/lib/postgresql/*/bin). ' +
        'Install with: sudo apt-get install postgresql postgresql-contrib. Nothing measured.',
    )
    return
  }
  const cluster = await startCluster({ initdb: bin.initdb, postgres: bin.postgres, pgbench: bin.pgbench })
  const target = `127.0.0.1:${cluster.port}`
  const dir = mkdtempSync(join(tmpdir(), 'pgbench-near-'))
  const outlet = await startOutletChild(target)
  const node = createDefaultNode({ name: 'inlet', pool: { threads: 0 }, log: quietLog('inlet') })
  await node.start()
  const ssh = await startSshTunnels('aes128-gcm@openssh.com', [target])
  try {
    const channel = await createSecureChannel(node, [tcp(outlet.ockam), local('api')], {
      identity: await scratchIdentity(dir),
      trust: trustAnyone(),
    })
    const inlet = await startTcpInlet(node, { listen: '127.0.0.1:0', to: [channel.address, local('postgres')] })
    const plainInlet = await startTcpInlet(node, { listen: '127.0.0.1:0', to: [tcp(outlet.ockam), local('postgres')] })
    const paths: { name: string; address: string; portal?: true }[] = [
      { name: 'direct', address: target },
      { name: 'portal in a secure channel', address: inlet.address, portal: true },
      { name: 'portal over plain TCP (no channel)', address: plainInlet.address, portal: true },
    ]
    if (typeof ssh !== 'string') paths.push({ name: 'ssh -L aes128-gcm', address: ssh.local[0] ?? '' })

    const results = new Map<string, Measured[]>(paths.map((p) => [p.name, []]))
    for (const path of paths) await pgbench(bin.pgbench, path.address) // warm-up, not reported
    for (let round = 0; round < knobs.rounds; round++) {
      const order = round % 2 === 0 ? paths : [...paths].reverse()
      for (const path of order) results.get(path.name)?.push(await measure(bin.pgbench, path.address, outlet))
    }

    const direct = results.get('direct') ?? []
    const sshRuns = typeof ssh === 'string' ? undefined : results.get('ssh -L aes128-gcm')
    const vs = (a: readonly number[], b: readonly number[] | undefined) =>
      b === undefined ? 'ssh missing' : formatSpread(pairedRatios(a, b))
    const rows: Cell[][] = paths.map((path) => {
      const r = results.get(path.name) ?? []
      const tps = r.map((x) => x.tps)
      const latency = r.map((x) => x.latencyMs)
      return [
        path.name,
        median(tps),
        median(latency) * 1000,
        vs(
          tps,
          direct.map((x) => x.tps),
        ),
        vs(
          tps,
          sshRuns?.map((x) => x.tps),
        ),
        vs(
          latency,
          direct.map((x) => x.latencyMs),
        ),
        path.portal ? median(r.map((x) => x.inletCpuPerTx)) : '—',
        path.portal ? median(r.map((x) => x.outletCpuPerTx)) : '—',
      ]
    })
    if (typeof ssh === 'string') rows.push(['ssh -L aes128-gcm', ssh, '', '', '', '', '', ''])
    printTable(
      `pgbench -S -c ${CLIENTS} -j ${THREADS} -T ${SECONDS} (scale 1, PostgreSQL on loopback, fsync off); ${knobs.rounds} interleaved rounds after a warm-up; the outlet node in a child process`,
      [
        'path',
        'tps',
        'latency avg µs',
        'tps vs direct',
        'tps vs ssh aes',
        'latency vs direct',
        'inlet CPU µs/tx',
        'outlet CPU µs/tx',
      ],
      rows,
    )
  } finally {
    if (typeof ssh !== 'string') ssh.stop()
    await node.stop()
    outlet.stop()
    cluster.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === 'outlet') await runOutlet(process.argv[3] ?? '')
else await runNear()
