/**
 * The subscriber side of revocations (DESIGN §6, §12): the entries a node received from its
 * project's authority, verified and persisted in its own state database, so a revoked identity
 * stays refused after a restart and while the project is unreachable. Entries are accepted in
 * sequence only: a gap means entries were missed, and the subscriber resynchronizes from
 * `lastSeq()`.
 */
import type { Database } from 'better-sqlite3'
import { OckamError } from '../errors.js'
import { createReceivedRevocationRepository } from '../state/received-revocation-repository.js'
import { immediate } from '../state/sqlite.js'
import { equalBytes } from '../trust/bytes.js'
import { createNativeCryptoProvider } from '../trust/crypto/native.js'
import type { CryptoProvider } from '../trust/crypto/provider.js'
import { mergeVerifiedHistory } from '../trust/identity/store.js'
import type { VerifiedIdentity } from '../trust/identity/types.js'
import { type RevocationEntry, verifyRevocationEntry } from './revocation-entry.js'

export interface RevocationStoreOptions {
  /** The state database, migrated to version 4 or later. */
  readonly db: Database
  /** The one authority this node trusts (DESIGN §12); entries of any other are refused. */
  readonly authority: VerifiedIdentity
  readonly crypto?: CryptoProvider
  /** Clock, Unix ms; default Date.now. */
  readonly now?: () => number
}

export type RevokedListener = (entry: RevocationEntry) => void

export interface RevocationStore {
  /** Identifier of the trusted authority. */
  readonly authority: string
  /** The highest stored seq; 0 before any. Subscribe from here. */
  lastSeq(): number
  /**
   * Verifies and stores entries, in order. An entry already stored with the same bytes is
   * skipped (overlapping resynchronizations are harmless). Returns the entries newly stored.
   * On the first entry refused (OCKAM_ERR_REVOCATION_SEQ_GAP, _CONFLICT, _BAD_SIGNATURE,
   * _WRONG_AUTHORITY, _UNKNOWN_SIGNER, _INVALID, OCKAM_ERR_CBOR_*), the entries before it stay
   * stored (listeners have been told) and the error is thrown with `data.stored` = their count.
   */
  accept(entries: readonly Uint8Array[]): RevocationEntry[]
  isRevoked(identifier: string): boolean
  /** Every stored entry, oldest first. */
  list(): RevocationEntry[]
  /** Called after commit for each newly stored entry; returns the unsubscribe function. */
  onRevoked(listener: RevokedListener): () => void
  /**
   * Trusts a newer history of the same authority (after it rotated); a rollback or fork is
   * refused (OCKAM_ERR_IDENTITY_ROLLBACK / _FORK).
   */
  updateAuthority(identity: VerifiedIdentity): void
}

export function createRevocationStore(options: RevocationStoreOptions): RevocationStore {
  const { db } = options
  const crypto = options.crypto ?? createNativeCryptoProvider()
  const now = options.now ?? Date.now
  const rows = createReceivedRevocationRepository(db)
  let authority = options.authority
  const listeners = new Set<RevokedListener>()

  const toEntry = (row: { entry: Uint8Array }): RevocationEntry => verifyRevocationEntry(row.entry, authority, crypto)

  return {
    get authority() {
      return authority.identifier
    },
    lastSeq: () => rows.lastSeq(authority.identifier),
    accept(entries) {
      let failure: unknown
      const added = immediate(db, () => {
        const out: RevocationEntry[] = []
        let last = rows.lastSeq(authority.identifier)
        for (const bytes of entries) {
          try {
            const entry = verifyRevocationEntry(bytes, authority, crypto)
            if (entry.seq <= last) {
              const stored = rows.get(authority.identifier, entry.seq)
              if (stored !== undefined && equalBytes(stored.entry, entry.bytes)) continue
              throw new OckamError(
                'OCKAM_ERR_REVOCATION_CONFLICT',
                `revocation entry ${entry.seq} differs from the one stored with that number`,
                {
                  hint: 'the authority signed two entries with one number: its key may be compromised; report it',
                  data: { seq: entry.seq },
                },
              )
            }
            if (entry.seq !== last + 1) {
              throw new OckamError(
                'OCKAM_ERR_REVOCATION_SEQ_GAP',
                `revocation entry ${entry.seq} arrived after ${last}: entries were missed`,
                { hint: `resynchronize from ${last}`, data: { expected: last + 1, got: entry.seq } },
              )
            }
            rows.insert({
              authority: authority.identifier,
              seq: entry.seq,
              identifier: entry.subject,
              revokedAt: entry.revokedAt,
              entry: entry.bytes,
              receivedAt: now(),
            })
            last = entry.seq
            out.push(entry)
          } catch (error) {
            failure = error
            break
          }
        }
        return out
      })
      for (const entry of added) for (const listener of listeners) listener(entry)
      if (failure !== undefined) {
        if (failure instanceof OckamError) {
          throw new OckamError(failure.code, failure.message, {
            cause: failure.cause,
            ...(failure.hint === undefined ? {} : { hint: failure.hint }),
            data: { ...failure.data, stored: added.length },
          })
        }
        throw failure
      }
      return added
    },
    isRevoked: (identifier) => rows.isRevoked(authority.identifier, identifier),
    list: () => rows.list(authority.identifier).map(toEntry),
    onRevoked(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    updateAuthority(identity) {
      authority = mergeVerifiedHistory(authority, identity)
    },
  }
}
