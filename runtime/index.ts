/** The public API of the `ockam-runtime` package (what `import … from 'ockam-runtime'` gives). */

export { startTcpInlet, startTcpOutlet, type TcpInlet, type TcpOutlet } from '../workers/portal/index.js'
export { startRelayService, startRelaySession } from '../workers/relay/index.js'
// Protocol workers for embedders: secure channels, TCP portals, relays.
export {
  createSecureChannel,
  listSecureChannels,
  startSecureChannelListener,
  trustAnyone,
  trustIdentifiers,
  trustMembers,
} from '../workers/secure-channel/index.js'
export { allowAll, allowIngress, type IncomingAccessControl, localOnly } from './access-control.js'
export { type Address, addressKey, local, parseAddress, tcp } from './address.js'
export { Backoff, sleep } from './backoff.js'
export { defineConfig } from './config/define-config.js'
export type { NodeConfig, OckamConfig } from './config/schema.js'
export type { Context } from './context.js'
export { createDefaultNode, type DefaultNodeOptions, tcpOf } from './defaults.js'
export { ERROR_CODES, isOckamError, OckamError, type OckamErrorCode } from './errors.js'
export type { Ingress, Message } from './message.js'
export { formatMultiaddr, parseMultiaddr, parseRouteArgument } from './multiaddr.js'
export { type NodeOptions, OckamNode } from './node.js'
export { formatRoute, type Route, route } from './route.js'
export type { Worker, WorkerOptions } from './worker.js'
