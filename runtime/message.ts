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
   * The payload is a transport frame a secure channel sealed end to end (set by the channel's
   * frame queue on its own frames, kept by relay hops). An enclosing channel that runs directly
   * over TCP may pass it through to its peer without sealing it again (PROTOCOL.md, passthrough).
   */
  readonly sealed?: true
  /**
   * It arrived in the clear over a passthrough hop: nothing but its claim says it is a sealed
   * frame, and its ingress names the enclosing channel's peer only as the way it came. The router
   * delivers it only to plumbing that accepts one (`acceptsSealed`: relay hops, decryptors,
   * encryptors, TCP connections), and an encryptor seals it again only toward relay or channel
   * plumbing, so it ends at a decryptor that authenticates it.
   */
  readonly passedThrough?: true
  /**
   * The sender lets a secure channel hold the message until the end of the current turn of the
   * event loop and seal it with others in one frame (PROTOCOL.md, "Batching"). Portals set it on
   * their data; control messages (credit, open, end) leave at once, since a late credit stalls
   * the peer.
   */
  readonly batchable?: true
}

/**
 * `metadata`, marked sealed when `from` was: a hop that forwards a channel's sealed frame (a relay)
 * keeps the mark, so the next channel may pass the frame through too.
 */
export function sealedLike(from: LocalMetadata, metadata: LocalMetadata): LocalMetadata {
  if (from.passedThrough === true) return { ...metadata, sealed: true, passedThrough: true }
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
