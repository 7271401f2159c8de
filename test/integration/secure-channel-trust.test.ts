/**
 * Trust decisions of secure channels between real nodes over TCP: a wrong identity refused by
 * either side's policy, a static key its identity does not attest, forged and expired
 * credentials yielding no attributes, credential refreshes (someone else's refused, a valid one
 * accepted, an empty one losing membership), and attributes dropping at expiry.
 */
import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { allowAll } from '../../runtime/access-control.js'
import { local, tcp } from '../../runtime/address.js'
import type { Message } from '../../runtime/message.js'
import type { OckamNode } from '../../runtime/node.js'
import { nowSeconds } from '../../runtime/trust/identity/validity.js'
import { createSecureChannel } from '../../workers/secure-channel/initiator.js'
import { startSecureChannelListener } from '../../workers/secure-channel/listener.js'
import { METRICS } from '../../workers/secure-channel/metrics.js'
import {
  type TrustPolicy,
  trustAnyone,
  trustIdentifiers,
  trustMembers,
} from '../../workers/secure-channel/trust-policy.js'
import type { SecureChannel } from '../../workers/secure-channel/types.js'
import { startTestNode } from '../helpers/testnet.js'
import {
  crypto,
  makeAuthority,
  makeMaterial,
  openVault,
  rejectsWith,
  waitForCounter,
} from '../unit/secure-channel/fixtures.js'

async function inbox(node: OckamNode): Promise<Message[]> {
  const received: Message[] = []
  await node.startWorker(
    local('inbox'),
    {
      handleMessage: (ctx, message) => {
        received.push(message)
        ctx.counters.inc('test.inbox')
      },
    },
    { incoming: allowAll },
  )
  return received
}

function attributesOf(message: Message | undefined): Record<string, string> {
  const ingress = message?.local.ingress
  assert.ok(ingress?.kind === 'channel', 'the message came out of a channel')
  return { ...ingress.attributes }
}

async function world(t: TestContext) {
  const a = await startTestNode(t, 'a', { listen: [] })
  const b = await startTestNode(t, 'b')
  const vault = await openVault(t)
  const authority = await makeAuthority(vault)
  const authorities = { trustedAuthorities: [authority.identity] }
  const alice = await makeMaterial(vault, authorities)
  const bob = await makeMaterial(vault, authorities)
  const carol = await makeMaterial(vault, authorities)
  const route = [tcp(b.address), local('api')]
  return { a, b, vault, authority, alice, bob, carol, route }
}

test('a wrong identity is refused by the initiator (nothing about it is sent) and by the responder', async (t) => {
  const { a, b, alice, bob, carol, route } = await world(t)
  await startSecureChannelListener(b.node, { identity: bob, trust: trustAnyone(), handshakeTimeoutMs: 300 })
  await assert.rejects(
    createSecureChannel(a.node, route, { identity: alice, trust: trustIdentifiers(carol.identity.identifier) }),
    rejectsWith('OCKAM_ERR_SECURE_CHANNEL_PEER_REFUSED'),
  )
  // Message 3 never left: the responder's half-open handshake ends by its timeout.
  await waitForCounter(b.node, METRICS.handshakesTimedOut, (n) => n === 1)
  assert.equal(b.node.counters.get(METRICS.halfOpen), 0)
  assert.equal(a.node.counters.get(METRICS.handshaking), 0)

  await startSecureChannelListener(b.node, {
    address: 'only-carol',
    identity: bob,
    trust: trustIdentifiers(carol.identity.identifier),
  })
  await assert.rejects(
    createSecureChannel(a.node, [tcp(b.address), local('only-carol')], { identity: alice, trust: trustAnyone() }),
    rejectsWith('OCKAM_ERR_SECURE_CHANNEL_REFUSED_BY_PEER'),
  )
  const channel = await createSecureChannel(a.node, [tcp(b.address), local('only-carol')], {
    identity: carol,
    trust: trustIdentifiers(bob.identity.identifier),
  })
  assert.equal(channel.peerIdentifier, bob.identity.identifier)
  assert.equal(b.node.counters.get(METRICS.handshakesFailed), 2)
})

test('a static key its identity does not attest is refused, whichever side presents it', async (t) => {
  const { a, b, vault, bob, route } = await world(t)
  const otherKey = crypto.x25519GenerateKeyPair().publicKey
  const liar = await makeMaterial(vault, { attestPublicKey: otherKey })
  await startSecureChannelListener(b.node, { identity: bob, trust: trustAnyone() })
  await assert.rejects(
    createSecureChannel(a.node, route, { identity: liar, trust: trustAnyone() }),
    rejectsWith('OCKAM_ERR_SECURE_CHANNEL_REFUSED_BY_PEER'),
  )
  assert.equal(b.node.counters.get(METRICS.channelsOpened), 0)

  await startSecureChannelListener(b.node, { address: 'liar', identity: liar, trust: trustAnyone() })
  await assert.rejects(
    createSecureChannel(a.node, [tcp(b.address), local('liar')], { identity: bob, trust: trustAnyone() }),
    rejectsWith('OCKAM_ERR_SECURE_CHANNEL_KEY_NOT_ATTESTED'),
  )
})

