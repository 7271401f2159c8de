/**
 * What the router needs from a transport: turning a transport address (`1#host:port`) into the
 * local address of the worker that sends over it. Transports know frames and sockets, never
 * protocols; the router decides whether a message may make a transport dial.
 */
import type { Address } from './address.js'
import type { BufferBudget } from './buffer-budget.js'
import type { Logger } from './log.js'
import type { Router } from './router.js'

export interface ResolveOptions {
  /** False for messages from the network that no forwarding service vouched for. */
  readonly mayDial: boolean
  readonly signal?: AbortSignal
}

export interface Transport {
  /** The address type this transport serves (TCP = 1). */
  readonly type: number
  readonly name: string
  start(): Promise<void>
  stop(): Promise<void>
  /** The local address of the worker that sends to `address` if one is open already (no I/O). */
  lookup?(address: Address): Address | undefined
  /** The local address of the worker that sends to `address`, opening a connection if allowed. */
  resolve(address: Address, options: ResolveOptions): Promise<Address>
}

/** What the node hands a transport factory (the js-libp2p "components" shape). */
export interface TransportComponents {
  readonly router: Router
  readonly budget: BufferBudget
  readonly log: Logger
}

export type TransportFactory<T extends Transport = Transport> = (components: TransportComponents) => T
