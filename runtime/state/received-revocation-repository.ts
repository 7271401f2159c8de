/**
 * The `received_revocations` table (migration 4): revocation entries a subscriber received from
 * an authority, verified before they are stored, contiguous from seq 1 per authority.
 */
import type { Database } from 'better-sqlite3'

export interface ReceivedRevocationRow {
  readonly authority: string
  readonly seq: number
  readonly identifier: string
  /** Unix seconds, as signed. */
  readonly revokedAt: number
  /** The exact entry bytes received. */
  readonly entry: Uint8Array
  /** Unix ms. */
  readonly receivedAt: number
}

export interface ReceivedRevocationRepository {
  /** The highest stored seq of `authority`, 0 when none. */
  lastSeq(authority: string): number
  /** Throws a primary-key constraint error when (authority, seq) is stored already. */
  insert(row: ReceivedRevocationRow): void
  get(authority: string, seq: number): ReceivedRevocationRow | undefined
  isRevoked(authority: string, identifier: string): boolean
  /** Oldest first. */
  list(authority: string): ReceivedRevocationRow[]
}

interface RawReceivedRow {
  authority: string
  seq: number
  identifier: string
  revoked_at: number
  entry: Buffer
  received_at: number
}

export function createReceivedRevocationRepository(db: Database): ReceivedRevocationRepository {
  const last = db.prepare('SELECT COALESCE(MAX(seq), 0) FROM received_revocations WHERE authority = ?').pluck()
  const insert = db.prepare(
    `INSERT INTO received_revocations (authority, seq, identifier, revoked_at, entry, received_at)
     VALUES (@authority, @seq, @identifier, @revokedAt, @entry, @receivedAt)`,
  )
  const select = db.prepare('SELECT * FROM received_revocations WHERE authority = ? AND seq = ?')
  const revoked = db
    .prepare('SELECT 1 FROM received_revocations WHERE identifier = ? AND authority = ? LIMIT 1')
    .pluck()
  const list = db.prepare('SELECT * FROM received_revocations WHERE authority = ? ORDER BY seq')
  return {
    lastSeq: (authority) => last.get(authority) as number,
    insert: (row) => void insert.run(row),
    get(authority, seq) {
      const raw = select.get(authority, seq) as RawReceivedRow | undefined
      return raw === undefined ? undefined : toRow(raw)
    },
    isRevoked: (authority, identifier) => revoked.get(identifier, authority) !== undefined,
    list: (authority) => (list.all(authority) as RawReceivedRow[]).map(toRow),
  }
}

function toRow(raw: RawReceivedRow): ReceivedRevocationRow {
  return {
    authority: raw.authority,
    seq: raw.seq,
    identifier: raw.identifier,
    revokedAt: raw.revoked_at,
    entry: new Uint8Array(raw.entry),
    receivedAt: raw.received_at,
  }
}
