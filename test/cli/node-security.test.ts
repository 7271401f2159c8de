/**
 * The control API is the owner's only: another local user (uid/gid 65534) gets EACCES on the
 * socket, the database and the logs; a CLI of another version is told to restart the node;
 * malformed or oversized requests get a typed error and leave the node serving.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync } from 'node:fs'
import { createConnection } from 'node:net'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { createControlClient } from '../../runtime/control/client.js'
import { DEFAULT_CONTROL_MAX_REQUEST_BYTES } from '../../runtime/control/constants.js'
import { socketAnswers } from '../../runtime/control/server.js'
import { isOckamError } from '../../runtime/errors.js'
import { runCli, tempHome } from '../helpers/cli.js'

async function createNode(env: NodeJS.ProcessEnv, name: string): Promise<void> {
  const created = await runCli(['node', 'create', name], env)
  assert.equal(created.code, 0, created.stderr)
}

/** Sends raw bytes on a control socket; resolves with everything the node wrote before closing. */
async function raw(path: string, bytes: Buffer | string): Promise<string> {
  const socket = createConnection({ path })
  await once(socket, 'connect')
  let received = ''
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString()
    if (received.includes('\n')) socket.end()
  })
  socket.on('error', () => {})
  socket.write(bytes)
  await once(socket, 'close')
  return received
}

test('another user (uid/gid 65534) gets EACCES on the control socket, the database and the logs', async (t) => {
  if (process.getuid?.() !== 0) {
    assert.fail(
      'this test must run as root (CI does): it runs a client as uid/gid 65534 against a state folder of ours. ' +
        'Run the suite as root; it is never skipped.',
    )
  }
  const { home, env } = tempHome(t)
  await createNode(env, 'guarded')
  // Let the other user walk up to the state folder itself: its own 0700 mode is what must stop it.
  chmodSync(dirname(home), 0o711)
  const targets = {
    socket: join(home, 'run', 'guarded.sock'),
    database: join(home, 'state.sqlite3'),
    log: join(home, 'nodes', 'guarded', 'node.log'),
  }
  const script = `
    const fs = require('node:fs'); const net = require('node:net')
    const [socket, database, log] = process.argv.slice(1)
    const out = {}
    for (const [k, p] of [['database', database], ['log', log]]) {
      try { fs.closeSync(fs.openSync(p, 'r')); out[k] = 'OPENED' } catch (e) { out[k] = e.code }
    }
    const c = net.createConnection({ path: socket })
    c.on('connect', () => { out.socket = 'CONNECTED'; c.destroy(); console.log(JSON.stringify(out)) })
    c.on('error', (e) => { out.socket = e.code; console.log(JSON.stringify(out)) })
  `
  const child = spawn(process.execPath, ['-e', script, targets.socket, targets.database, targets.log], {
    uid: 65534,
    gid: 65534,
    cwd: '/',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString()
  })
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  const [code] = (await once(child, 'close')) as [number]
  assert.equal(code, 0, stderr)
  assert.deepEqual(JSON.parse(stdout), { database: 'EACCES', log: 'EACCES', socket: 'EACCES' })

  // And the owner still reaches it.
  const shown = await runCli(['node', 'show', 'guarded'], env)
  assert.match(shown.stdout, /up \(pid \d+\)/)
})

test('a CLI of another version is told to restart the node; hello and shutdown still answer', async (t) => {
  const { home, env } = tempHome(t)
  await createNode(env, 'v1')
  const socketPath = join(home, 'run', 'v1.sock')
  const older = createControlClient({ socketPath, nodeName: 'v1', version: '0.0.1-older' })
  await assert.rejects(older.call('status'), (error: unknown) => {
    assert.ok(isOckamError(error, 'OCKAM_ERR_CONTROL_VERSION_MISMATCH'), String(error))
    assert.match(error.message, /node v1 runs ockam-runtime \d+\.\d+\.\d+, this command is 0\.0\.1-older/)
    assert.match(error.hint ?? '', /restart the node: ockam-runtime node stop v1 && ockam-runtime node start v1/)
    return true
  })
  await assert.rejects(older.call('resource.create', { kind: 'tcp-listener', spec: { address: '127.0.0.1:0' } }), {
    code: 'OCKAM_ERR_CONTROL_VERSION_MISMATCH',
  })
  const hello = await older.call<{ name: string; pid: number }>('hello')
  assert.equal(hello.name, 'v1')

  // Another wire protocol version is refused with the same hint.
  const reply = JSON.parse(await raw(socketPath, '{"v":2,"id":1,"version":"9","method":"status","params":{}}\n'))
  assert.equal(reply.error.code, 'OCKAM_ERR_CONTROL_VERSION_MISMATCH')
  assert.match(reply.error.hint, /restart the node/)

  // The older CLI can still stop it, so the hint can be followed.
  await older.call('shutdown')
  const deadline = Date.now() + 10_000
  while ((await socketAnswers(socketPath)) && Date.now() < deadline) await new Promise((r) => setImmediate(r))
  const list = await runCli(['--output', 'json', 'node', 'list'], env)
  assert.equal(JSON.parse(list.stdout)[0].status, 'down')
})

test('malformed and oversized control requests get a typed error and the node keeps serving', async (t) => {
  const { home, env } = tempHome(t)
  await createNode(env, 'fuzzed')
  const socketPath = join(home, 'run', 'fuzzed.sock')
  const garbage = JSON.parse(await raw(socketPath, 'not json\n'))
  assert.equal(garbage.ok, false)
  assert.equal(garbage.error.code, 'OCKAM_ERR_CONTROL_BAD_REQUEST')
  const unknown = JSON.parse(await raw(socketPath, '{"v":1,"id":3,"version":"0.1.0","method":"rm.rf","params":{}}\n'))
  assert.equal(unknown.id, 3)
  assert.equal(unknown.error.code, 'OCKAM_ERR_CONTROL_UNKNOWN_METHOD')
  // A line that never ends: cut off at the limit, not buffered.
  const huge = await raw(socketPath, Buffer.alloc(DEFAULT_CONTROL_MAX_REQUEST_BYTES + 10, 0x61))
  assert.equal(JSON.parse(huge).error.code, 'OCKAM_ERR_CONTROL_TOO_LARGE')
  const badSpec = await createControlClient({ socketPath, nodeName: 'fuzzed' })
    .call('resource.create', { kind: 'tcp-listener', spec: { address: 'nowhere' } })
    .catch((error: unknown) => error)
  assert.ok(isOckamError(badSpec, 'OCKAM_ERR_RESOURCE_INVALID'), String(badSpec))
  const shown = await runCli(['node', 'show', 'fuzzed'], env)
  assert.match(shown.stdout, /up \(pid \d+\)/)
})
