/** The `authority_project` table (migration 4): the one project this state folder hosts. */
import type { Database } from 'better-sqlite3'
import { parseObjectJson } from './authority-json.js'

export interface AuthorityProjectRow {
  readonly name: string
  /** Identifier of the authority identity (one of this folder's identities). */
  readonly authority: string
  /** HOST:PORT that tickets carry. */
  readonly advertisedAddress: string
  readonly settings: Readonly<Record<string, unknown>>
  /** Unix ms. */
  readonly createdAt: number
}

export interface AuthorityProjectRepository {
  get(): AuthorityProjectRow | undefined
  /** Throws a primary-key constraint error when a project exists already. */
  insert(row: AuthorityProjectRow): void
  /** Replaces the settings; false when there is no project. */
  updateSettings(settings: Readonly<Record<string, unknown>>): boolean
}

interface RawProjectRow {
  name: string
  authority: string
  advertised_address: string
  settings: string
  created_at: number
}

export function createAuthorityProjectRepository(db: Database): AuthorityProjectRepository {
  const select = db.prepare('SELECT * FROM authority_project WHERE id = 1')
  const insert = db.prepare(
    `INSERT INTO authority_project (id, name, authority, advertised_address, settings, created_at)
     VALUES (1, @name, @authority, @advertisedAddress, @settings, @createdAt)`,
  )
  const update = db.prepare('UPDATE authority_project SET settings = ? WHERE id = 1')
  return {
    get() {
      const raw = select.get() as RawProjectRow | undefined
      if (raw === undefined) return undefined
      return {
        name: raw.name,
        authority: raw.authority,
        advertisedAddress: raw.advertised_address,
        settings: parseObjectJson(raw.settings, 'authority_project', 'settings column'),
        createdAt: raw.created_at,
      }
    },
    insert: (row) => void insert.run({ ...row, settings: JSON.stringify(row.settings) }),
    updateSettings: (settings) => update.run(JSON.stringify(settings)).changes > 0,
  }
}
