/**
 * `message send` through secure channels to background nodes, each test in its own
 * OCKAM_RUNTIME_HOME: the node's `api` listener admits the identities of its own state folder
 * (and those named with --authorized), the client may pin the node's identifier, and
 * `/secure/…/secure/…` nests one channel in another.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCli, spawnNode, tempHome } from '../helpers/cli.js'
import { identifierOf, json, secureEcho } from '../helpers/node-cli.js'

interface Created {
  node: string
  listeners: string[]
}
interface Sent {
  reply: string
  peers: string[]
  identity: string
}

test('message send opens a channel to the api listener with the default identity and prints the reply', async (t) => {
  const { env } = tempHome(t)
  const created = await json<Created>(['node', 'create', 'n1'], env)
  const plain = await runCli(['message', 'send', 'hello', '--to', secureEcho(created.listeners[0])], env)
  assert.equal(plain.code, 0, plain.stderr)
  assert.equal(plain.stdout, 'hello\n')
  assert.equal(plain.stderr, '')
  const me = await identifierOf(env)
  const sent = await json<Sent>(['message', 'send', 'again', '--to', secureEcho(created.listeners[0])], env)
  // One state folder: the node presents the folder's default identity, the one the client used.
  assert.deepEqual(sent, { reply: 'again', peers: [me], identity: 'default' })
  const pinned = await json<Sent>(
    ['message', 'send', 'pinned', '--authorized', me, '--to', secureEcho(created.listeners[0])],
    env,
  )
  assert.equal(pinned.reply, 'pinned')
  const nested = await json<Sent>(
    ['message', 'send', 'nested', '--to', secureEcho(created.listeners[0], '/secure/api/secure/api')],
    env,
  )
  assert.deepEqual(nested.peers, [me, me])
  assert.equal(nested.reply, 'nested')
})

test('a foreground node runs the api listener too, with the identity it is given', async (t) => {
  const { env } = tempHome(t)
  await json(['identity', 'create', 'first'], env)
  const second = await json<{ identifier: string }>(['identity', 'create', 'second'], env)
  const node = await spawnNode(t, 'fg', ['--identity', 'second'], env)
  const sent = await json<Sent>(['message', 'send', 'fg', '--to', secureEcho(node.listeners[0])], env)
  assert.equal(sent.reply, 'fg')
  // The client used the default identity (first); the node presented second.
  assert.deepEqual(sent.peers, [second.identifier])
})
