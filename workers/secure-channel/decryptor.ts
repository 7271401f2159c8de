/**
 * The decryptor worker: where the peer's handshake messages and frames arrive. It accepts any
 * ingress (TCP, a relay registration, an enclosing channel): every frame authenticates itself,
 * and what comes out carries `channel` ingress naming the peer's verified identity.
 */
import { allowAnyIngress } from '../../runtime/access-control.js'
import type { Worker } from '../../runtime/worker.js'
import type { SecureChannelSession } from './session.js'

export const decryptorIncoming = allowAnyIngress

export function decryptorWorker(session: SecureChannelSession): Worker {
  return {
    handleMessage: (_ctx, message) => session.onRemote(message),
    shutdown: () => {
      void session.close('shutdown', { by: 'local', notify: true })
    },
  }
}
