/**
 * Relays (DESIGN §7, §12): the relay service on the project node and, on a member node, the
 * session that keeps a registration alive and the receiver that admits what arrives through it
 * only to the secure-channel listener.
 */
export * from './constants.js'
export {
  decodeRelayRequest,
  decodeRelayResponse,
  encodeRelayRequest,
  encodeRelayResponse,
  type RelayRequest,
  type RelayRequestKind,
  type RelayResponse,
} from './protocol.js'
export { type RelayOk, type RelayReceiver, type RelayReceiverOptions, startRelayReceiver } from './receiver.js'
export {
  type RelayAuthorize,
  type RelayDropReason,
  type RelayRegistrationInfo,
  type RelayService,
  type RelayServiceHost,
  type RelayServiceOptions,
  startRelayService,
} from './service.js'
export {
  type RelaySession,
  type RelaySessionEvents,
  type RelaySessionHost,
  type RelaySessionOptions,
  type RelaySessionState,
  type RelaySessionStatus,
  startRelaySession,
} from './session.js'
