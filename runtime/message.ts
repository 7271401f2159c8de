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
