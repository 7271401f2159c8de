/**
 * A secure channel from a node to its project's `api` listener, presenting the node's identity
 * and its credential from the project's authority, and admitting only that authority (DESIGN
 * §12: each resource trusts exactly one authority). Relay sessions and inlet sessions open one
 * per attempt.
 */
import { createSecureChannel, type SecureChannel, trustIdentifiers } from '../../workers/secure-channel/index.js'
import { local, tcp } from '../address.js'
import { tcpOf } from '../defaults.js'
import type { OckamNode } from '../node.js'
import { nodeTrust } from '../resources/kinds/secure-channel-trust.js'
import type { StateStore } from '../state/store.js'
import { type ProjectMembership, requireProject } from './membership.js'

export interface ProjectChannelHost {
  readonly node: OckamNode
  readonly store: StateStore
}

export interface OpenProjectChannelOptions {
  /** Named identity to present; default the node's. */
  readonly identity?: string | undefined
  readonly timeoutMs: number
  readonly signal?: AbortSignal
}

export async function openProjectChannel(
  host: ProjectChannelHost,
  options: OpenProjectChannelOptions,
): Promise<{ channel: SecureChannel; project: ProjectMembership }> {
  const trust = await nodeTrust(host)
  const project = requireProject(host.store, trust.identities)
  const material = await trust.material(options.identity)
  const channel = await createSecureChannel(host.node, [tcp(project.address), local('api')], {
    identity: material,
    trust: trustIdentifiers(project.authority.identifier),
    timeoutMs: options.timeoutMs,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  })
  closeWithConnection(host.node, channel, project.address)
  return { channel, project }
}

/**
 * Closes `channel` when the TCP connection it runs over (the outbound one to `hostPort`) closes,
 * so the session that owns it rebuilds at once rather than after missed pings.
 */
export function closeWithConnection(node: OckamNode, channel: SecureChannel, hostPort: string): void {
  const unwatch = tcpOf(node).onOutboundClosed(hostPort, () => void channel.close().catch(() => {}))
  void channel.closed.then(unwatch)
}
