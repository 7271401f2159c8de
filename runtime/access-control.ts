/**
 * Incoming access control sits on addresses: each worker says which messages it accepts, and
 * the router checks at every delivery. The default is local-only: a service is reachable from
 * the network only when it opts in to that ingress (DESIGN §3, §12).
 */
import type { Ingress, Message } from './message.js'

export interface IncomingAccessControl {
  /** Shown in logs when a message is denied. */
  readonly name: string
  allows(message: Message): boolean
  /**
   * Whether this worker takes messages that arrived in the clear over a secure-channel
   * passthrough hop (`passedThrough`). Only relay hops, decryptors, encryptors and TCP
   * connections do; a service never sees one, and an encryptor seals one again only toward relay
   * or channel plumbing, so a frame injected on such a hop ends at a decryptor, which refuses it.
   */
  readonly acceptsSealed?: boolean
}

export const localOnly: IncomingAccessControl = {
  name: 'local-only',
  allows: (message) => message.local.ingress.kind === 'local',
}

/**
 * For services that accept any ingress (echo) — except a relay registration's: what arrives
 * through a relay carries no identity and may reach only the secure-channel listener and the
 * channels opened through it (DESIGN §12), so relay ingress is accepted only where an access
 * control names it (`allowAnyIngress`, `allowIngress('relay')`).
 */
export const allowAll: IncomingAccessControl = {
  name: 'allow-all-but-relay',
  allows: (message) => message.local.ingress.kind !== 'relay',
}

/** Every ingress, relay registrations included: only the secure-channel listener and decryptors. */
export const allowAnyIngress: IncomingAccessControl = { name: 'allow-any-ingress', allows: () => true }

/** Local messages plus those that entered through one of the given ingress kinds. */
export function allowIngress(...kinds: Ingress['kind'][]): IncomingAccessControl {
  const set = new Set<Ingress['kind']>(['local', ...kinds])
  return { name: `ingress:${[...set].join('|')}`, allows: (message) => set.has(message.local.ingress.kind) }
}

/**
 * A connection's sending side: local messages, replies going back out the connection they came
 * in on, and messages an explicit forwarding service took responsibility for. Anything else from
 * the network would turn the node into a relay between its peers.
 */
export function connectionEgress(connection: string): IncomingAccessControl {
  return {
    name: `egress:${connection}`,
    // A relay's answer to a client that reached it over plain TCP may be a passed-through frame;
    // the mark stays on this node and TCP ingress carries no identity to misuse.
    acceptsSealed: true,
    allows(message) {
      const ingress = message.local.ingress
      if (ingress.kind === 'local' || message.local.forwardedBy !== undefined) return true
      return ingress.kind === 'tcp' && ingress.connection === connection
    },
  }
}
