/**
 * The decryptor worker: where the peer's handshake messages and frames arrive. It accepts any
 * ingress (TCP, a relay registration, an enclosing channel): every frame authenticates itself,
 * and what comes out carries `channel` ingress naming the peer's verified identity.
 */
import { allowAnyIngress, type IncomingAccessControl } from '../../runtime/access-control.js'
import type { Worker } from '../../runtime/worker.js'
import type { SecureChannelSession } from './session.js'

/** Any ingress; and frames passed through an enclosing channel (each one authenticates itself). */
export const decryptorIncoming: IncomingAccessControl = {
  ...allowAnyIngress,
  name: 'secure-channel-decryptor',
  acceptsSealed: true,
}

export function decryptorWorker(session: SecureChannelSession): Worker {
  return {
    handleMessage: (_ctx, message) =>
      message.onward[0]?.value === session.passthroughAddress.value
        ? session.onPassthrough(message)
        : session.onRemote(message),
    shutdown: () => {
      void session.close('shutdown', { by: 'local', notify: true })
    },
  }
}
