/**
 * What a verifier remembers about identities so a rotation cannot be undone (DESIGN §12): the
 * longest verified history per identifier. A history that is a strict prefix of the known one
 * (an old key coming back) is a rollback; one that shares a prefix and then diverges (two
 * successors signed by one key) is a fork. Both are refused.
 */
import { OckamError } from '../../errors.js'
import { equalBytes } from '../bytes.js'
import { DEFAULT_MAX_KNOWN_IDENTITIES } from '../constants.js'
import type { VerifiedIdentity } from './types.js'

export type HistoryRelation = 'same' | 'extends' | 'rollback' | 'fork'

/** How `incoming` relates to `known` (both verified histories of one identifier). */
export function compareHistories(known: VerifiedIdentity, incoming: VerifiedIdentity): HistoryRelation {
  const shared = Math.min(known.changes.length, incoming.changes.length)
  for (let i = 0; i < shared; i++) {
    const a = known.changes[i]
    const b = incoming.changes[i]
    if (a === undefined || b === undefined || !equalBytes(a.hash, b.hash)) return 'fork'
  }
  if (incoming.changes.length === known.changes.length) return 'same'
  return incoming.changes.length > known.changes.length ? 'extends' : 'rollback'
}

/**
 * Decides what a store keeps when `incoming` arrives: the identity to store (the longer one),
 * or throws OCKAM_ERR_IDENTITY_ROLLBACK / OCKAM_ERR_IDENTITY_FORK. For any store backend.
 */
export function mergeVerifiedHistory(
  known: VerifiedIdentity | undefined,
  incoming: VerifiedIdentity,
): VerifiedIdentity {
  if (known === undefined) return incoming
  if (known.identifier !== incoming.identifier) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'histories of two different identifiers cannot be merged')
  }
  const relation = compareHistories(known, incoming)
  if (relation === 'same') return known
  if (relation === 'extends') return incoming
  const data = { identifier: incoming.identifier, known: known.changes.length, presented: incoming.changes.length }
  if (relation === 'rollback') {
    throw new OckamError(
      'OCKAM_ERR_IDENTITY_ROLLBACK',
      `${incoming.identifier} presented an older history than the one already verified`,
      {
        hint: 'the peer uses a key it has rotated away from; it must use its latest identity',
        data,
      },
    )
  }
  throw new OckamError(
    'OCKAM_ERR_IDENTITY_FORK',
    `${incoming.identifier} presented a history that diverges from the one already verified`,
    {
      hint: 'two different rotations were signed by one key: treat the identity as compromised',
      data,
    },
  )
}

export interface IdentityStore {
  get(identifier: string): VerifiedIdentity | undefined
  /**
   * Records a verified identity and returns the one now held (the longer history). Throws
   * OCKAM_ERR_IDENTITY_ROLLBACK or OCKAM_ERR_IDENTITY_FORK and keeps the known one.
   */
  accept(identity: VerifiedIdentity): VerifiedIdentity
}

export interface MemoryIdentityStoreOptions {
  /** Identifiers remembered before the least recently accepted is forgotten; default DEFAULT_MAX_KNOWN_IDENTITIES. */
  readonly maxEntries?: number
}

/** An in-memory IdentityStore, bounded; a persistent store implements the same with mergeVerifiedHistory. */
export function createMemoryIdentityStore(options: MemoryIdentityStoreOptions = {}): IdentityStore {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_KNOWN_IDENTITIES
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'maxEntries must be a positive integer')
  }
  // A Map iterates in insertion order: re-inserting on accept makes the first key the least recent.
  const known = new Map<string, VerifiedIdentity>()
  return {
    get: (identifier) => known.get(identifier),
    accept(identity) {
      const kept = mergeVerifiedHistory(known.get(identity.identifier), identity)
      known.delete(identity.identifier)
      known.set(identity.identifier, kept)
      if (known.size > maxEntries) {
        const oldest = known.keys().next()
        if (oldest.done !== true) known.delete(oldest.value)
      }
      return kept
    },
  }
}
