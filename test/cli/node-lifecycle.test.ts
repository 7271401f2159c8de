/**
 * Background nodes end to end, each test in its own OCKAM_RUNTIME_HOME: create, list, show,
 * stop, start, delete, default, logs; the errors a user meets (already exists, not running,
 * port in use, stale pid); SIGKILL and restart with resources.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { processAlive } from '../../runtime/daemon/process-alive.js'
import { NODE_HOST_FLAGS } from '../../runtime/host-flags.js'
import { runCli, tempHome } from '../helpers/cli.js'
import { echoRoute, json, type NodeJson, oneLineError } from '../helpers/node-cli.js'

test('create, list, show, stop, start, delete: a node keeps its port across stop/start', async (t) => {
  const { home, env } = tempHome(t)
  const created = await runCli(['node', 'create', 'n1'], env)
  assert.equal(created.code, 0, created.stderr)
  assert.match(created.stdout, /^node n1 is running \(pid \d+\), listening on 127\.0\.0\.1:\d+\n$/)
  assert.equal(created.stderr, '', 'no progress when stdout is not a terminal')

  const [n1] = await json<NodeJson[]>(['node', 'list'], env)
  assert.ok(n1 !== undefined)
  assert.equal(n1.status, 'up')
  assert.equal(n1.default, true, 'the first node becomes the default')
  const listener = n1.listeners[0] as string
  const echo = await runCli(['message', 'send', 'hi', '--to', echoRoute(listener)], env)
  assert.equal(echo.stdout, 'hi\n')

  const again = await runCli(['node', 'create', 'n1'], env)
  oneLineError(again, 'OCKAM_ERR_NODE_ALREADY_EXISTS')
  assert.match(again.stderr, /node start n1/)

  const shown = await runCli(['node', 'show'], env)
  assert.match(shown.stdout, /^node n1 \(default\): up \(pid \d+\)/)
  assert.match(shown.stdout, new RegExp(`tcp-listener ${listener}: ${listener} \\(connections=\\d+`))

  // Owner-only files: socket 0600, database 0600, log 0600, folders 0700.
  assert.equal(statSync(join(home, 'run', 'n1.sock')).mode & 0o777, 0o600)
  assert.equal(statSync(join(home, 'state.sqlite3')).mode & 0o777, 0o600)
  assert.equal(statSync(join(home, 'nodes', 'n1', 'node.log')).mode & 0o777, 0o600)
  for (const dir of [home, join(home, 'run'), join(home, 'nodes', 'n1')])
    assert.equal(statSync(dir).mode & 0o777, 0o700)

  const stopped = await runCli(['node', 'stop', 'n1'], env)
  assert.equal(stopped.code, 0, stopped.stderr)
  assert.equal(stopped.stdout, 'node n1 stopped\n')
  // (A zombie counts as gone: here pid 1 may not reap the reparented node at once.)
  assert.equal(processAlive(n1.pid as number), false, 'the process is gone')
  // The port is released: we can bind it ourselves, then give it back.
  const probe = createServer().listen(Number(listener.split(':')[1]), '127.0.0.1')
  await once(probe, 'listening')
  await new Promise((resolve) => probe.close(resolve))

  const [down] = await json<NodeJson[]>(['node', 'list'], env)
  assert.equal(down?.status, 'down')
  oneLineError(await runCli(['node', 'stop', 'n1'], env), 'OCKAM_ERR_NODE_NOT_RUNNING')
  oneLineError(await runCli(['tcp-listener', 'list', '--at', 'n1'], env), 'OCKAM_ERR_NODE_NOT_RUNNING')

  const restarted = await json<{ listeners: string[]; pid: number }>(['node', 'start', 'n1'], env)
  assert.deepEqual(restarted.listeners, [listener], 'same port after a restart')
  // The daemon runs with the host flags (runtime/host-flags.ts): its command line says so.
  const cmdline = readFileSync(`/proc/${restarted.pid}/cmdline`, 'utf8').split('\0')
  for (const flag of NODE_HOST_FLAGS)
    assert.ok(cmdline.includes(flag), `daemon command line ${cmdline.join(' ')} has ${flag}`)
  oneLineError(await runCli(['node', 'start', 'n1'], env), 'OCKAM_ERR_NODE_ALREADY_RUNNING')

  const logs = await runCli(['node', 'logs', 'n1', '--lines', '3'], env)
  assert.equal(logs.code, 0)
  assert.equal(logs.stdout.trim().split('\n').length, 3)
  assert.match(logs.stdout, /node n1 is ready|restored/)

  const n2 = await json<{ node: string; default: boolean }>(['node', 'create', 'n2'], env)
  assert.equal(n2.default, false)
  assert.deepEqual(await json(['node', 'default', 'n2'], env), { default: 'n2' })
  const deleted = await runCli(['node', 'delete', 'n2'], env)
  assert.equal(deleted.stdout, 'node n2 deleted\n')
  assert.deepEqual(await json(['node', 'default'], env), { default: 'n1' }, 'the default moves to the oldest node')
  oneLineError(await runCli(['node', 'show', 'n2'], env), 'OCKAM_ERR_NODE_NOT_FOUND')

  const all = await json<{ deleted: unknown[] }>(['node', 'delete', '--all'], env)
  assert.equal(all.deleted.length, 1)
  assert.deepEqual(await json(['node', 'list'], env), [])
  assert.equal(processAlive(restarted.pid), false)
})

test('a node killed with SIGKILL restarts with its resources on the same ports; its stale pid file is handled', async (t) => {
  const { env } = tempHome(t)
  const created = await json<{ pid: number; listeners: string[] }>(['node', 'create', 'k1'], env)
  const extra = await json<{ summary: { address: string } }>(
    ['tcp-listener', 'create', '127.0.0.1:0', '--at', 'k1', '--name', 'extra'],
    env,
  )
  const before = [created.listeners[0] as string, extra.summary.address].sort()

  process.kill(created.pid, 'SIGKILL')
  // Deterministic wait: the kernel reports the process gone (no sleep-based synchronization).
  const deadline = Date.now() + 5_000
  while (processAlive(created.pid) && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve))

  const [down] = await json<NodeJson[]>(['node', 'list'], env)
  assert.equal(down?.status, 'down')
  assert.equal(down?.stalePid, created.pid, 'the pid file left by the killed node is reported and removed')

  const started = performance.now()
  const restarted = await json<{ listeners: string[]; resources: Array<{ name: string; state: string }> }>(
    ['node', 'start', 'k1'],
    env,
  )
  t.diagnostic(`node start after SIGKILL: ${(performance.now() - started).toFixed(0)} ms`)
  assert.deepEqual([...restarted.listeners].sort(), before)
  assert.deepEqual(
    restarted.resources.map((r) => r.state),
    ['running', 'running'],
  )
  for (const listener of before) {
    const echo = await runCli(['message', 'send', 'after-kill', '--to', echoRoute(listener)], env)
    assert.equal(echo.stdout, 'after-kill\n', echo.stderr)
  }
  const deleted = await runCli(['tcp-listener', 'delete', 'extra', '--at', 'k1'], env)
  assert.equal(deleted.code, 0, deleted.stderr)
  const left = await json<{ listeners: unknown[] }>(['tcp-listener', 'list', '--at', 'k1'], env)
  assert.equal(left.listeners.length, 1)
})

test('a pid file naming a live process that is not the node: never signalled, reported stale', async (t) => {
  const { home, env } = tempHome(t)
  await json(['node', 'create', 's1'], env)
  await json(['node', 'stop', 's1'], env)
  const bystander = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  t.after(() => bystander.kill('SIGKILL'))
  await once(bystander, 'spawn')
  writeFileSync(
    join(home, 'nodes', 's1', 'node.pid'),
    JSON.stringify({ pid: bystander.pid, startedAt: 0, version: '0.1.0' }),
  )
  const stop = await runCli(['node', 'stop', 's1'], env)
  oneLineError(stop, 'OCKAM_ERR_NODE_NOT_RUNNING')
  assert.match(stop.stderr, new RegExp(`stale pid file that named pid ${bystander.pid}`))
  assert.equal(bystander.exitCode, null)
  assert.equal(bystander.signalCode, null, 'the bystander was not signalled')
  process.kill(bystander.pid as number, 0)

  writeFileSync(join(home, 'nodes', 's1', 'node.pid'), 'not json')
  const started = await runCli(['node', 'start', 's1'], env)
  assert.equal(started.code, 0, started.stderr)
})

test('port in use: one line, exit 1, nothing left half-made', async (t) => {
  const { env } = tempHome(t)
  const blocker = createServer().listen(0, '127.0.0.1')
  await once(blocker, 'listening')
  t.after(() => blocker.close())
  const taken = `127.0.0.1:${(blocker.address() as { port: number }).port}`
  const result = await runCli(['node', 'create', 'p1', '--tcp-listener-address', taken], env)
  oneLineError(result, 'OCKAM_ERR_TCP_LISTEN_FAILED')
  assert.match(result.stderr, /EADDRINUSE/)
  assert.deepEqual(await json(['node', 'list'], env), [], 'the node was not recorded')
  const usage = await runCli(['node', 'create', 'Bad Name'], env)
  oneLineError(usage, 'OCKAM_ERR_INVALID_ARGUMENT')
})
