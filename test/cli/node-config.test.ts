/**
 * `start` with ockam.config.ts against the state folder's registry: every mistake reported
 * with its path; idempotent runs that keep ports and remove what the config no longer declares;
 * a node of the same name running in the background is refused.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { type TestContext, test } from 'node:test'
import { CLI, runCli, tempHome } from '../helpers/cli.js'

interface Started {
  child: ChildProcess
  output: { nodes: Array<{ name: string; listeners: string[] }> }
}

/** Runs `start --output json` until its data line; stopped with SIGTERM by the caller or at teardown. */
async function startConfig(t: TestContext, file: string, env: NodeJS.ProcessEnv): Promise<Started> {
  const child = spawn(process.execPath, [CLI, '--output', 'json', 'start', '--config', file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const [line] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'close').then(() => {
      throw new Error(`start exited early: ${stderr}`)
    }),
  ])) as [string]
  return { child, output: JSON.parse(line) }
}

async function stop(child: ChildProcess): Promise<number | string | null> {
  child.kill('SIGTERM')
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null]
  return code ?? signal
}

test('a config with several mistakes prints every one with its path', async (t) => {
  const { home, env } = tempHome(t)
  const file = join(dirname(home), 'bad.config.ts')
  writeFileSync(
    file,
    `export default {
      logging: { level: 'loud' },
      nodes: {
        a: { listen: '127.0.0.1:70000', tcpListeners: { 'bad name': '127.0.0.1:0', ok: 'host-without-port' } },
        b: { forwardTo: 'not-a-list' },
      },
      unknownField: {},
    }\n`,
  )
  const result = await runCli(['start', '--check', '--config', file], env)
  assert.equal(result.code, 1)
  assert.match(result.stderr, /OCKAM_ERR_CONFIG_INVALID: .* has 6 mistakes/)
  for (const path of [
    'logging.level',
    'nodes.a.listen',
    'nodes.a.tcpListeners.bad name',
    'nodes.a.tcpListeners.ok',
    'nodes.b.forwardTo',
    '(root)',
  ]) {
    assert.ok(result.stderr.includes(`  ${path}: `), `missing ${path} in:\n${result.stderr}`)
  }
})

test('start is idempotent: ports kept, undeclared resources and nodes removed; a background node is refused', async (t) => {
  const { home, env } = tempHome(t)
  const file = join(dirname(home), 'ockam.config.ts')
  writeFileSync(
    file,
    `export default {
      logging: { level: 'warn' },
      nodes: { one: { listen: '127.0.0.1:0', tcpListeners: { extra: '127.0.0.1:0' } }, two: { listen: '127.0.0.1:0' } },
    }\n`,
  )
  const first = await startConfig(t, file, env)
  const one = first.output.nodes.find((n) => n.name === 'one')
  assert.equal(one?.listeners.length, 2)
  // The nodes of a running config are visible to the other commands, through their sockets.
  const status = JSON.parse((await runCli(['--output', 'json', 'status'], env)).stdout)
  assert.deepEqual(
    status.nodes.map((n: { name: string; status: string }) => `${n.name}:${n.status}`),
    ['one:up', 'two:up'],
  )
  assert.equal(await stop(first.child), 0)

  // Second run: the same ports (port 0 was resolved once and recorded).
  const second = await startConfig(t, file, env)
  assert.deepEqual(second.output.nodes, first.output.nodes)
  assert.equal(await stop(second.child), 0)

  writeFileSync(file, `export default { logging: { level: 'warn' }, nodes: { one: { listen: '127.0.0.1:0' } } }\n`)
  const plan = await runCli(['start', '--check', '--config', file], env)
  assert.equal(plan.code, 0, plan.stderr)
  assert.match(plan.stdout, /^ {2}keep tcp-listener listen 127\.0\.0\.1:\d+$/m)
  assert.match(plan.stdout, /^ {2}remove tcp-listener extra 127\.0\.0\.1:\d+$/m)
  assert.match(plan.stdout, /^node two \(remove: no longer declared\)$/m)

  const third = await startConfig(t, file, env)
  assert.deepEqual(third.output.nodes, [{ name: 'one', listeners: [one?.listeners[0]] }])
  assert.equal(await stop(third.child), 0)
  const nodes = JSON.parse((await runCli(['--output', 'json', 'node', 'list'], env)).stdout)
  assert.deepEqual(
    nodes.map((n: { name: string }) => n.name),
    ['one'],
  )

  // The config's node now runs in the background: start refuses and changes nothing.
  const background = await runCli(['node', 'start', 'one'], env)
  assert.equal(background.code, 0, background.stderr)
  const refused = await runCli(['start', '--config', file], env)
  assert.equal(refused.code, 1)
  assert.match(
    refused.stderr,
    /^error: OCKAM_ERR_NODE_ALREADY_RUNNING: node one already runs in the background\. stop it first \(ockam-runtime node stop one\)/,
  )
  assert.equal(refused.stdout, '')
})
