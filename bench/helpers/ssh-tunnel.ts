/**
 * OpenSSH `ssh -L` as a baseline (DESIGN §9): a throwaway sshd on a free loopback port with its
 * own config, host key and one authorized key in a temp folder (never the system sshd or its
 * port 22), and one `ssh -N -L` client per forwarded target. Logs in as the current user with
 * that key, root included (sshd's default `PermitRootLogin prohibit-password` allows keys).
 *
 * The CPU time of the ssh client and of sshd with its per-connection children is read from
 * /proc, so a bench can charge ssh's processes like it charges its own.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findExecutable } from './baselines.js'

/** sshd started as root insists on its privilege-separation directory (Debian makes it at boot). */
const PRIVSEP_DIRECTORY = '/run/sshd'
const STARTUP_TIMEOUT_MS = 10_000

export interface SshTunnels {
  readonly cipher: string
  /** `127.0.0.1:PORT` per target, in the order given. */
  readonly local: readonly string[]
  /** CPU µs (user + system) of sshd, its children and the ssh clients so far. */
  cpuMicros(): number
  stop(): void
}

/** A port nothing listens on right now (bound, then released). */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy()
      resolve(true)
    })
    socket.on('error', () => resolve(false))
  })
}

const clockTicks = 100 // USER_HZ on Linux

/** utime + stime of one process and its descendants, in µs (0 for what already exited). */
export function processTreeCpuMicros(rootPids: readonly number[]): number {
  let entries: string[]
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    return 0
  }
  const parent = new Map<number, number>()
  const ticks = new Map<number, number>()
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1')
      // Fields after the command name (which may hold spaces) start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      parent.set(Number(entry), Number(fields[1]))
      ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]))
    } catch {
      // exited meanwhile
    }
  }
  const roots = new Set(rootPids)
  let total = 0
  for (const [pid, t] of ticks) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) {
      if (roots.has(p)) {
        total += t
        break
      }
    }
  }
  return (total * 1e6) / clockTicks
}

function stderrOf(child: ChildProcess): () => string {
  let text = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    if (text.length < 4096) text += chunk.toString('utf8')
  })
  return () => text.trim().split('\n').slice(-3).join(' / ')
}

/**
 * Starts sshd and one tunnel per target (`host:port`) with `cipher` (e.g. aes128-gcm@openssh.com).
 * Returns a reason string when OpenSSH is missing or the setup fails.
 */
export async function startSshTunnels(cipher: string, targets: readonly string[]): Promise<SshTunnels | string> {
  const sshd = findExecutable('sshd')
  const ssh = findExecutable('ssh')
  const keygen = findExecutable('ssh-keygen')
  if (sshd === undefined || ssh === undefined || keygen === undefined) {
    return 'missing (needs ssh, sshd, ssh-keygen: sudo apt-get install openssh-client openssh-server)'
  }
  if (process.getuid?.() === 0 && !existsSync(PRIVSEP_DIRECTORY)) {
    // What the distribution's service unit does before starting sshd; nothing else is touched.
    mkdirSync(PRIVSEP_DIRECTORY, { mode: 0o755 })
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-ssh-'))
  const processes: ChildProcess[] = []
  const stop = () => {
    for (const p of processes) p.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
  const run = (command: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(command, args, { stdio: 'ignore' })
      child.once('error', reject)
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))))
    })
  try {
    await run(keygen, ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host')])
    await run(keygen, ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'user')])
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'user.pub')))
    const port = await freeLoopbackPort()
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'AllowTcpForwarding yes',
        'StrictModes no',
        `PidFile ${join(dir, 'sshd.pid')}`,
        'UsePAM no',
        'LogLevel ERROR',
      ].join('\n'),
    )
    const daemon = spawn(sshd, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] })
    processes.push(daemon)
    const daemonErrors = stderrOf(daemon)
    const deadline = performance.now() + STARTUP_TIMEOUT_MS
    // sshd says nothing when ready at LogLevel ERROR: wait until its port answers.
    while (!(await canConnect(port))) {
      if (daemon.exitCode !== null) throw new Error(`sshd exited ${daemon.exitCode}: ${daemonErrors()}`)
      if (performance.now() > deadline) throw new Error(`sshd did not listen: ${daemonErrors()}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const tunnel = async (target: string): Promise<string> => {
      const localPort = await freeLoopbackPort()
      const client = spawn(
        ssh,
        [
          '-N',
          '-F',
          '/dev/null',
          '-o',
          'StrictHostKeyChecking=no',
          '-o',
          'UserKnownHostsFile=/dev/null',
          '-o',
          'BatchMode=yes',
          '-o',
          'ExitOnForwardFailure=yes',
          '-o',
          'LogLevel=ERROR',
          '-c',
          cipher,
          '-i',
          join(dir, 'user'),
          '-p',
          String(port),
          '-L',
          `127.0.0.1:${localPort}:${target}`,
          '127.0.0.1',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      )
      processes.push(client)
      const clientErrors = stderrOf(client)
      while (!(await canConnect(localPort))) {
        if (client.exitCode !== null) throw new Error(`ssh exited ${client.exitCode}: ${clientErrors()}`)
        if (performance.now() > deadline) throw new Error(`the ssh tunnel did not come up: ${clientErrors()}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      return `127.0.0.1:${localPort}`
    }
    const local: string[] = []
    for (const target of targets) local.push(await tunnel(target))
    const pids = processes.map((p) => p.pid).filter((pid): pid is number => pid !== undefined)
    return { cipher, local, cpuMicros: () => processTreeCpuMicros(pids), stop }
  } catch (error) {
    stop()
    return `could not be set up: ${(error as Error).message}`
  }
}
