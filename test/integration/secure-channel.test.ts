/**
 * Secure channels between real nodes over loopback TCP: a round trip with identities and
 * attributes on both sides, the pool and the vault thread really used, close in both
 * directions, nesting, fragmentation, and the trust decisions (wrong identity, unattested key,
 * forged and expired credentials, refreshes).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { allowAll } from '../../runtime/access-control.js'
import { local, tcp } from '../../runtime/address.js'
import type { Message } from '../../runtime/message.js'
import { listSecureChannels } from '../../workers/secure-channel/index.js'
import { createSecureChannel } from '../../workers/secure-channel/initiator.js'
import { startSecureChannelListener } from '../../workers/secure-channel/listener.js'
import { METRICS } from '../../workers/secure-channel/metrics.js'
import { trustAnyone, trustIdentifiers, trustMembers } from '../../workers/secure-channel/trust-policy.js'
import type { SecureChannel } from '../../workers/secure-channel/types.js'
import { startTestNode } from '../helpers/testnet.js'
import { makeAuthority, makeMaterial, openVault, rejectsWith, waitForCounter } from '../unit/secure-channel/fixtures.js'

/** A worker on `node` that keeps what it receives (any ingress) and replies to nothing. */
async function sink(node: import('../../runtime/node.js').OckamNode, name: string): Promise<Message[]> {
  const received: Message[] = []
  await node.startWorker(
    local(name),
    { handleMessage: (_ctx, message) => void received.push(message) },
    { incoming: allowAll },
  )
  return received
}

test('a round trip through a channel over TCP: both sides know each other, the pool and the vault thread did the work', async (t) => {
  const a = await startTestNode(t, 'a', { listen: [], pool: { threads: 1 } })
  const b = await startTestNode(t, 'b', { pool: { threads: 1 } })
  const vaultA = await openVault(t, 'thread')
  const vaultB = await openVault(t, 'thread')
  const authority = await makeAuthority(vaultB)
  const alice = await makeMaterial(vaultA, { trustedAuthorities: [authority.identity] })
  const bob = await makeMaterial(vaultB, { trustedAuthorities: [authority.identity] })
  alice.setCredentials([await authority.issue(alice.identity, { role: 'analyst' })])
  bob.setCredentials([await authority.issue(bob.identity, { relay: 'postgres' })])

  let responder: SecureChannel | undefined
  await startSecureChannelListener(b.node, {
    identity: bob,
    trust: trustMembers('role.analyst'),
    onChannel: (channel) => {
      responder = channel
    },
  })
  const inbox = await sink(b.node, 'inbox')
  const vaultCallsBefore = vaultA.threadCalls + vaultB.threadCalls
  const channel = await createSecureChannel(a.node, [tcp(b.address), local('api')], {
    identity: alice,
    trust: trustMembers('relay.postgres'),
    timeoutMs: 5000,
  })
  assert.equal(channel.peerIdentifier, bob.identity.identifier)
  assert.deepEqual({ ...channel.attributes }, { relay: 'postgres' })

  const reply = await a.node.context.request([channel.address, local('echo')], Buffer.from('hello'), {
    timeoutMs: 5000,
  })
  assert.equal(Buffer.from(reply.payload).toString(), 'hello')
  assert.deepEqual(reply.local.ingress.kind, 'channel')
  assert.ok(reply.local.ingress.kind === 'channel' && reply.local.ingress.identifier === bob.identity.identifier)

  await a.node.context.send([channel.address, local('inbox')], Buffer.from('to the inbox'))
  await waitForCounter(b.node, METRICS.messagesDelivered, (n) => n >= 2)
  const delivered = inbox[0]!
  assert.equal(Buffer.from(delivered.payload).toString(), 'to the inbox')
  const ingress = delivered.local.ingress
  assert.ok(ingress.kind === 'channel')
  assert.deepEqual(
    { ...ingress, attributes: { ...ingress.attributes } },
    {
      kind: 'channel',
      channel: responder!.address.value,
      identifier: alice.identity.identifier,
      attributes: { role: 'analyst' },
      member: true,
    },
  )
  assert.deepEqual(channel.handshakeHash, responder!.handshakeHash)

  for (const node of [a.node, b.node]) {
    assert.ok(node.counters.get(METRICS.poolTasks) >= 1, `${node.name} verified on its pool`)
    assert.ok(node.counters.get('pool.tasks.threaded') >= 1, `${node.name}'s pool ran the task on a thread`)
    assert.equal(node.counters.get(METRICS.channelsOpen), 1)
    assert.equal(node.counters.get(METRICS.handshakesCompleted), 1)
  }
  assert.equal(
    a.node.counters.get(METRICS.vaultCalls),
    3,
    'initiator: initiate, read message 2, write message 3 + split',
  )
  assert.equal(b.node.counters.get(METRICS.vaultCalls), 2, 'responder: respond to message 1, read message 3 + split')
  assert.equal(
    vaultA.threadCalls + vaultB.threadCalls - vaultCallsBefore,
    5,
    'the handshake steps ran in the vault threads',
  )
  assert.equal(await vaultA.handshakeCount(), 0)
  assert.equal(await vaultB.handshakeCount(), 0)

  assert.deepEqual(
    listSecureChannels(a.node).map((c) => [c.role, c.state, c.peerIdentifier, c.address]),
    [['initiator', 'open', bob.identity.identifier, channel.address.value]],
  )
  await channel.close()
  assert.deepEqual(listSecureChannels(a.node), [])
  const closed = await responder!.closed
  assert.deepEqual([closed.by, closed.reason], ['peer', 'normal'])
  assert.equal(a.node.counters.get(METRICS.channelsOpen), 0)
  await waitForCounter(b.node, METRICS.channelsOpen, (n) => n === 0)
  assert.equal(a.node.router.hasWorker(channel.address), false)
  assert.equal(b.node.router.hasWorker(responder!.decryptorAddress), false)
})

