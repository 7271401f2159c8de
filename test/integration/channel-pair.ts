/**
 * Two test nodes and a secure channel between them, each end trusting only the other: the
 * starting point of tests about what runs over one channel (portals, batches, closes).
 */
import type { TestContext } from 'node:test'
import { local, tcp } from '../../runtime/address.js'
import { createSecureChannel } from '../../workers/secure-channel/initiator.js'
import { startSecureChannelListener } from '../../workers/secure-channel/listener.js'
import { trustIdentifiers } from '../../workers/secure-channel/trust-policy.js'
import type { SecureChannel } from '../../workers/secure-channel/types.js'
import { startTestNode, type TestNode } from '../helpers/testnet.js'
import { makeMaterial, openVault } from '../unit/secure-channel/fixtures.js'

export interface ChannelPair {
  /** The initiator's node (it listens on nothing). */
  readonly a: TestNode
  /** The listener's node. */
  readonly b: TestNode
  /** The initiator's end. */
  readonly channel: SecureChannel
  /** The listener's end. */
  readonly responder: SecureChannel
}

export async function startChannelPair(t: TestContext): Promise<ChannelPair> {
  const a = await startTestNode(t, 'a', { listen: [] })
  const b = await startTestNode(t, 'b')
  const vault = await openVault(t)
  const alice = await makeMaterial(vault)
  const bob = await makeMaterial(vault)
  let responder: SecureChannel | undefined
  await startSecureChannelListener(b.node, {
    identity: bob,
    trust: trustIdentifiers(alice.identity.identifier),
    onChannel: (channel) => {
      responder = channel
    },
  })
  const channel = await createSecureChannel(a.node, [tcp(b.address), local('api')], {
    identity: alice,
    trust: trustIdentifiers(bob.identity.identifier),
    timeoutMs: 5000,
  })
  // The responder opens before it sends the credentials that open the initiator's end.
  if (responder === undefined) throw new Error('the responder did not open before the initiator')
  return { a, b, channel, responder }
}
