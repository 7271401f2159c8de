/**
 * Long-lived secure channels and extra listeners as resources of background nodes, in a
 * temporary OCKAM_RUNTIME_HOME: a refused peer records nothing, a malformed route is refused,
 * an extra listener with its own admission list survives a restart and is deleted.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
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

test('a secure channel to a peer it does not authorize is refused and nothing is recorded; listeners are resources too', async (t) => {
  const { env } = tempHome(t)
  const n1 = await json<Created>(['node', 'create', 'n1'], env)
  const other = `I${'0'.repeat(64)}`
  const to = `${tcpRoute(n1.listeners[0])}/secure/api`
  oneLineError(
    await runCli(['secure-channel', 'create', '--to', to, '--at', 'n1', '--authorized', other], env),
    'OCKAM_ERR_SECURE_CHANNEL_PEER_REFUSED',
  )
  assert.deepEqual((await json<{ channels: Resource[] }>(['secure-channel', 'list', '--at', 'n1'], env)).channels, [])
  oneLineError(
    await runCli(['secure-channel', 'create', '--to', tcpRoute(n1.listeners[0]), '--at', 'n1'], env),
    'OCKAM_ERR_RESOURCE_INVALID',
  )

  // An extra listener that admits only `other`: this folder's own identity is refused there, admitted at api.
  const listener = await json<Resource>(
    ['secure-channel-listener', 'create', 'strict', '--authorized', other, '--at', 'n1'],
    env,
  )
  assert.deepEqual(listener.summary.admits, [other])
  oneLineError(
    await runCli(['message', 'send', 'x', '--to', `${tcpRoute(n1.listeners[0])}/secure/strict/service/echo`], env),
    'OCKAM_ERR_SECURE_CHANNEL_REFUSED_BY_PEER',
  )
  await json(['node', 'stop', 'n1'], env)
  const restarted = await json<{ resources: Resource[] }>(['node', 'start', 'n1'], env)
  assert.equal(restarted.resources.find((r) => r.name === 'strict')?.state, 'running')
  await json(['secure-channel-listener', 'delete', 'strict', '--at', 'n1'], env)
  assert.deepEqual(
    (await json<{ listeners: Resource[] }>(['secure-channel-listener', 'list', '--at', 'n1'], env)).listeners,
    [],
  )
})
