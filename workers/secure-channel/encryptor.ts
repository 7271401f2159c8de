/**
 * The encryptor worker: this node's side of a channel. A message routed to it (onward
 * `[encryptor, ...rest]`) is sealed and sent to the peer, where it comes out with onward `rest`.
 */
import type { IncomingAccessControl } from '../../runtime/access-control.js'
import type { Worker } from '../../runtime/worker.js'
import type { SecureChannelSession } from './session.js'

/**
 * Who may send into a channel (`channel` is this encryptor's own address value): this node's own
 * workers; replies to messages that came out of this same channel (a service answering its
 * peer keeps that ingress); and messages an explicit forwarding service vouched for (the return
 * leg of a channel nested through this node), under that service's own policy. Not a message
 * straight from a TCP connection or relay registration, and not one that came out of another
 * channel: either would let a network peer inject traffic authenticated as this node into a
 * channel with someone else.
 */
export function encryptorIncoming(channel: string): IncomingAccessControl {
  return {
    name: 'secure-channel-encryptor',
    // A sealed frame of a nested channel is passed through (or sealed again) like any payload.
    acceptsSealed: true,
    allows(message) {
      const ingress = message.local.ingress
      if (ingress.kind === 'local' || message.local.forwardedBy !== undefined) return true
      return ingress.kind === 'channel' && ingress.channel === channel
    },
  }
}

export function encryptorWorker(session: SecureChannelSession): Worker {
  return {
    handleMessage: (_ctx, message) => session.onLocal(message),
    shutdown: () => {
      // The node is stopping (or the channel closed itself): tell the peer when still possible.
      void session.close('shutdown', { by: 'local', notify: true })
    },
  }
}
