/**
 * Secure channels (DESIGN §5, §6, §12): Noise XX with identities, credentials and trust
 * policies, over any route, nestable. The handshake's secret-key steps run in the vault,
 * verification of what the peer presents on the node's pool, bulk AEAD inline.
 */

import { OckamError } from '../../runtime/errors.js'
import type { Ingress } from '../../runtime/message.js'
import {
  channelIngress,
  onPeerCredentialsChanged as onChanged,
  type PeerCredentialsChange,
  refuseChannelsOf,
  shutdownNestedChannels,
} from './registry.js'
import { sessionsOf } from './session.js'
import type { SecureChannelHost, SecureChannelInfo } from './types.js'

export * from './constants.js'
export {
  type CreateSecureChannelIdentityOptions,
  createSecureChannelIdentity,
  type SecureChannelIdentity,
  type SecureChannelVault,
} from './identity-material.js'
export { createSecureChannel } from './initiator.js'
export {
  type SecureChannelListener,
  type SecureChannelListenerOptions,
  startSecureChannelListener,
} from './listener.js'
export { METRICS as SECURE_CHANNEL_METRICS } from './metrics.js'
export type { CommonChannelOptions, SecureChannelOptions } from './options.js'
export type { CloseReason } from './plaintext.js'
export type { PeerCredentialsChange } from './registry.js'
export {
  type PeerFacts,
  type TrustPolicy,
  trustAnyOf,
  trustAnyone,
  trustIdentifiers,
  trustMembers,
} from './trust-policy.js'
export type {
  SecureChannel,
  SecureChannelClosed,
  SecureChannelHost,
  SecureChannelInfo,
  SecureChannelRole,
} from './types.js'

/** The channels of a node (both roles, handshaking ones included), for `secure-channel list`. */
export function listSecureChannels(host: SecureChannelHost): SecureChannelInfo[] {
  return sessionsOf(host.router)
}

/**
 * Closes every channel of a node whose peer is `identifier` (both roles, handshaking ones too),
 * each with a sealed close (reason `refused`) when it is open; returns how many. The caller
 * (revocation) also makes the identity material refuse the peer, so it cannot come back.
 */
export function closeSecureChannelsOf(host: SecureChannelHost, identifier: string, why = 'revoked'): number {
  const error = new OckamError('OCKAM_ERR_SECURE_CHANNEL_PEER_REFUSED', `${identifier} is refused: ${why}`, {
    hint: 'its channels were closed on purpose; it cannot reconnect while it stays refused',
  })
  return refuseChannelsOf(host.router, identifier, error)
}

/**
 * For a graceful stop: closes the node's channels that run inside another channel or through a
 * relay (an end-to-end channel to an inlet), with a sealed close, before the relay and outer
 * channels under them stop; waits at most `timeoutMs` for the close frames. Returns how many.
 */
export function closeNestedSecureChannels(host: SecureChannelHost, timeoutMs: number): Promise<number> {
  return shutdownNestedChannels(host.router, timeoutMs)
}

/**
 * The ingress that messages out of the node's channel `channel` (an ingress's `channel` field)
 * carry now: the peer's attributes and membership as of this moment, not as of when some
 * message arrived. Undefined once the channel is closed.
 */
export function currentChannelIngress(host: SecureChannelHost, channel: string): Ingress | undefined {
  return channelIngress(host.router, channel)
}

/**
 * Calls `listener` after a peer's credentials expired or a refresh was accepted on an open
 * channel of the node (after the channel re-applied its own trust policy); returns the unsubscribe.
 */
export function onPeerCredentialsChanged(
  host: SecureChannelHost,
  listener: (change: PeerCredentialsChange) => void,
): () => void {
  return onChanged(host.router, listener)
}
