/**
 * Issue 5 Must show, in a temporary OCKAM_RUNTIME_HOME: after SIGKILL and `node start`, a
 * restored secure channel carries a message end to end through its stable address.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { processAlive } from '../../runtime/daemon/process-alive.js'
import { runCli, tempHome } from '../helpers/cli.js'
import { json, oneLineError, tcpRoute } from '../helpers/node-cli.js'

interface Created {
  pid: number
  listeners: string[]
}
interface Resource {
  name: string
  state: string
  spec: Record<string, unknown>
  summary: Record<string, unknown>
  counters: Record<string, number>
}

async function killAndWait(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL')
  // The kernel reports the process gone: no sleep-based synchronization.
  const deadline = Date.now() + 5_000
  while (processAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve))
}

test('after SIGKILL and node start, a restored secure channel carries a message end to end', async (t) => {
  const { env } = tempHome(t)
  const n1 = await json<Created>(['node', 'create', 'n1'], env)
  const n2 = await json<Created>(['node', 'create', 'n2'], env)
  const to = `${tcpRoute(n1.listeners[0])}/secure/api`
  const created = await json<Resource>(['secure-channel', 'create', '--to', to, '--at', 'n2', '--name', 'to-n1'], env)
  assert.equal(created.name, 'to-n1')
  assert.equal(created.summary.state, 'open')
  const me = (await json<{ identifier: string }>(['identity', 'show'], env)).identifier
  assert.equal(created.summary.peer, me)
  const send = (text: string) =>
    json<{ reply: string }>(['message', 'send', text, '--from', 'n2', '--to', '/service/to-n1/service/echo'], env)
  assert.equal((await send('before')).reply, 'before')

  await killAndWait(n2.pid)
  const restarted = await json<{ resources: Resource[] }>(['node', 'start', 'n2'], env)
  const restored = restarted.resources.find((r) => r.name === 'to-n1')
  assert.equal(restored?.state, 'running')
  assert.equal((await send('after SIGKILL')).reply, 'after SIGKILL')
  const shown = await json<Resource>(['secure-channel', 'show', 'to-n1', '--at', 'n2'], env)
  assert.equal(shown.counters.forwarded, 1)
  assert.equal(shown.counters.channels, 1)

  // status shows the open channels of each node: n2's initiator, n1's responder.
  const status = await json<{
    nodes: Array<{ name: string; secureChannels?: Array<{ role: string; state: string }> }>
  }>(['status'], env)
  const channelsOf = (name: string) => status.nodes.find((n) => n.name === name)?.secureChannels ?? []
  assert.ok(channelsOf('n2').some((c) => c.role === 'initiator' && c.state === 'open'))
  assert.ok(channelsOf('n1').some((c) => c.role === 'responder' && c.state === 'open'))

  await json(['secure-channel', 'delete', 'to-n1', '--at', 'n2'], env)
  assert.deepEqual((await json<{ channels: Resource[] }>(['secure-channel', 'list', '--at', 'n2'], env)).channels, [])
  oneLineError(
    await runCli(
      ['message', 'send', 'x', '--from', 'n2', '--to', '/service/to-n1/service/echo', '--timeout', '2000'],
      env,
    ),
    'OCKAM_ERR_ROUTER_NO_WORKER',
  )
})
