/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temporary folder, listening on a given
 * loopback port, trust authentication for local connections, stopped and removed in teardown.
 * PostgreSQL refuses to run as root: as root the cluster runs as the `postgres` user the Debian
 * package creates. Without PostgreSQL installed this throws (tests that need it fail loudly:
 * `.ci/run` installs it).
 */
import { execFileSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'

const PG_ROOT = '/usr/lib/postgresql'

/** The bin folder of the newest installed PostgreSQL, or a loud error. */
export function postgresBin(): string {
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT)
        .filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : []
  const newest = versions[0]
  if (newest === undefined) {
    throw new Error(
      'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): this test needs it; ' +
        '.ci/run installs it with apt-get install postgresql postgresql-client',
    )
  }
  return join(PG_ROOT, newest, 'bin')
}

export interface PostgresCluster {
  readonly port: number
  /** The psql binary (Debian's wrapper on PATH, else the cluster's own). */
  readonly psql: string
  /** Environment for psql: user and database `postgres`. */
  readonly env: NodeJS.ProcessEnv
}

export function startPostgres(t: TestContext, port: number): PostgresCluster {
  const bin = postgresBin()
  const root = mkdtempSync(join(tmpdir(), 'ockam-pg-'))
  const data = join(root, 'data')
  const asRoot = process.getuid?.() === 0
  let uid: number | undefined
  if (asRoot) {
    uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim())
    chownSync(root, uid, gid)
  }
  const run = (command: string, args: string[]) =>
    execFileSync(
      asRoot ? 'runuser' : join(bin, command),
      asRoot ? ['-u', 'postgres', '--', join(bin, command), ...args] : args,
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      },
    )
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'])
  run('pg_ctl', [
    '-D',
    data,
    '-w',
    '-l',
    join(root, 'server.log'),
    '-o',
    `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off`,
    'start',
  ])
  t.after(() => {
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
  const psql = existsSync('/usr/bin/psql') ? '/usr/bin/psql' : join(bin, 'psql')
  return { port, psql, env: { PGUSER: 'postgres', PGDATABASE: 'postgres', PGCONNECT_TIMEOUT: '20' } }
}