test('forged, foreign-authority and expired credentials yield no attributes; a members policy then refuses', async (t) => {
  const { a, b, vault, authority, alice, bob, route } = await world(t)
  const stranger = await makeAuthority(vault) // not trusted by bob
  const now = nowSeconds()
  const expired = await authority.issue(
    alice.identity,
    { role: 'analyst' },
    { created: now - 4000, expires: now - 3000 },
  )
  const foreign = await stranger.issue(alice.identity, { role: 'analyst' })
  const forged = (await authority.issue(alice.identity, { role: 'admin' })).slice()
  forged[forged.length - 70]! ^= 0x01 // inside a signature
  alice.setCredentials([expired, foreign, forged])

  const received = await inbox(b.node)
  await startSecureChannelListener(b.node, { identity: bob, trust: trustAnyone() })
  const channel = await createSecureChannel(a.node, route, { identity: alice, trust: trustAnyone() })
  await a.node.context.send([channel.address, local('inbox')], Buffer.from('x'))
  await waitForCounter(b.node, 'test.inbox', (n) => n === 1)
  assert.deepEqual(attributesOf(received[0]), {})
  assert.equal(b.node.counters.get(METRICS.credentialsRefused), 3)

  await startSecureChannelListener(b.node, { address: 'members', identity: bob, trust: trustMembers() })
  await assert.rejects(
    createSecureChannel(a.node, [tcp(b.address), local('members')], { identity: alice, trust: trustAnyone() }),
    rejectsWith('OCKAM_ERR_SECURE_CHANNEL_REFUSED_BY_PEER'),
  )
  alice.setCredentials([await authority.issue(alice.identity, { role: 'analyst' })])
  const member = await createSecureChannel(a.node, [tcp(b.address), local('members')], {
    identity: alice,
    trust: trustAnyone(),
  })
  await a.node.context.send([member.address, local('inbox')], Buffer.from('y'))
  await waitForCounter(b.node, 'test.inbox', (n) => n === 2)
  assert.deepEqual(attributesOf(received[1]), { role: 'analyst' })
})

test('the initiator applies an attribute policy to the responder once it disclosed its credentials', async (t) => {
  const { a, b, authority, alice, bob, route } = await world(t)
  bob.setCredentials([await authority.issue(bob.identity, { relay: 'mysql' })])
  let responderClosed: SecureChannel['closed'] | undefined
  await startSecureChannelListener(b.node, {
    identity: bob,
    trust: trustAnyone(),
    onChannel: (channel) => {
      responderClosed = channel.closed
    },
  })
  const wants = (relay: string): TrustPolicy => trustMembers(`relay.${relay}`)
  await assert.rejects(
    createSecureChannel(a.node, route, { identity: alice, trust: wants('postgres') }),
    rejectsWith('OCKAM_ERR_SECURE_CHANNEL_PEER_REFUSED'),
  )
  const closed = await responderClosed!
  assert.deepEqual([closed.by, closed.reason], ['peer', 'refused'], 'the initiator told the responder why')
  const channel = await createSecureChannel(a.node, route, { identity: alice, trust: wants('mysql') })
  assert.deepEqual({ ...channel.attributes }, { relay: 'mysql' })
})

test('refresh: someone else’s credential is refused, a valid one replaces the attributes, none loses membership', async (t) => {
  const { a, b, authority, alice, bob, carol, route } = await world(t)
  alice.setCredentials([await authority.issue(alice.identity, { role: 'analyst' })])
  const received = await inbox(b.node)
  let responder: SecureChannel | undefined
  await startSecureChannelListener(b.node, {
    identity: bob,
    trust: trustMembers('role.analyst'),
    onChannel: (channel) => {
      responder = channel
    },
  })
  const channel = await createSecureChannel(a.node, route, { identity: alice, trust: trustAnyone() })
  assert.deepEqual({ ...responder!.attributes }, { role: 'analyst' })

  const carols = await authority.issue(carol.identity, { role: 'analyst', clearance: 'top' })
  await channel.refreshCredentials([carols])
  await waitForCounter(b.node, METRICS.refreshRefused, (n) => n === 1)
  assert.deepEqual({ ...responder!.attributes }, { role: 'analyst' }, 'a refused refresh changes nothing')

  await channel.refreshCredentials([await authority.issue(alice.identity, { role: 'analyst', level: '2' })])
  await waitForCounter(b.node, METRICS.refreshAccepted, (n) => n === 1)
  await a.node.context.send([channel.address, local('inbox')], Buffer.from('after refresh'))
  await waitForCounter(b.node, 'test.inbox', (n) => n === 1)
  assert.deepEqual(attributesOf(received[0]), { role: 'analyst', level: '2' })

  await channel.refreshCredentials([])
  const closed = await channel.closed
  assert.deepEqual([closed.by, closed.reason], ['peer', 'refused'])
})

test('attributes drop when their credential expires (clock plus skew), without a new handshake', async (t) => {
  const { a, b, authority, alice, bob, route } = await world(t)
  let clock = nowSeconds()
  alice.setCredentials([
    await authority.issue(alice.identity, { role: 'analyst' }, { created: clock - 10, expires: clock + 100 }),
  ])
  const received = await inbox(b.node)
  await startSecureChannelListener(b.node, { identity: bob, trust: trustAnyone(), now: () => clock })
  const channel = await createSecureChannel(a.node, route, { identity: alice, trust: trustAnyone() })
  await a.node.context.send([channel.address, local('inbox')], Buffer.from('1'))
  await waitForCounter(b.node, 'test.inbox', (n) => n === 1)
  assert.deepEqual(attributesOf(received[0]), { role: 'analyst' })
  clock += 100 + 59
  await a.node.context.send([channel.address, local('inbox')], Buffer.from('2'))
  await waitForCounter(b.node, 'test.inbox', (n) => n === 2)
  assert.deepEqual(attributesOf(received[1]), { role: 'analyst' }, 'still within the clock skew')
  clock += 1
  await a.node.context.send([channel.address, local('inbox')], Buffer.from('3'))
  await waitForCounter(b.node, 'test.inbox', (n) => n === 3)
  assert.deepEqual(attributesOf(received[2]), {})
})
