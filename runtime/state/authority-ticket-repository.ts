/**
 * The `authority_tickets` table (migration 4): enrollment tickets by public id, with only the
 * SHA-256 of each one-time code. `redeem` is the one atomic UPDATE that spends a use.
 */
import type { Database } from 'better-sqlite3'
import { attributesJson, parseAttributesJson } from './authority-json.js'

export interface TicketRow {
  /** 16 lowercase hex characters. */
  readonly id: string
  /** SHA-256 of the one-time code. */
  readonly codeHash: Uint8Array
  /** Granted to whoever redeems it (reserved names never appear here). */
  readonly attributes: Readonly<Record<string, string>>
  /** Relay name granted as the `relay` attribute, or undefined. */
  readonly relay: string | undefined
  readonly usageCount: number
  readonly usesLeft: number
  /** Unix ms. */
  readonly expiresAt: number
  /** Redeemers become enrollers. */
  readonly enroller: boolean
  readonly revoked: boolean
  readonly createdBy: string
  /** Unix ms. */
  readonly createdAt: number
}

export interface TicketRepository {
  /** Throws a constraint error on a duplicate id or code hash. */
  insert(row: TicketRow): void
  get(id: string): TicketRow | undefined
  getByCodeHash(codeHash: Uint8Array): TicketRow | undefined
  /** Newest first; only those created by `createdBy` when given. */
  list(options: { readonly createdBy?: string; readonly limit: number }): TicketRow[]
  /** Marks the ticket revoked; false when there is no such ticket. */
  revoke(id: string): boolean
  /**
   * Spends one use of the ticket whose code hashes to `codeHash`, if it is not revoked, has uses
   * left and expires after `now`: one UPDATE, so concurrent redemptions, in this process or
   * another one on the same file, can never spend more uses than the ticket has. Returns the
   * ticket after the update, or undefined when nothing was spent.
   */
  redeem(codeHash: Uint8Array, now: number): TicketRow | undefined
}

interface RawTicketRow {
  id: string
  code_hash: Buffer
  attributes: string
  relay: string | null
  usage_count: number
  uses_left: number
  expires_at: number
  enroller: number
  revoked: number
  created_by: string
  created_at: number
}

export function createTicketRepository(db: Database): TicketRepository {
  const insert = db.prepare(
    `INSERT INTO authority_tickets
       (id, code_hash, attributes, relay, usage_count, uses_left, expires_at, enroller, revoked, created_by, created_at)
     VALUES (@id, @codeHash, @attributes, @relay, @usageCount, @usesLeft, @expiresAt, @enroller, @revoked, @createdBy,
       @createdAt)`,
  )
  const select = db.prepare('SELECT * FROM authority_tickets WHERE id = ?')
  const selectByHash = db.prepare('SELECT * FROM authority_tickets WHERE code_hash = ?')
  const listAll = db.prepare('SELECT * FROM authority_tickets ORDER BY created_at DESC, id LIMIT ?')
  const listBy = db.prepare('SELECT * FROM authority_tickets WHERE created_by = ? ORDER BY created_at DESC, id LIMIT ?')
  const revoke = db.prepare('UPDATE authority_tickets SET revoked = 1 WHERE id = ?')
  const redeem = db.prepare(
    `UPDATE authority_tickets SET uses_left = uses_left - 1
     WHERE code_hash = ? AND revoked = 0 AND uses_left > 0 AND expires_at > ?
     RETURNING *`,
  )
  return {
    insert(row) {
      insert.run({
        ...row,
        attributes: attributesJson(row.attributes),
        relay: row.relay ?? null,
        enroller: row.enroller ? 1 : 0,
        revoked: row.revoked ? 1 : 0,
      })
    },
    get(id) {
      const raw = select.get(id) as RawTicketRow | undefined
      return raw === undefined ? undefined : toRow(raw)
    },
    getByCodeHash(codeHash) {
      const raw = selectByHash.get(codeHash) as RawTicketRow | undefined
      return raw === undefined ? undefined : toRow(raw)
    },
    list(options) {
      const raws = (
        options.createdBy === undefined ? listAll.all(options.limit) : listBy.all(options.createdBy, options.limit)
      ) as RawTicketRow[]
      return raws.map(toRow)
    },
    revoke: (id) => revoke.run(id).changes > 0,
    redeem(codeHash, now) {
      const raw = redeem.get(codeHash, now) as RawTicketRow | undefined
      return raw === undefined ? undefined : toRow(raw)
    },
  }
}

function toRow(raw: RawTicketRow): TicketRow {
  return {
    id: raw.id,
    codeHash: new Uint8Array(raw.code_hash),
    attributes: parseAttributesJson(raw.attributes, 'authority_tickets'),
    relay: raw.relay ?? undefined,
    usageCount: raw.usage_count,
    usesLeft: raw.uses_left,
    expiresAt: raw.expires_at,
    enroller: raw.enroller === 1,
    revoked: raw.revoked === 1,
    createdBy: raw.created_by,
    createdAt: raw.created_at,
  }
}
