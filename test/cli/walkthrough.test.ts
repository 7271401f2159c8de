/**
 * DESIGN §1's walkthrough, command for command, in three state folders (project host, Bank
 * Corp. next to the service, Analysis Corp. next to the client), run by bash exactly as a user
 * types them: the fixed ports 4000, 5432 and 15432, nothing added, default nodes started by the
 * commands themselves. First with a real TCP server on 5432 and a real client; then with a real
 * PostgreSQL on 5432 and psql (`select 1`, and a 10 MiB COPY in and out with a checksum).
 * PostgreSQL must be installed (.ci/run does): without it the second test fails loudly.
 */
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { type TestContext, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { DEMO_GREETING } from '../../runtime/config/demo-service.js'
import { CLI, tempHome } from '../helpers/cli.js'
import { startPostgres } from '../helpers/postgres.js'

const PROJECT_HOST = `ockam-runtime project create demo --listen 127.0.0.1:4000
ockam-runtime project ticket --relay postgres > bank.ticket
ockam-runtime project ticket > analysis.ticket`

const BANK = `ockam-runtime enroll bank.ticket
ockam-runtime tcp-outlet create --to 5432
ockam-runtime relay create postgres`

const ANALYSIS = `ockam-runtime enroll analysis.ticket
ockam-runtime tcp-inlet create --from 15432 --to postgres`

const TICKET = /^ockam-ticket-v1:[A-Za-z0-9_-]+\n$/

interface Walkthrough {
  readonly dir: string
  readonly timings: Record<string, number>
}

/** A folder with `ockam-runtime` on PATH (this build) and the three parts run in it. */
async function runWalkthrough(t: TestContext): Promise<Walkthrough> {
  const dir = mkdtempSync(join(tmpdir(), 'ockam-walkthrough-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'ockam-runtime'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`)
  chmodSync(join(dir, 'ockam-runtime'), 0o755)
  const homes = {
    project: tempHome(t, 'ockam-walk-project-'),
    bank: tempHome(t, 'ockam-walk-bank-'),
    analysis: tempHome(t, 'ockam-walk-analysis-'),
  }
  const timings: Record<string, number> = {}
  for (const [part, script] of [
    ['project', PROJECT_HOST],
    ['bank', BANK],
    ['analysis', ANALYSIS],
  ] as const) {
    const started = performance.now()
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: dir,
      env: { ...process.env, ...homes[part].env, PATH: `${dir}:${process.env.PATH}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const [code] = (await once(child, 'close')) as [number | null]
    timings[part] = Math.round(performance.now() - started)
    assert.equal(code, 0, `the ${part} part failed:\n${output}`)
    t.diagnostic(`${part}: ${timings[part]} ms`)
    for (const line of output.trim().split('\n')) t.diagnostic(`  ${line}`)
  }
  for (const ticket of ['bank.ticket', 'analysis.ticket']) {
    assert.match(readFileSync(join(dir, ticket), 'utf8'), TICKET, `${ticket} holds exactly a ticket`)
  }
  return { dir, timings }
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** Sends `data`, shuts its write side, reads to the end: what came back and how it ended. */
async function roundTrip(port: number, data: Buffer): Promise<{ received: Buffer; ending: string }> {
  const socket = connect({ host: '127.0.0.1', port })
  await once(socket, 'connect')
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  const ended = new Promise<string>((resolve) => {
    socket.once('end', () => resolve('end'))
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
  })
  socket.end(data)
  const ending = await ended
  socket.destroy()
  return { received: Buffer.concat(chunks), ending }
}

test('the walkthrough with a real TCP server and client: 8 MiB each way intact, half-close carried', {
  timeout: 120_000,
}, async (t) => {
  const server = createServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket))
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`port 5432 is taken, the walkthrough needs it: ${error.message}`)))
    server.listen(5432, '127.0.0.1', () => resolve())
  })
  t.after(() => server.close())
  await runWalkthrough(t)

  const data = randomBytes(8 * 1024 * 1024)
  const started = performance.now()
  const { received, ending } = await roundTrip(15432, data)
  const ms = performance.now() - started
  assert.equal(ending, 'end', 'the stream ended with a FIN, not a reset')
  assert.equal(received.length, data.length)
  assert.equal(sha256(received), sha256(data))
  t.diagnostic(`8 MiB up and back through inlet → project relay → outlet in ${ms.toFixed(0)} ms`)
})

test('the walkthrough with PostgreSQL and psql: select 1, and a 10 MiB COPY round trip with a matching checksum', {
  timeout: 180_000,
}, async (t) => {
  const pg = startPostgres(t, 5432)
  const { dir } = await runWalkthrough(t)
  const psql = async (args: string[], stdin?: string) => {
    const child = spawn(pg.psql, ['--host', 'localhost', '--port', '15432', ...args], {
      env: { ...process.env, ...pg.env },
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    let err = ''
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString()
    })
    if (stdin !== undefined) child.stdin?.end(stdin)
    const [code] = (await once(child, 'close')) as [number | null]
    assert.equal(code, 0, `psql ${args.join(' ')} failed: ${err}`)
    return Buffer.concat(out)
  }

  assert.equal((await psql(['-Atc', 'select 1'])).toString(), '1\n')

  // 10 MiB+ of COPY text: lines of hex, so the text format needs no escaping.
  const lines: string[] = []
  let size = 0
  while (size < 10 * 1024 * 1024 + 1) {
    const line = randomBytes(512).toString('hex')
    lines.push(line)
    size += line.length + 1
  }
  const text = `${lines.join('\n')}\n`
  writeFileSync(join(dir, 'rows.txt'), text)
  await psql(['-c', 'CREATE TABLE walkthrough (n serial PRIMARY KEY, line text NOT NULL)'])
  const started = performance.now()
  await psql(['-c', `\\copy walkthrough (line) FROM '${join(dir, 'rows.txt')}'`])
  const back = await psql(['-Atc', 'COPY (SELECT line FROM walkthrough ORDER BY n) TO STDOUT'])
  const ms = performance.now() - started
  assert.equal(back.length, Buffer.byteLength(text))
  assert.equal(sha256(back), sha256(Buffer.from(text)))
  t.diagnostic(
    `COPY ${(Buffer.byteLength(text) / 1024 / 1024).toFixed(1)} MiB in and out through the portal in ${ms.toFixed(0)} ms`,
  )
})

test('npm start runs the full demo from ockam.config.ts and the one command it prints works', {
  timeout: 120_000,
}, async (t) => {
  // Here, not in its own file: the demo uses port 4000 too, and tests of one file run in turn.
  const { env } = tempHome(t, 'ockam-npm-start-')
  const repo = fileURLToPath(new URL('../../..', import.meta.url))
  const started = performance.now()
  const child = spawn('npm', ['start'], {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  // 'exit', not 'close': a pipe can outlive the process (its end held elsewhere) and keep 'close' away.
  const closed = once(child, 'exit')
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(-child.pid, 'SIGTERM')
      await closed
    }
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  let tryIt: string | undefined
  const output: string[] = []
  for await (const line of createInterface({ input: child.stdout })) {
    output.push(line)
    if (/^topology is up/.test(output.at(-2) ?? '')) {
      tryIt = line.trim()
      break
    }
  }
  // Keep reading: a paused pipe never ends, and the child's 'close' waits for it.
  child.stdout.resume()
  assert.ok(tryIt !== undefined, `no try-it command in:\n${output.join('\n')}\n${stderr}`)
  t.diagnostic(`npm start: topology up in ${(performance.now() - started).toFixed(0)} ms; try it: ${tryIt}`)
  const run = spawn('bash', ['-c', tryIt], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 })
  let answer = ''
  let runErr = ''
  run.stdout.on('data', (chunk: Buffer) => {
    answer += chunk.toString()
  })
  run.stderr.on('data', (chunk: Buffer) => {
    runErr += chunk.toString()
  })
  const [code, signal] = (await once(run, 'close')) as [number | null, string | null]
  assert.equal(code, 0, `${tryIt} ended with ${code ?? signal}: ${runErr}\nnpm start said: ${stderr}`)
  assert.equal(answer, `${DEMO_GREETING}\n`)
  // Ctrl-C, as in a terminal: the whole group gets SIGINT; the topology stops and frees its ports.
  if (child.pid !== undefined) process.kill(-child.pid, 'SIGINT')
  const stopped = await Promise.race([
    closed.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000).unref()),
  ])
  if (!stopped) {
    let group = ''
    try {
      group = execFileSync('ps', ['-o', 'pid,stat,etime,cmd', '-g', String(child.pid)]).toString()
    } catch {
      group = '(no process left in the group)'
    }
    assert.fail(
      `npm start did not stop within 30 s of Ctrl-C (exitCode ${child.exitCode}, signal ${child.signalCode}); processes:\n${group}\nit said: ${stderr}`,
    )
  }
  const refused = await new Promise<string>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: 4002 })
    socket.once('connect', () => {
      socket.destroy()
      resolve('connected')
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
  })
  assert.equal(refused, 'ECONNREFUSED', `the inlet still listens after Ctrl-C: ${stderr}`)
})
