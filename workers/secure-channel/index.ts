/**
 * Secure channels (DESIGN §5, §6, §12): Noise XX with identities, credentials and trust
 * policies, over any route, nestable. The handshake's secret-key steps run in the vault,
 * verification of what the peer presents on the node's pool, bulk AEAD inline.
 */

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
