/** The `identity_purpose_keys` table (migration 2): one current purpose key per identity and purpose. */
import type { Database } from 'better-sqlite3'
import type { PurposeKeyType } from '../trust/identity/types.js'
import { immediate } from './sqlite.js'

export interface PurposeKeyRow {
  /** The identity that attested the key. */
  readonly identifier: string
  readonly purpose: PurposeKeyType
  /** Vault handle of the purpose key (Ed25519 for credential signing, X25519 for secure channels). */
  readonly keyHandle: string
  /** The attestation bytes, exactly as signed. */
  readonly attestation: Uint8Array
  /** Attested window, Unix seconds. */
  readonly validFrom: number
  readonly validUntil: number
  /** Unix ms. */
  readonly createdAt: number
}

export interface PurposeKeyRepository {
  get(identifier: string, purpose: PurposeKeyType): PurposeKeyRow | undefined
  list(identifier: string): PurposeKeyRow[]
  /** Inserts or replaces the row for (identifier, purpose); returns the replaced row's key handle. */
  put(row: PurposeKeyRow): string | undefined
  /** Deletes every purpose key row of `identifier`; returns their key handles. */
  deleteAll(identifier: string): string[]
}

interface RawPurposeKeyRow {
  identifier: string
  purpose: PurposeKeyType
  key_handle: string
  attestation: Buffer
  valid_from: number
  valid_until: number
  created_at: number
}

export function createPurposeKeyRepository(db: Database): PurposeKeyRepository {
  const select = db.prepare('SELECT * FROM identity_purpose_keys WHERE identifier = ? AND purpose = ?')
  const selectAll = db.prepare('SELECT * FROM identity_purpose_keys WHERE identifier = ? ORDER BY purpose')
  const upsert = db.prepare(
    `INSERT INTO identity_purpose_keys (identifier, purpose, key_handle, attestation, valid_from, valid_until, created_at)
     VALUES (@identifier, @purpose, @keyHandle, @attestation, @validFrom, @validUntil, @createdAt)
     ON CONFLICT (identifier, purpose) DO UPDATE SET key_handle = excluded.key_handle,
       attestation = excluded.attestation, valid_from = excluded.valid_from,
       valid_until = excluded.valid_until, created_at = excluded.created_at`,
  )
  const selectHandles = db.prepare('SELECT key_handle FROM identity_purpose_keys WHERE identifier = ?').pluck()
  const deleteAll = db.prepare('DELETE FROM identity_purpose_keys WHERE identifier = ?')

  return {
    get(identifier, purpose) {
      const raw = select.get(identifier, purpose) as RawPurposeKeyRow | undefined
      return raw === undefined ? undefined : toRow(raw)
    },
    list: (identifier) => (selectAll.all(identifier) as RawPurposeKeyRow[]).map(toRow),
    put(row) {
      return immediate(db, () => {
        const previous = select.get(row.identifier, row.purpose) as RawPurposeKeyRow | undefined
        upsert.run(row)
        return previous?.key_handle
      })
    },
    deleteAll(identifier) {
      return immediate(db, () => {
        const handles = selectHandles.all(identifier) as string[]
        deleteAll.run(identifier)
        return handles
      })
    },
  }
}

function toRow(raw: RawPurposeKeyRow): PurposeKeyRow {
  return {
    identifier: raw.identifier,
    purpose: raw.purpose,
    keyHandle: raw.key_handle,
    attestation: new Uint8Array(raw.attestation),
    validFrom: raw.valid_from,
    validUntil: raw.valid_until,
    createdAt: raw.created_at,
  }
}
