/**
 * Nodes and their state folder, each test in its own OCKAM_RUNTIME_HOME: two folders never see
 * each other's nodes; the default node starts on demand; status; a newer database is refused;
 * a long state path gets a short socket; the systemd unit.
 */
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { runCli, tempHome } from '../helpers/cli.js'
import { echoRoute, json, type NodeJson, oneLineError } from '../helpers/node-cli.js'

test('two state folders on one machine never see each other’s nodes', async (t) => {
  const a = tempHome(t, 'ockam-a-')
  const b = tempHome(t, 'ockam-b-')
  const inA = await json<{ pid: number }>(['node', 'create', 'same'], a.env)
  const inB = await json<{ pid: number }>(['node', 'create', 'same'], b.env)
  assert.notEqual(inA.pid, inB.pid)
  await json(['node', 'create', 'only-a'], a.env)
  assert.deepEqual(
    (await json<NodeJson[]>(['node', 'list'], b.env)).map((n) => n.name),
    ['same'],
  )
  await json(['node', 'stop', 'same'], a.env)
  const [stillB] = await json<NodeJson[]>(['node', 'list'], b.env)
  assert.equal(stillB?.status, 'up')
  assert.equal(stillB?.pid, inB.pid)
  oneLineError(await runCli(['node', 'show', 'only-a'], b.env), 'OCKAM_ERR_NODE_NOT_FOUND')
})

test('commands that need a node start the default one; status shows nodes, resources and counters', async (t) => {
  const { env } = tempHome(t)
  const created = await json<{ node: string; summary: { address: string } }>(['tcp-listener', 'create'], env)
  assert.equal(created.node, 'default')
  const echo = await runCli(['message', 'send', 'x', '--to', echoRoute(created.summary.address)], env)
  assert.equal(echo.stdout, 'x\n')
  const status = await json<{
    nodes: Array<{ name: string; status: string; resources: Array<{ kind: string; counters: Record<string, number> }> }>
  }>(['status'], env)
  assert.equal(status.nodes.length, 1)
  assert.equal(status.nodes[0]?.status, 'up')
  assert.equal(status.nodes[0]?.resources.length, 2)
  for (const r of status.nodes[0]?.resources ?? []) {
    assert.equal(r.kind, 'tcp-listener')
    assert.deepEqual(Object.keys(r.counters).sort(), ['bytesIn', 'bytesOut', 'connections'])
  }
  const human = await runCli(['status'], env)
  assert.match(human.stdout, /^NODE\s+STATUS\s+PID\s+LISTENERS/m)
  assert.match(human.stdout, /default \*\s+up\s+\d+/)
  assert.match(human.stdout, /default\s+tcp-listener\s+127\.0\.0\.1:\d+\s+running\s+connections=/)
})

test('an older binary refuses a newer database in one line', async (t) => {
  const { home, env } = tempHome(t)
  assert.deepEqual(await json(['node', 'list'], env), [])
  const db = new Database(join(home, 'state.sqlite3'))
  db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (999, ?, 0)').run('from the future')
  db.close()
  const result = await runCli(['node', 'list'], env)
  oneLineError(result, 'OCKAM_ERR_STATE_SCHEMA_TOO_NEW')
  assert.match(result.stderr, /upgrade ockam-runtime/)
})

test('a state path too long for a socket uses a short private fallback folder', async (t) => {
  const { home } = tempHome(t)
  const deep = join(home, 'x'.repeat(60), 'y'.repeat(60))
  mkdirSync(deep, { recursive: true, mode: 0o700 })
  const deepEnv = { OCKAM_RUNTIME_HOME: deep }
  // Stopped here, not in t.after: tempHome's teardown (registered first, run first) removes the
  // folder, after which nothing could find this node to stop it (it outlived every run).
  try {
    const created = await json<{ listeners: string[] }>(['node', 'create', 'deep'], deepEnv)
    const shown = await json<{ socket: string; status: string }>(['node', 'show', 'deep'], deepEnv)
    assert.equal(shown.status, 'up')
    assert.ok(Buffer.byteLength(shown.socket) < 100, shown.socket)
    assert.match(shown.socket, /^\/tmp\/ockam-runtime-\d+\/[0-9a-f]{24}\.sock$/)
    const folder = statSync(shown.socket.slice(0, shown.socket.lastIndexOf('/')))
    assert.equal(folder.mode & 0o777, 0o700)
    assert.equal(statSync(shown.socket).mode & 0o777, 0o600)
    const echo = await runCli(['message', 'send', 'deep', '--to', echoRoute(created.listeners[0] as string)], deepEnv)
    assert.equal(echo.stdout, 'deep\n')
  } finally {
    await runCli(['node', 'delete', '--all'], deepEnv)
  }
})

test('node service install writes a systemd user unit that runs the node in the foreground', async (t) => {
  const { home, env } = tempHome(t)
  await json(['node', 'create', 'svc'], env)
  const xdg = join(home, '..', 'xdg config')
  const result = await json<{ unit: string; enable: string }>(['node', 'service', 'install', 'svc'], {
    ...env,
    XDG_CONFIG_HOME: xdg,
  })
  assert.equal(result.unit, join(xdg, 'systemd', 'user', 'ockam-runtime-node-svc.service'))
  const unit = readFileSync(result.unit, 'utf8')
  assert.match(unit, /^\[Unit\]$/m)
  assert.match(
    unit,
    /^ExecStart="[^"]+node[^"]*" "--initial-old-space-size=64" "[^"]+\/runtime\/cli\/main\.js" "node" "start" "svc" "--foreground"$/m,
  )
  assert.match(
    unit,
    new RegExp(`^Environment="OCKAM_RUNTIME_HOME=${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"$`, 'm'),
  )
  assert.match(unit, /^Restart=on-failure$/m)
  assert.match(unit, /^UMask=0077$/m)
  assert.match(unit, /^WantedBy=default\.target$/m)
  assert.match(result.enable, /systemctl --user enable --now ockam-runtime-node-svc\.service/)
})

test('a state folder open to others, or a symlink, is refused in one line before anything runs', async (t) => {
  const { home, env } = tempHome(t)
  mkdirSync(home, { mode: 0o700 })
  chmodSync(home, 0o755)
  const open = await runCli(['node', 'create', 'n1'], env)
  oneLineError(open, 'OCKAM_ERR_STATE_DIR_PERMISSIONS')
  assert.match(open.stderr, /chmod 700/)
  chmodSync(home, 0o700)
  const link = join(home, '..', 'link')
  symlinkSync(home, link)
  oneLineError(await runCli(['node', 'list'], { OCKAM_RUNTIME_HOME: link }), 'OCKAM_ERR_STATE_DIR_SYMLINK')
  assert.deepEqual(await json(['node', 'list'], env), [], 'nothing was created by the refused commands')
})
