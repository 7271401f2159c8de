/**
 * Admission without a project (DESIGN §12), in temporary OCKAM_RUNTIME_HOMEs: a node's api listener
 * admits only its own state folder unless --authorized names a stranger; a client can pin its peer.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCli, tempHome } from '../helpers/cli.js'
import { identifierOf, json, oneLineError, secureEcho } from '../helpers/node-cli.js'

interface Created {
  node: string
  listeners: string[]
}
interface Sent {
  reply: string
  peers: string[]
  identity: string
}

test('a node admits only its own state folder unless --authorized names the stranger; the client can pin its peer', async (t) => {
  const mine = tempHome(t, 'ockam-mine-')
  const other = tempHome(t, 'ockam-other-')
  await json(['identity', 'create'], other.env)
  const stranger = await identifierOf(other.env)
  const closed = await json<Created>(['node', 'create', 'closed'], mine.env)
  oneLineError(
    await runCli(['message', 'send', 'x', '--to', secureEcho(closed.listeners[0])], other.env),
    'OCKAM_ERR_SECURE_CHANNEL_REFUSED_BY_PEER',
  )
  const open = await json<Created>(['node', 'create', 'open', '--authorized', stranger], mine.env)
  const sent = await json<Sent>(['message', 'send', 'x', '--to', secureEcho(open.listeners[0])], other.env)
  assert.equal(sent.reply, 'x')
  assert.deepEqual(sent.peers, [await identifierOf(mine.env)])
  // The client pinning someone else refuses the node.
  oneLineError(
    await runCli(['message', 'send', 'x', '--authorized', stranger, '--to', secureEcho(open.listeners[0])], other.env),
    'OCKAM_ERR_SECURE_CHANNEL_PEER_REFUSED',
  )
})
