/**
 * A routed message: onward route, return route, payload, and local-only metadata that never
 * crosses a transport (DESIGN §3). The metadata says where the message entered this node
 * (its ingress); forwarders keep it, access control checks it at every delivery (DESIGN §12).
 */
import type { Route } from './route.js'

/** Where a message entered this node. */
export type Ingress =
  /** Created by a worker of this node. */
  | { readonly kind: 'local' }
  /** Arrived on a TCP connection; `connection` is the local address of its worker. */
  | { readonly kind: 'tcp'; readonly connection: string; readonly peer: string }
  /** Came out of a secure channel whose peer was authenticated. */
  | {
      readonly kind: 'channel'
      readonly channel: string
      readonly identifier: string
      readonly attributes: Readonly<Record<string, string>>
      /** The peer holds a valid credential from an authority this end trusts (a project member). */
      readonly member?: boolean
    }
  /** Arrived through a relay registration: carries no identity (DESIGN §12). */
  | { readonly kind: 'relay'; readonly registration: string }

export const LOCAL_INGRESS: Ingress = Object.freeze({ kind: 'local' })

export interface LocalMetadata {
  readonly ingress: Ingress
  /**
   * Set by an explicit forwarding service that checked its own policy. Only then may a message
   * that came from the network leave this node over another connection or make it dial
   * (DESIGN §12: no node is an open proxy).
   */
  readonly forwardedBy?: string
  /**
   * The payload is a transport frame a secure channel already sealed end to end (set by the
   * channel's frame queue, kept by relay hops). An enclosing channel may pass it through to its
   * peer without sealing it a second time (secure-channel passthrough, PROTOCOL.md). The router
   * delivers such a message only to workers whose access control accepts it (`acceptsSealed`):
   * channel and relay plumbing, never a service.
   */
  readonly sealed?: true
}

/**
 * `metadata`, marked sealed when `from` was: a hop that forwards a channel's sealed frame (a relay)
 * keeps the mark, so the next channel may pass the frame through too.
 */
export function sealedLike(from: LocalMetadata, metadata: LocalMetadata): LocalMetadata {
  return from.sealed === true ? { ...metadata, sealed: true } : metadata
}

/** Whether two ingresses are the same way in: the same TCP connection, channel or relay registration. */
export function sameIngress(a: Ingress, b: Ingress): boolean {
  switch (a.kind) {
    case 'local':
      return b.kind === 'local'
    case 'tcp':
      return b.kind === 'tcp' && b.connection === a.connection
    case 'channel':
      return b.kind === 'channel' && b.channel === a.channel
    case 'relay':
      return b.kind === 'relay' && b.registration === a.registration
  }
}

export interface Message {
  readonly onward: Route
  readonly return: Route
  readonly payload: Uint8Array
  readonly local: LocalMetadata
}

/** The message with its first onward hop removed (a worker consuming its own address). */
export function stepOnward(message: Message): Message {
  return { ...message, onward: message.onward.slice(1) }
}
