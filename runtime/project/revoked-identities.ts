/**
 * The identities a node refuses because its project's authority revoked them (DESIGN §6, §12):
 * one in-memory set per node, filled from the persisted entries when the node starts (so it
 * holds after a restart and while the project is unreachable) and by the revocation session as
 * entries arrive — or, on the project node, by the authority itself. Everything that admits a
 * peer asks it: the identity material of every channel (handshakes and re-checks) and portal
 * access. Adding an identifier first tells the node's resources (outlets and inlets re-check
 * their portals, whose resets still travel through the open channel), then closes that
 * identity's secure channels on the node.
 */
import { closeSecureChannelsOf } from '../../workers/secure-channel/index.js'
import type { OckamNode } from '../node.js'

export type RevokedListener = (identifier: string) => void

export interface RevokedIdentities {
  has(identifier: string): boolean
  readonly size: number
  /** Records revoked identifiers and enforces each new one; returns the new ones. */
  revoke(identifiers: Iterable<string>): string[]
  /** Called for each newly revoked identifier, before its channels close; returns the unsubscribe function. */
  onRevoked(listener: RevokedListener): () => void
  /** Forgets every identifier (the folder's project changed). */
  clear(): void
}

const perNode = new WeakMap<OckamNode, RevokedIdentities>()

/** The node's set (created empty on first use). */
export function revokedIdentities(node: OckamNode): RevokedIdentities {
  let set = perNode.get(node)
  if (set === undefined) {
    set = createRevokedIdentities(node)
    perNode.set(node, set)
  }
  return set
}

function createRevokedIdentities(node: OckamNode): RevokedIdentities {
  const revoked = new Set<string>()
  const listeners = new Set<RevokedListener>()
  return {
    has: (identifier) => revoked.has(identifier),
    get size() {
      return revoked.size
    },
    revoke(identifiers) {
      const added: string[] = []
      for (const identifier of identifiers) {
        if (revoked.has(identifier)) continue
        revoked.add(identifier)
        added.push(identifier)
      }
      for (const identifier of added) {
        for (const listener of [...listeners]) {
          try {
            listener(identifier)
          } catch (error) {
            node.log.warn({ err: error, identifier }, 'a revocation listener failed')
          }
        }
        const closed = closeSecureChannelsOf(node, identifier, 'revoked by the project authority')
        node.counters.inc('project.revocations.enforced')
        node.log.info(
          { event: 'revocation.enforced', identifier, channelsClosed: closed },
          `revoked ${identifier}: closed ${closed} secure channel(s)`,
        )
      }
      return added
    },
    onRevoked(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    clear: () => revoked.clear(),
  }
}

/** What the project node needs of its authority to refuse the identities it revoked. */
export interface RevocationSource {
  entriesSince(seq: number, limit?: number): { readonly entries: readonly { seq: number; subject: string }[] }
  onRevocation(listener: (entry: { subject: string }) => void): () => void
}

/**
 * On the project node: fills the node's set from the authority's own entries and revokes each
 * member deleted from now on (its channels to the project node close at once: relay
 * registrations, api channels). Returns the unsubscribe function.
 */
export function enforceAuthorityRevocations(node: OckamNode, authority: RevocationSource): () => void {
  const revoked = revokedIdentities(node)
  revoked.clear()
  const unsubscribe = authority.onRevocation((entry) => revoked.revoke([entry.subject]))
  for (let seq = 0; ; ) {
    const { entries } = authority.entriesSince(seq)
    const last = entries.at(-1)
    if (last === undefined) break
    revoked.revoke(entries.map((entry) => entry.subject))
    seq = last.seq
  }
  return unsubscribe
}
