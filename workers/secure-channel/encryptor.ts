/**
 * The encryptor worker: this node's side of a channel. A message routed to it (onward
 * `[encryptor, ...rest]`) is sealed and sent to the peer, where it comes out with onward `rest`.
 */
import type { IncomingAccessControl } from '../../runtime/access-control.js'
import type { Worker } from '../../runtime/worker.js'
import type { SecureChannelSession } from './session.js'

/**
 * Who may send into a channel: this node's own workers, replies to messages that came out of a
 * channel (their ingress is `channel`), and messages an explicit forwarding service vouched for
 * (the return leg of a channel nested through this node). A message straight from a TCP
 * connection or a relay registration may not: that would let any network peer inject traffic
 * authenticated as this node.
 */
export const encryptorIncoming: IncomingAccessControl = {
  name: 'secure-channel-encryptor',
  allows(message) {
    const kind = message.local.ingress.kind
    return kind === 'local' || kind === 'channel' || message.local.forwardedBy !== undefined
  },
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
