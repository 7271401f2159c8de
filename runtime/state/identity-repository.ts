/**
 * The `identities` table (migration 2): named identities of this state folder. Rows only; the
 * identities service (runtime/trust/identities/) verifies histories and talks to the vault.
 */
import type { Database } from 'better-sqlite3'
import { immediate } from './sqlite.js'

export interface IdentityRow {
  readonly name: string
  /** `I` + 64 hex digits. */
  readonly identifier: string
  /** The change-history bytes, exactly as created (they are what is verified and exported). */
  readonly history: Uint8Array
  /** Vault handle of the current primary key. */
  readonly keyHandle: string
  readonly isDefault: boolean
  /** Unix ms. */
  readonly createdAt: number
  /** Unix ms of the last rotation (= createdAt before any). */
  readonly updatedAt: number
}

export type NewIdentityRow = Omit<IdentityRow, 'isDefault' | 'updatedAt'>

export interface IdentityRepository {
  /**
   * Inserts a row in one transaction; it becomes the default when no identity is the default
   * yet. Returns the row as stored. A taken name or identifier throws better-sqlite3's
   * constraint error (see constraintKind).
   */
  insert(row: NewIdentityRow): IdentityRow
  get(name: string): IdentityRow | undefined
  getByIdentifier(identifier: string): IdentityRow | undefined
  getDefault(): IdentityRow | undefined
  /** Every row, by creation time then name. */
  list(): IdentityRow[]
  /**
   * Replaces the history and key handle of `name` if its stored history is still `expected`
   * (compare-and-swap: a concurrent rotation makes this return false and change nothing).
   */
  replaceHistory(name: string, expected: Uint8Array, history: Uint8Array, keyHandle: string, updatedAt: number): boolean
  /** Makes `name` the only default; false (and nothing changed) when there is no such row. */
  setDefault(name: string): boolean
}

interface RawIdentityRow {
  name: string
  identifier: string
  history: Buffer
  key_handle: string
  is_default: number
  created_at: number
  updated_at: number
}

export function createIdentityRepository(db: Database): IdentityRepository {
  const insert = db.prepare(
    `INSERT INTO identities (name, identifier, history, key_handle, is_default, created_at, updated_at)
     VALUES (@name, @identifier, @history, @keyHandle, @isDefault, @createdAt, @createdAt)`,
  )
  const selectByName = db.prepare('SELECT * FROM identities WHERE name = ?')
  const selectByIdentifier = db.prepare('SELECT * FROM identities WHERE identifier = ?')
  const selectDefault = db.prepare('SELECT * FROM identities WHERE is_default = 1')
  const selectAll = db.prepare('SELECT * FROM identities ORDER BY created_at, name')
  const replace = db.prepare(
    `UPDATE identities SET history = @history, key_handle = @keyHandle, updated_at = @updatedAt
     WHERE name = @name AND history = @expected`,
  )
  const clearDefault = db.prepare('UPDATE identities SET is_default = 0 WHERE is_default = 1')
  const markDefault = db.prepare('UPDATE identities SET is_default = 1 WHERE name = ?')

  const one = (row: unknown): IdentityRow | undefined => (row === undefined ? undefined : toRow(row as RawIdentityRow))

  return {
    insert(row) {
      return immediate(db, () => {
        const isDefault = selectDefault.get() === undefined
        insert.run({ ...row, history: row.history, isDefault: isDefault ? 1 : 0 })
        return { ...row, history: new Uint8Array(row.history), isDefault, updatedAt: row.createdAt }
      })
    },
    get: (name) => one(selectByName.get(name)),
    getByIdentifier: (identifier) => one(selectByIdentifier.get(identifier)),
    getDefault: () => one(selectDefault.get()),
    list: () => (selectAll.all() as RawIdentityRow[]).map(toRow),
    replaceHistory: (name, expected, history, keyHandle, updatedAt) =>
      replace.run({ name, expected, history, keyHandle, updatedAt }).changes === 1,
    setDefault(name) {
      return immediate(db, () => {
        if (selectByName.get(name) === undefined) return false
        // Two statements: the partial unique index allows one default at any moment.
        clearDefault.run()
        markDefault.run(name)
        return true
      })
    },
  }
}

function toRow(raw: RawIdentityRow): IdentityRow {
  return {
    name: raw.name,
    identifier: raw.identifier,
    history: new Uint8Array(raw.history),
    keyHandle: raw.key_handle,
    isDefault: raw.is_default === 1,
    createdAt: raw.created_at,
    updatedAt: raw.updated_at,
  }
}
