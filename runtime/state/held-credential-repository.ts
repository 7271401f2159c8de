/** The `held_credentials` table (migration 2): the latest credential per subject (ours) and issuer. */
import type { Database } from 'better-sqlite3'

export interface HeldCredentialRow {
  /** Identifier of the identity of this state folder the credential is about. */
  readonly subject: string
  readonly issuer: string
  /** The presentation bytes, exactly as received. */
  readonly presentation: Uint8Array
  /** The credential's window, Unix seconds. */
  readonly validFrom: number
  readonly validUntil: number
  /** Unix ms. */
  readonly storedAt: number
}

export interface HeldCredentialRepository {
  /** Inserts or replaces the credential of (subject, issuer). */
  put(row: HeldCredentialRow): void
  get(subject: string, issuer: string): HeldCredentialRow | undefined
  /** Every held credential (of one subject when given), by subject then issuer. */
  list(subject?: string): HeldCredentialRow[]
  delete(subject: string, issuer: string): boolean
}

interface RawHeldCredentialRow {
  subject: string
  issuer: string
  presentation: Buffer
  valid_from: number
  valid_until: number
  stored_at: number
}

export function createHeldCredentialRepository(db: Database): HeldCredentialRepository {
  const upsert = db.prepare(
    `INSERT INTO held_credentials (subject, issuer, presentation, valid_from, valid_until, stored_at)
     VALUES (@subject, @issuer, @presentation, @validFrom, @validUntil, @storedAt)
     ON CONFLICT (subject, issuer) DO UPDATE SET presentation = excluded.presentation,
       valid_from = excluded.valid_from, valid_until = excluded.valid_until, stored_at = excluded.stored_at`,
  )
  const select = db.prepare('SELECT * FROM held_credentials WHERE subject = ? AND issuer = ?')
  const selectAll = db.prepare('SELECT * FROM held_credentials ORDER BY subject, issuer')
  const selectOf = db.prepare('SELECT * FROM held_credentials WHERE subject = ? ORDER BY issuer')
  const remove = db.prepare('DELETE FROM held_credentials WHERE subject = ? AND issuer = ?')
  return {
    put: (row) => void upsert.run(row),
    get(subject, issuer) {
      const raw = select.get(subject, issuer) as RawHeldCredentialRow | undefined
      return raw === undefined ? undefined : toRow(raw)
    },
    list: (subject) =>
      ((subject === undefined ? selectAll.all() : selectOf.all(subject)) as RawHeldCredentialRow[]).map(toRow),
    delete: (subject, issuer) => remove.run(subject, issuer).changes > 0,
  }
}

function toRow(raw: RawHeldCredentialRow): HeldCredentialRow {
  return {
    subject: raw.subject,
    issuer: raw.issuer,
    presentation: new Uint8Array(raw.presentation),
    validFrom: raw.valid_from,
    validUntil: raw.valid_until,
    storedAt: raw.stored_at,
  }
}
