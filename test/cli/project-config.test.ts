/**
 * The project from the CLI and from `ockam.config.ts` across state folders: `--credential-ttl`
 * sets what members get; a config on another folder enrolls with a ticket (text from the
 * environment, as DESIGN §8 sketches), brings up an outlet and a relay, and a second `start`
 * does not enroll again (the ticket is spent); an expired ticket and another project's ticket
 * fail with clear errors, the latter before its code is sent.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { type TestContext, test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { decodeTicket, encodeTicket } from '../../runtime/authority/index.js'
import { CLI, runCli, tempHome } from '../helpers/cli.js'
import { freePort, holdPort, ok } from '../helpers/node-cli.js'

const PACKAGE_ROOT = fileURLToPath(new URL('../../..', import.meta.url))

/** Runs `start --config FILE` until its data line; returns the process (stopped in teardown). */
async function startConfig(t: TestContext, file: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'start', '--config', file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = once(child, 'exit')
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const lines: string[] = []
  for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
    lines.push(line)
    if (line.startsWith('topology is up')) break
  }
  child.stdout?.resume()
  assert.ok(lines.at(-1)?.startsWith('topology is up'), `start did not come up:\n${lines.join('\n')}\n${stderr}`)
  return child
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const [code] = (await exited) as [number | null]
  assert.equal(code, 0)
}

