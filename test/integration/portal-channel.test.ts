/**
 * The portal inside a secure channel (the shape the lead wires up): the outlet's policy sees
 * the channel's authenticated identity and attributes, the inlet checks the outlet side's,
 * data crosses intact both ways, and a channel that closes resets the portals that ran in it.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import { local, tcp } from '../../runtime/address.js'
import type { Message } from '../../runtime/message.js'
import { startTcpInlet } from '../../workers/portal/inlet.js'
import { startTcpOutlet } from '../../workers/portal/outlet.js'
import { createSecureChannel } from '../../workers/secure-channel/initiator.js'
import { startSecureChannelListener } from '../../workers/secure-channel/listener.js'
import { METRICS as SECURE_CHANNEL_METRICS } from '../../workers/secure-channel/metrics.js'
import { trustMembers } from '../../workers/secure-channel/trust-policy.js'
import { startTestNode } from '../helpers/testnet.js'
import { makeAuthority, makeMaterial, openVault } from '../unit/secure-channel/fixtures.js'
import { startChannelPair } from './channel-pair.js'
import {
  connectTo,
  echoHandler,
  eventually,
  exchange,
  randomData,
  sha256,
  startTarget,
  type Transfer,
} from './portal-helpers.js'

const MiB = 1024 * 1024

function channelPeer(
  message: Message,
): { identifier: string; attributes: Readonly<Record<string, string>> } | undefined {
  const ingress = message.local.ingress
  return ingress.kind === 'channel'
    ? { identifier: ingress.identifier, attributes: { ...ingress.attributes } }
    : undefined
}

test('through a secure channel: policies see the authenticated peer, bytes arrive intact, a closed channel resets', {
  timeout: 30_000,
}, async (t) => {
  const a = await startTestNode(t, 'inlet-node', { listen: [] })
  const b = await startTestNode(t, 'outlet-node')
  const vaultA = await openVault(t)
  const vaultB = await openVault(t)
  const authority = await makeAuthority(vaultB)
  const alice = await makeMaterial(vaultA, { trustedAuthorities: [authority.identity] })
  const bob = await makeMaterial(vaultB, { trustedAuthorities: [authority.identity] })
  alice.setCredentials([await authority.issue(alice.identity, { role: 'analyst' })])
  bob.setCredentials([await authority.issue(bob.identity, { relay: 'postgres' })])
  await startSecureChannelListener(b.node, { identity: bob, trust: trustMembers('role.analyst') })
  const channel = await createSecureChannel(a.node, [tcp(b.address), local('api')], {
    identity: alice,
    trust: trustMembers('relay.postgres'),
    timeoutMs: 5000,
  })

  const download = randomData(16 * MiB)
  let targetSide: Promise<Transfer> | undefined
  const target = await startTarget(t, (socket) => {
    targetSide = exchange(socket, download)
  })
  const opens: Array<ReturnType<typeof channelPeer>> = []
  await startTcpOutlet(b.node, {
    target: target.address,
    allow: (message) => {
      const peer = channelPeer(message)
      opens.push(peer)
      return peer?.attributes.role === 'analyst'
    },
    logWindowMs: 0,
  })
  await startTcpOutlet(b.node, {
    target: target.address,
    address: 'admins-only',
    allow: (message) => channelPeer(message)?.attributes.role === 'admin',
    logWindowMs: 0,
  })
  const inlet = await startTcpInlet(a.node, {
    listen: '127.0.0.1:0',
    to: () => [channel.address, local('outlet')],
    allow: (opened) => channelPeer(opened)?.identifier === bob.identity.identifier,
    sweepIntervalMs: 50,
    logWindowMs: 0,
  })

  const upload = Buffer.from(download).reverse()
  const started = performance.now()
  const result = await exchange(await connectTo(inlet.address), upload)
  const seconds = (performance.now() - started) / 1000
  t.diagnostic(`32 MiB through the portal in a channel (both nodes in one process) in ${seconds.toFixed(2)} s`)
  assert.equal(result.ending, 'end')
  assert.equal(result.receivedHash, sha256(download))
  assert.equal((await (targetSide as Promise<Transfer>)).receivedHash, sha256(upload))
  assert.deepEqual(opens, [{ identifier: alice.identity.identifier, attributes: { role: 'analyst' } }])

  // The same channel to an outlet whose policy wants another attribute: refused.
  const denied = await startTcpInlet(a.node, {
    listen: '127.0.0.1:0',
    to: [channel.address, local('admins-only')],
    logWindowMs: 0,
  })
  const refused = await exchange(await connectTo(denied.address), Buffer.from('x'), { end: false })
  assert.equal(refused.ending, 'reset')
  assert.equal(b.logs.withCode('OCKAM_ERR_PORTAL_DENIED').length, 1)

  // A portal open when the channel closes: the client is reset, the inlet says the route is gone.
  const held = exchange(await connectTo(inlet.address), Buffer.from('waiting'), { end: false })
  await eventually(() => inlet.stats().portalsOpen === 1, 'a portal open in the channel')
  await channel.close()
  assert.equal((await held).ending, 'reset')
  assert.ok(a.logs.withCode('OCKAM_ERR_PORTAL_PATH_LOST').length >= 1)
  assert.equal(inlet.stats().resetsByReason['path-lost'], 1)
})

test('many small request/response exchanges at once share frames (batches) and every byte comes back in order', {
  timeout: 30_000,
}, async (t) => {
  const { a, b, channel } = await startChannelPair(t)
  const target = await startTarget(t, echoHandler)
  await startTcpOutlet(b.node, { target: target.address, allow: () => true })
  const inlet = await startTcpInlet(a.node, { listen: '127.0.0.1:0', to: [channel.address, local('outlet')] })

  // pgbench's shape: each client sends a small query and waits for its answer, all at once.
  const CLIENTS = 16
  const ROUNDS = 40
  const sockets = await Promise.all(Array.from({ length: CLIENTS }, () => connectTo(inlet.address)))
  const started = performance.now()
  await Promise.all(
    sockets.map(async (socket, client) => {
      for (let round = 0; round < ROUNDS; round++) {
        const query = Buffer.from(`client ${client} round ${round} `.padEnd(96, '.'))
        socket.write(query)
        let answer = Buffer.alloc(0)
        while (answer.length < query.length) answer = Buffer.concat([answer, (await once(socket, 'data'))[0] as Buffer])
        assert.deepEqual(answer, query)
      }
      // Half-closed: the echo target ends too, and that FIN comes back through the portal.
      const ended = once(socket, 'end')
      socket.end()
      await ended
      socket.destroy()
    }),
  )
  const batches = [a, b].map((n) => n.node.counters.get(SECURE_CHANNEL_METRICS.batchesSent))
  t.diagnostic(
    `${CLIENTS * ROUNDS} exchanges in ${(performance.now() - started).toFixed(0)} ms; batches sent: inlet ${batches[0]}, outlet ${batches[1]}`,
  )
  assert.ok((batches[0] ?? 0) > 0 && (batches[1] ?? 0) > 0, 'both directions batched')
})
