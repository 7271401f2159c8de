/**
 * The `authority_members` table (migration 4): members, their attributes (reserved ones
 * included) and the longest identity history each presented. Rows only; runtime/authority/
 * decides who may change what.
 */
import type { Database } from 'better-sqlite3'
import { attributesJson, parseAttributesJson } from './authority-json.js'

export interface MemberRow {
  readonly identifier: string
  readonly attributes: Readonly<Record<string, string>>
  /** The longest verified change history the member presented; undefined until it presents one. */
  readonly history: Uint8Array | undefined
  readonly addedBy: string
  /** Id of the ticket it enrolled with; undefined when added by an admin or enroller. */
  readonly enrolledWith: string | undefined
  /** Unix ms. */
  readonly addedAt: number
  readonly updatedAt: number
}

export interface MemberListOptions {
  /** Only identifiers after this one (paging). */
  readonly after?: string
  readonly limit: number
}

export interface MemberRepository {
  get(identifier: string): MemberRow | undefined
  /** Throws a primary-key constraint error when the identifier is a member already. */
  insert(row: MemberRow): void
  /** Replaces the attributes; false when not a member. */
  updateAttributes(identifier: string, attributes: Readonly<Record<string, string>>, now: number): boolean
  /** Replaces the history only if it is still `expected` (compare-and-set); false otherwise. */
  replaceHistory(identifier: string, expected: Uint8Array | undefined, history: Uint8Array, now: number): boolean
  delete(identifier: string): boolean
  /** By identifier. */
  list(options: MemberListOptions): MemberRow[]
  /** Members whose attribute `name` is `value` (how many admins are left). */
  countWithAttribute(name: string, value: string): number
}

interface RawMemberRow {
  identifier: string
  attributes: string
  history: Buffer | null
  added_by: string
  enrolled_with: string | null
  added_at: number
  updated_at: number
}

export function createMemberRepository(db: Database): MemberRepository {
  const select = db.prepare('SELECT * FROM authority_members WHERE identifier = ?')
  const insert = db.prepare(
    `INSERT INTO authority_members (identifier, attributes, history, added_by, enrolled_with, added_at, updated_at)
     VALUES (@identifier, @attributes, @history, @addedBy, @enrolledWith, @addedAt, @updatedAt)`,
  )
  const update = db.prepare('UPDATE authority_members SET attributes = ?, updated_at = ? WHERE identifier = ?')
  const setHistoryFromNull = db.prepare(
    'UPDATE authority_members SET history = ?, updated_at = ? WHERE identifier = ? AND history IS NULL',
  )
  const setHistoryFrom = db.prepare(
    'UPDATE authority_members SET history = ?, updated_at = ? WHERE identifier = ? AND history = ?',
  )
  const remove = db.prepare('DELETE FROM authority_members WHERE identifier = ?')
  const listFirst = db.prepare('SELECT * FROM authority_members ORDER BY identifier LIMIT ?')
  const listAfter = db.prepare('SELECT * FROM authority_members WHERE identifier > ? ORDER BY identifier LIMIT ?')
  const count = db
    .prepare('SELECT COUNT(*) FROM authority_members WHERE json_extract(attributes, ?) = ?')
    .pluck() as unknown as { get(path: string, value: string): number }
  return {
    get(identifier) {
      const raw = select.get(identifier) as RawMemberRow | undefined
      return raw === undefined ? undefined : toRow(raw)
    },
    insert(row) {
      insert.run({
        identifier: row.identifier,
        attributes: attributesJson(row.attributes),
        history: row.history === undefined ? null : row.history,
        addedBy: row.addedBy,
        enrolledWith: row.enrolledWith ?? null,
        addedAt: row.addedAt,
        updatedAt: row.updatedAt,
      })
    },
    updateAttributes: (identifier, attributes, now) =>
      update.run(attributesJson(attributes), now, identifier).changes > 0,
    replaceHistory(identifier, expected, history, now) {
      const result =
        expected === undefined
          ? setHistoryFromNull.run(history, now, identifier)
          : setHistoryFrom.run(history, now, identifier, expected)
      return result.changes > 0
    },
    delete: (identifier) => remove.run(identifier).changes > 0,
    list(options) {
      const raws = (
        options.after === undefined ? listFirst.all(options.limit) : listAfter.all(options.after, options.limit)
      ) as RawMemberRow[]
      return raws.map(toRow)
    },
    // A JSON path quotes the name, so any attribute name is looked up literally.
    countWithAttribute: (name, value) => count.get(`$.${JSON.stringify(name)}`, value),
  }
}

function toRow(raw: RawMemberRow): MemberRow {
  return {
    identifier: raw.identifier,
    attributes: parseAttributesJson(raw.attributes, 'authority_members'),
    history: raw.history === null ? undefined : new Uint8Array(raw.history),
    addedBy: raw.added_by,
    enrolledWith: raw.enrolled_with ?? undefined,
    addedAt: raw.added_at,
    updatedAt: raw.updated_at,
  }
}
