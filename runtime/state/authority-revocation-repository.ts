/**
 * The `authority_revocations` table (migration 4): the signed revocation entries this authority
 * published, by sequence number from 1 without gaps.
 */
import type { Database } from 'better-sqlite3'

export interface PublishedRevocationRow {
  readonly seq: number
  readonly identifier: string
  /** Unix seconds, as signed. */
  readonly revokedAt: number
  /** The exact signed entry bytes. */
  readonly entry: Uint8Array
}

export interface PublishedRevocationRepository {
  /** The highest sequence number, 0 when nothing was revoked. */
  latestSeq(): number
  /** Throws a constraint error on a taken seq or an identifier revoked already. */
  insert(row: PublishedRevocationRow): void
  /** Entries with seq > `seq`, oldest first, at most `limit`. */
  since(seq: number, limit: number): PublishedRevocationRow[]
  get(identifier: string): PublishedRevocationRow | undefined
}

interface RawRevocationRow {
  seq: number
  identifier: string
  revoked_at: number
  entry: Buffer
}

export function createPublishedRevocationRepository(db: Database): PublishedRevocationRepository {
  const latest = db.prepare('SELECT COALESCE(MAX(seq), 0) FROM authority_revocations').pluck()
  const insert = db.prepare(
    'INSERT INTO authority_revocations (seq, identifier, revoked_at, entry) VALUES (@seq, @identifier, @revokedAt, @entry)',
  )
  const since = db.prepare('SELECT * FROM authority_revocations WHERE seq > ? ORDER BY seq LIMIT ?')
  const select = db.prepare('SELECT * FROM authority_revocations WHERE identifier = ?')
  return {
    latestSeq: () => latest.get() as number,
    insert: (row) => void insert.run(row),
    since: (seq, limit) => (since.all(seq, limit) as RawRevocationRow[]).map(toRow),
    get(identifier) {
      const raw = select.get(identifier) as RawRevocationRow | undefined
      return raw === undefined ? undefined : toRow(raw)
    },
  }
}

function toRow(raw: RawRevocationRow): PublishedRevocationRow {
  return { seq: raw.seq, identifier: raw.identifier, revokedAt: raw.revoked_at, entry: new Uint8Array(raw.entry) }
}
