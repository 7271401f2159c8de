/**
 * Revocation as the secure channel sees it (generic: the channel does not know where the list
 * comes from): identity material's `revoked` refuses a peer at the handshake whatever the trust
 * policy, on both roles, and closeSecureChannelsOf closes a peer's open channels with a close
 * the other side hears as `refused`.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { local, tcp } from '../../runtime/address.js'
import { closeSecureChannelsOf, listSecureChannels } from '../../workers/secure-channel/index.js'
import { createSecureChannel } from '../../workers/secure-channel/initiator.js'
import { startSecureChannelListener } from '../../workers/secure-channel/listener.js'
import { trustAnyone } from '../../workers/secure-channel/trust-policy.js'
import { startTestNode } from '../helpers/testnet.js'
import { makeMaterial, openVault, rejectsWith } from '../unit/secure-channel/fixtures.js'

test('a revoked peer is refused at the handshake by either role; its open channels close on demand', async (t) => {
  const vault = await openVault(t)
  const a = await startTestNode(t, 'a')
  const b = await startTestNode(t, 'b')
  const alice = await makeMaterial(vault)
  const carol = await makeMaterial(vault)
  const revoked = new Set<string>()
  const bob = { ...(await makeMaterial(vault)), revoked: (identifier: string) => revoked.has(identifier) }
  await startSecureChannelListener(b.node, { identity: bob, trust: trustAnyone() })
  const route = [tcp(b.address), local('api')]

  const open = await createSecureChannel(a.node, route, { identity: alice, trust: trustAnyone(), timeoutMs: 5000 })
  const other = await createSecureChannel(a.node, route, { identity: carol, trust: trustAnyone(), timeoutMs: 5000 })
  revoked.add(alice.identity.identifier)
  assert.equal(closeSecureChannelsOf(b.node, alice.identity.identifier), 1)
  const closed = await open.closed
  assert.deepEqual([closed.by, closed.reason], ['peer', 'refused'])
  assert.equal(other.isOpen, true, "another peer's channel stays open")
  assert.equal(
    listSecureChannels(b.node).some((c) => c.peerIdentifier === alice.identity.identifier),
    false,
  )

  // The responder refuses the revoked initiator; an initiator whose material revokes the responder refuses it.
  await assert.rejects(
    createSecureChannel(a.node, route, { identity: alice, trust: trustAnyone(), timeoutMs: 5000 }),
    rejectsWith('OCKAM_ERR_SECURE_CHANNEL_REFUSED_BY_PEER'),
  )
  const wary = { ...carol, revoked: (identifier: string) => identifier === bob.identity.identifier }
  await assert.rejects(
    createSecureChannel(a.node, route, { identity: wary, trust: trustAnyone(), timeoutMs: 5000 }),
    rejectsWith('OCKAM_ERR_SECURE_CHANNEL_PEER_REFUSED'),
  )
})
