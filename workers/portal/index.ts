/** Portals: TCP inlets and outlets joined by the portal protocol over any route (PROTOCOL.md, "Portals"). */
export { sameIngress } from '../../runtime/message.js'
export * from './constants.js'
export { CreditReceiver, CreditSender, dataCost, MAX_PORTAL_WINDOW_BYTES } from './credit.js'
export { CreditPool, sharedCreditPool } from './credit-pool.js'
export { peerKey } from './ingress.js'
export { startTcpInlet, type TcpInlet, type TcpInletOptions } from './inlet.js'
export {
  decodePortalMessage,
  encodePortalMessage,
  type PortalMessage,
  RESET_REASONS,
  type ResetReason,
} from './messages.js'
export { type PortalNode, startTcpOutlet, type TcpOutlet, type TcpOutletOptions } from './outlet.js'
export type { PortalStats } from './portal-set.js'
export { MAX_PORTAL_CHUNK_BYTES, type PortalTuning } from './settings.js'
