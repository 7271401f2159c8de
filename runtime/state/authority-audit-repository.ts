/** The `authority_audit` table (migration 4): an append-only log of who changed what. */
import type { Database } from 'better-sqlite3'
import { parseObjectJson } from './authority-json.js'

export interface AuditRow {
  readonly seq: number
  /** Identifier of who did it. */
  readonly actor: string
  /** e.g. `member.add`, `ticket.create`, `ticket.redeem`, `relay.claim`. */
  readonly action: string
  readonly details: Readonly<Record<string, unknown>>
  /** Unix ms. */
  readonly at: number
}

export interface AuditRepository {
  append(actor: string, action: string, details: Readonly<Record<string, unknown>>, at: number): number
  /** Entries with seq > `after` (default 0), oldest first, at most `limit`. */
  list(options: { readonly after?: number; readonly limit: number }): AuditRow[]
}

interface RawAuditRow {
  seq: number
  actor: string
  action: string
  details: string
  at: number
}

export function createAuditRepository(db: Database): AuditRepository {
  const insert = db.prepare('INSERT INTO authority_audit (actor, action, details, at) VALUES (?, ?, ?, ?)')
  const list = db.prepare('SELECT * FROM authority_audit WHERE seq > ? ORDER BY seq LIMIT ?')
  return {
    append: (actor, action, details, at) =>
      Number(insert.run(actor, action, JSON.stringify(details), at).lastInsertRowid),
    list: (options) =>
      (list.all(options.after ?? 0, options.limit) as RawAuditRow[]).map((raw) => ({
        seq: raw.seq,
        actor: raw.actor,
        action: raw.action,
        details: parseObjectJson(raw.details, 'authority_audit', 'details column'),
        at: raw.at,
      })),
  }
}
