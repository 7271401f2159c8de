export * from './constants.js'
export { TCP_LISTENER_KIND, type TcpListenerSpec, tcpListenerKind } from './kinds/tcp-listener.js'
export { ResourceManager, type ResourceManagerOptions } from './manager.js'
export { createResourceRepository, type ResourceRecord, type ResourceRepository } from './repository.js'
export type {
  AnyResourceKind,
  ResourceHandle,
  ResourceHost,
  ResourceInfo,
  ResourceKind,
  ResourceState,
} from './types.js'

import { relayKind } from './kinds/relay.js'
import { secureChannelKind } from './kinds/secure-channel.js'
import { secureChannelListenerKind } from './kinds/secure-channel-listener.js'
import { tcpInletKind } from './kinds/tcp-inlet.js'
import { tcpListenerKind } from './kinds/tcp-listener.js'
import { tcpOutletKind } from './kinds/tcp-outlet.js'
import type { AnyResourceKind } from './types.js'

/** Every kind a node can restore. New kinds (secure channels, outlets, inlets, relays) add a line. */
export function defaultResourceKinds(): AnyResourceKind[] {
  return [
    tcpListenerKind(),
    secureChannelListenerKind(),
    secureChannelKind(),
    tcpOutletKind(),
    relayKind(),
    tcpInletKind(),
  ]
}
