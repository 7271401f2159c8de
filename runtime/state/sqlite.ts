/**
 * What every repository needs from better-sqlite3 beyond prepared statements: one way to run a
 * multi-statement write atomically, and a way to tell which constraint a failed write hit.
 */
import type { Database } from 'better-sqlite3'

/**
 * Runs `fn` in one IMMEDIATE transaction (the write lock is taken at BEGIN, so a read-then-write
 * cannot be overtaken by another process). Inside another transaction it becomes a savepoint.
 */
export function immediate<R>(db: Database, fn: () => R): R {
  return db.transaction(fn).immediate()
}

export type ConstraintKind = 'primary-key' | 'unique' | 'foreign-key' | 'check' | 'not-null'

const KINDS: Record<string, ConstraintKind> = {
  SQLITE_CONSTRAINT_PRIMARYKEY: 'primary-key',
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign-key',
  // What SQLite reports for ON DELETE RESTRICT (our schema has no triggers of its own).
  SQLITE_CONSTRAINT_TRIGGER: 'foreign-key',
  SQLITE_CONSTRAINT_CHECK: 'check',
  SQLITE_CONSTRAINT_NOTNULL: 'not-null',
}

/** The constraint a better-sqlite3 error reports, or undefined for any other error. */
export function constraintKind(error: unknown): ConstraintKind | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? KINDS[code] : undefined
}