test('the responder can close too, and a payload larger than one Noise message arrives whole', async (t) => {
  const a = await startTestNode(t, 'a', { listen: [] })
  const b = await startTestNode(t, 'b')
  const vault = await openVault(t)
  const alice = await makeMaterial(vault)
  const bob = await makeMaterial(vault)
  let responder: SecureChannel | undefined
  await startSecureChannelListener(b.node, {
    identity: bob,
    trust: trustAnyone(),
    onChannel: (c) => {
      responder = c
    },
  })
  const channel = await createSecureChannel(a.node, [tcp(b.address), local('api')], {
    identity: alice,
    trust: trustIdentifiers(bob.identity.identifier),
  })
  const big = new Uint8Array(200 * 1024).map((_, i) => (i * 7) & 0xff)
  const inbox = await sink(b.node, 'inbox')
  await a.node.context.send([channel.address, local('inbox')], big)
  await waitForCounter(b.node, METRICS.messagesDelivered, (n) => n >= 1)
  assert.deepEqual(inbox[0]!.payload, big)
  assert.ok(b.node.counters.get(METRICS.framesReceived) >= 4, 'the payload travelled as fragments')
  await responder!.close()
  const closed = await channel.closed
  assert.deepEqual([closed.by, closed.reason], ['peer', 'normal'])
  await assert.rejects(
    a.node.context.send([channel.address, local('inbox')], Buffer.from('late')),
    rejectsWith('OCKAM_ERR_ROUTER_NO_WORKER'),
  )
})

test('ChaChaPoly on request; a listener that does not accept the suite drops message 1; an unreachable listener fails typed', async (t) => {
  const a = await startTestNode(t, 'a', { listen: [] })
  const b = await startTestNode(t, 'b')
  const vault = await openVault(t)
  const alice = await makeMaterial(vault)
  const bob = await makeMaterial(vault)
  await startSecureChannelListener(b.node, { identity: bob, trust: trustAnyone() })
  await startSecureChannelListener(b.node, {
    address: 'aes-only',
    identity: bob,
    trust: trustAnyone(),
    suites: ['Noise_XX_25519_AESGCM_SHA256'],
  })
  const chacha = await createSecureChannel(a.node, [tcp(b.address), local('api')], {
    identity: alice,
    trust: trustAnyone(),
    suite: 'Noise_XX_25519_ChaChaPoly_SHA256',
  })
  const reply = await a.node.context.request([chacha.address, local('echo')], Buffer.from('cha'), { timeoutMs: 5000 })
  assert.equal(Buffer.from(reply.payload).toString(), 'cha')
  await assert.rejects(
    createSecureChannel(a.node, [tcp(b.address), local('aes-only')], {
      identity: alice,
      trust: trustAnyone(),
      suite: 'Noise_XX_25519_ChaChaPoly_SHA256',
      timeoutMs: 200,
    }),
    rejectsWith('OCKAM_ERR_SECURE_CHANNEL_HANDSHAKE_TIMEOUT'),
  )
  assert.equal(b.node.counters.get(METRICS.message1Malformed), 1)
  await b.node.stop()
  await assert.rejects(
    createSecureChannel(a.node, [tcp(b.address), local('api')], { identity: alice, trust: trustAnyone() }),
    rejectsWith('OCKAM_ERR_TCP_CONNECT_FAILED'),
  )
  assert.equal(a.node.counters.get(METRICS.handshaking), 0)
})

test('neither a network peer nor the peer of another channel can send into a channel by naming its encryptor', async (t) => {
  const a = await startTestNode(t, 'a', { listen: [] })
  const b = await startTestNode(t, 'b')
  const mallory = await startTestNode(t, 'mallory', { listen: [] })
  const vault = await openVault(t)
  const alice = await makeMaterial(vault)
  const bob = await makeMaterial(vault)
  const eve = await makeMaterial(vault)
  const responders: SecureChannel[] = []
  await startSecureChannelListener(b.node, {
    identity: bob,
    trust: trustAnyone(),
    onChannel: (channel) => void responders.push(channel),
  })
  const received = await sink(a.node, 'inbox')
  await createSecureChannel(a.node, [tcp(b.address), local('api')], { identity: alice, trust: trustAnyone() })
  const toAlice = responders[0]!.address
  await mallory.node.context.send([tcp(b.address), toAlice, local('inbox')], Buffer.from('injected'))
  await waitForCounter(b.node, 'router.denied.OCKAM_ERR_ROUTER_ACCESS_DENIED', (n) => n === 1)

  const eves = await createSecureChannel(mallory.node, [tcp(b.address), local('api')], {
    identity: eve,
    trust: trustAnyone(),
  })
  await mallory.node.context.send([eves.address, toAlice, local('inbox')], Buffer.from('from another channel'))
  await waitForCounter(b.node, 'router.denied.OCKAM_ERR_ROUTER_ACCESS_DENIED', (n) => n === 2)
  assert.equal(b.node.counters.get(METRICS.framesSent), 2, 'only the two credentials frames went out')
  assert.equal(received.length, 0)
})
