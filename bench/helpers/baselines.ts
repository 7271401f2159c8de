/**
 * External baselines (DESIGN §9): OpenSSH, iperf3 and PostgreSQL from Debian. Benches that
 * compare against them look them up here and, when one is missing, say which and how to
 * install it instead of failing obscurely or printing a table without its reference row.
 */
import { accessSync, constants, readdirSync } from 'node:fs'
import { delimiter, join } from 'node:path'

export interface Baseline {
  /** Executable name. */
  readonly command: string
  /** The Debian package that provides it. */
  readonly debianPackage: string
  /** What it is used for, in one phrase. */
  readonly purpose: string
}

export const BASELINES: readonly Baseline[] = [
  { command: 'ssh', debianPackage: 'openssh-client', purpose: 'ssh -L client (portal baseline)' },
  { command: 'sshd', debianPackage: 'openssh-server', purpose: 'ssh -L server side (portal baseline)' },
  { command: 'iperf3', debianPackage: 'iperf3', purpose: 'bulk throughput source and sink' },
  { command: 'pgbench', debianPackage: 'postgresql', purpose: 'pgbench -S transactions per second' },
  { command: 'postgres', debianPackage: 'postgresql', purpose: 'PostgreSQL server for pgbench' },
  { command: 'initdb', debianPackage: 'postgresql', purpose: 'creates the throwaway PostgreSQL cluster' },
]

/** Debian installs PostgreSQL's server binaries outside PATH, per major version. */
function postgresDirectories(): string[] {
  try {
    return readdirSync('/usr/lib/postgresql')
      .sort((a, b) => Number(b) - Number(a))
      .map((version) => `/usr/lib/postgresql/${version}/bin`)
  } catch {
    return []
  }
}

/** The absolute path of `command`, or undefined. Looks in PATH, /usr/sbin and PostgreSQL's bin. */
export function findExecutable(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const directories = [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', ...postgresDirectories()]
  for (const directory of directories) {
    if (directory === '') continue
    const candidate = join(directory, command)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

export interface BaselineStatus extends Baseline {
  readonly path: string | undefined
}

export function baselineStatus(commands?: readonly string[]): BaselineStatus[] {
  const wanted = commands === undefined ? BASELINES : BASELINES.filter((b) => commands.includes(b.command))
  return wanted.map((b) => ({ ...b, path: findExecutable(b.command) }))
}

/** The line to print when baselines are missing: what is missing and the command that fixes it. */
export function missingBaselinesMessage(statuses: readonly BaselineStatus[]): string | undefined {
  const missing = statuses.filter((s) => s.path === undefined)
  if (missing.length === 0) return undefined
  const packages = [...new Set(missing.map((s) => s.debianPackage))].join(' ')
  return (
    `MISSING BASELINES: ${missing.map((s) => `${s.command} (${s.purpose})`).join(', ')}. ` +
    `Benches that compare against them report those rows as missing. Install with: sudo apt-get install ${packages}`
  )
}
