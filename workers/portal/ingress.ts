/**
 * Who is on the other end of a portal, from a message's ingress: the per-portal workers accept
 * only messages that arrive the way the portal's first peer message did (same TCP connection,
 * same channel), so knowing a portal's address is not enough to write into it.
 */
import type { Ingress } from '../../runtime/message.js'

/**
 * The key of the per-peer cap on an outlet: the authenticated identity for a channel; the
 * connection for unauthenticated TCP (one connection is one peer; nothing better is known).
 */
export function peerKey(ingress: Ingress): string {
  switch (ingress.kind) {
    case 'local':
      return 'local'
    case 'tcp':
      return `tcp:${ingress.connection}`
    case 'channel':
      return `identity:${ingress.identifier}`
    case 'relay':
      return `relay:${ingress.registration}`
  }
}

/** For logs: who the peer is, in one short string. */
export function describeIngress(ingress: Ingress): string {
  switch (ingress.kind) {
    case 'local':
      return 'local'
    case 'tcp':
      return `tcp ${ingress.peer}`
    case 'channel':
      return `channel ${ingress.identifier}`
    case 'relay':
      return `relay ${ingress.registration}`
  }
}