test('a config enrolls with a ticket from the environment, runs an outlet and a relay, and does not enroll twice', {
  timeout: 90_000,
}, async (t) => {
  const host = tempHome(t, 'ockam-cfg-host-')
  const bank = tempHome(t, 'ockam-cfg-bank-')
  const port = await freePort()
  await ok(['project', 'create', 'demo', '--listen', `127.0.0.1:${port}`, '--credential-ttl', '2m'], host.env)
  const ticket = (await ok(['project', 'ticket', '--relay', 'postgres'], host.env)).trim()

  // Inside the package, so the config's `import … from 'ockam-runtime'` resolves to this build.
  const dir = mkdtempSync(join(PACKAGE_ROOT, 'dist', 'tmp-cfg-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'ockam.config.ts')
  writeFileSync(
    file,
    `import { defineConfig } from 'ockam-runtime'
export default defineConfig({
  identities: ['bank'],
  nodes: {
    bank: {
      identity: 'bank',
      enroll: { ticket: process.env.BANK_TICKET ?? '' },
      outlets: { outlet: { to: 5432 } },
      relays: ['postgres'],
    },
  },
})\n`,
  )
  const env = { ...bank.env, BANK_TICKET: ticket }
  const first = await startConfig(t, file, env)
  const relays = JSON.parse(await ok(['--output', 'json', 'relay', 'list', '--at', 'bank'], env)) as {
    relays: Array<{ name: string; summary: { status: string } }>
  }
  assert.equal(relays.relays[0]?.name, 'postgres')
  assert.equal(relays.relays[0]?.summary.status, 'up')
  const credentials = JSON.parse(await ok(['--output', 'json', 'credential', 'list'], env)) as Array<{
    created: string
    expires: string
  }>
  assert.equal(credentials.length, 1)
  const lifetime = (Date.parse(credentials[0]?.expires ?? '') - Date.parse(credentials[0]?.created ?? '')) / 1000
  assert.ok(lifetime > 60 && lifetime <= 120, `--credential-ttl 2m gives 2-minute credentials (got ${lifetime} s)`)
  await stop(first)

  // Again: the ticket is spent, so a second enrollment would fail; start must see it is a member.
  const second = await startConfig(t, file, env)
  await stop(second)
  const members = JSON.parse(await ok(['--output', 'json', 'project', 'member', 'list'], host.env)) as unknown[]
  assert.equal(members.length, 2, 'the admin and bank, once')
})

test('an expired ticket and another project’s ticket fail with clear errors', { timeout: 60_000 }, async (t) => {
  const one = tempHome(t, 'ockam-cfg-one-')
  const two = tempHome(t, 'ockam-cfg-two-')
  const member = tempHome(t, 'ockam-cfg-member-')
  const [portOne, portTwo] = [await freePort(), await freePort()]
  await ok(['project', 'create', 'one', '--listen', `127.0.0.1:${portOne}`], one.env)
  await ok(['project', 'create', 'two', '--listen', `127.0.0.1:${portTwo}`], two.env)

  const short = JSON.parse(await ok(['--output', 'json', 'project', 'ticket', '--expires-in', '1s'], one.env)) as {
    ticket: string
  }
  // Waiting for time itself to pass: the ticket lives one second.
  await delay(1_200)
  const expired = await runCli(['enroll', short.ticket], member.env)
  assert.notEqual(expired.code, 0)
  assert.match(expired.stderr, /^error: OCKAM_ERR_AUTHORITY_TICKET_EXPIRED: /m)

  // Project two's ticket pointed at project one's address: one cannot prove to be two's
  // authority, so the channel is refused before the code is sent.
  const other = decodeTicket((await ok(['project', 'ticket'], two.env)).trim())
  const redirected = encodeTicket({ ...other, address: `127.0.0.1:${portOne}` })
  const auditOf = async () => JSON.parse(await ok(['--output', 'json', 'project', 'audit'], one.env)) as unknown[]
  const before = (await auditOf()).length
  const refused = await runCli(['enroll', redirected], member.env)
  assert.notEqual(refused.code, 0)
  assert.match(refused.stderr, /OCKAM_ERR_SECURE_CHANNEL_(PEER_REFUSED|REFUSED_BY_PEER)/)
  assert.equal((await auditOf()).length, before, 'project one recorded nothing: no code reached it')

  // A member of one holding a genuine ticket of two: one project per state folder.
  await ok(['enroll', (await ok(['project', 'ticket'], one.env)).trim()], member.env)
  const second = await runCli(['enroll', (await ok(['project', 'ticket'], two.env)).trim()], member.env)
  assert.notEqual(second.code, 0)
  assert.match(second.stderr, /OCKAM_ERR_PROJECT_ALREADY_ENROLLED/)
})

test('a node already running when its folder enrolls admits the project members without a restart', {
  timeout: 90_000,
}, async (t) => {
  const host = tempHome(t, 'ockam-cfg-live-host-')
  const bank = tempHome(t, 'ockam-cfg-live-bank-')
  const analysis = tempHome(t, 'ockam-cfg-live-analysis-')
  const port = await freePort()
  await ok(['project', 'create', 'demo', '--listen', `127.0.0.1:${port}`], host.env)
  const target = await holdPort()
  t.after(() => target.server.close())
  target.server.on('connection', (socket) => socket.end('from the target'))

  // The bank's node runs before the folder joins the project: its api listener admitted only
  // the folder's own identities when it started.
  await ok(['node', 'create', 'n1'], bank.env)
  const pid = (JSON.parse(await ok(['--output', 'json', 'node', 'show', 'n1'], bank.env)) as { pid: number }).pid
  await ok(['enroll', (await ok(['project', 'ticket', '--relay', 'postgres'], host.env)).trim()], bank.env)
  await ok(['tcp-outlet', 'create', '--to', String(target.port), '--at', 'n1'], bank.env)
  await ok(['relay', 'create', 'postgres', '--at', 'n1'], bank.env)

  await ok(['enroll', (await ok(['project', 'ticket'], host.env)).trim()], analysis.env)
  const inletPort = await freePort()
  const created = JSON.parse(
    await ok(
      ['--output', 'json', 'tcp-inlet', 'create', '--from', String(inletPort), '--to', 'postgres'],
      analysis.env,
    ),
  ) as { summary: { route: string } }
  assert.equal(created.summary.route, 'up', 'the end-to-end channel to n1 was admitted')
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: inletPort })
    let data = ''
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString()
    })
    socket.on('end', () => resolve(data))
    socket.on('error', reject)
  })
  assert.equal(answer, 'from the target')
  const after = (JSON.parse(await ok(['--output', 'json', 'node', 'show', 'n1'], bank.env)) as { pid: number }).pid
  assert.equal(after, pid, 'the same process: no restart')
})
