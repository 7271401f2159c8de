/**
 * The node's state database: one SQLite file in the state folder, opened with the settings every
 * repository relies on. WAL lets readers run beside the one writer; synchronous=FULL makes a
 * commit durable before it returns (authority tables live here; the cost is one fsync per
 * commit, and writes are rare: no writes on data paths); foreign keys on; secure_delete so a
 * deleted key's bytes are overwritten in the database pages (not in older WAL frames until the
 * next checkpoint).
 */
import { closeSync, openSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { OckamError } from '../errors.js'
import { DEFAULT_STATE_BUSY_TIMEOUT_MS, STATE_DB_FILE_MODE, STATE_DB_FILE_NAME } from './constants.js'
import { migrate } from './migrate.js'
import type { Migration } from './migrations.js'
import { ensureStateDir, lstatOrUndefined, verifyOwnerAndMode } from './state-dir.js'

export interface OpenStateStoreOptions {
  /** The state folder; created (0700) if missing. See resolveStateDir(). */
  readonly dir: string
  readonly busyTimeoutMs?: number
  /** For tests of the migration machinery; production uses MIGRATIONS. */
  readonly migrations?: readonly Migration[]
}

export interface StateStore {
  /** Absolute path of the state folder. */
  readonly dir: string
  /** Absolute path of the database file. */
  readonly path: string
  readonly schemaVersion: number
  /** For repositories (vault keys, identities, …); application code goes through them. */
  readonly db: Database.Database
  /** Idempotent; checkpoints the WAL when this is the last connection. */
  close(): void
}

export function openStateStore(options: OpenStateStoreOptions): StateStore {
  const dir = ensureStateDir(options.dir)
  const path = join(dir, STATE_DB_FILE_NAME)
  prepareDatabaseFile(path)

  let db: Database.Database
  try {
    db = new Database(path, { timeout: options.busyTimeoutMs ?? DEFAULT_STATE_BUSY_TIMEOUT_MS })
  } catch (cause) {
    throw openFailed(path, cause)
  }
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true })
    if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, not wal`)
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    db.pragma('secure_delete = ON')
    const schemaVersion = migrate(db, options.migrations)
    let open = true
    return {
      dir,
      path,
      schemaVersion,
      db,
      close() {
        if (!open) return
        open = false
        db.close()
      },
    }
  } catch (cause) {
    db.close()
    if (cause instanceof OckamError) throw cause
    throw openFailed(path, cause)
  }
}

/**
 * Creates the file owner-only before SQLite sees it (SQLite would use 0644 minus umask, and
 * gives -wal/-shm the database file's mode), refuses a symlink or a foreign owner, and narrows
 * a wider mode (the folder is already 0700, so nobody else could have opened it).
 */
function prepareDatabaseFile(path: string): void {
  let stats = lstatOrUndefined(path, 'state database')
  if (stats === undefined) {
    try {
      closeSync(openSync(path, 'wx', STATE_DB_FILE_MODE))
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw openFailed(path, cause)
    }
    stats = lstatOrUndefined(path, 'state database')
    if (stats === undefined) throw openFailed(path, new Error('the file vanished after it was created'))
  }
  if (stats.isSymbolicLink()) {
    throw new OckamError('OCKAM_ERR_STATE_DIR_SYMLINK', `the state database ${path} is a symbolic link`, {
      hint: 'replace the link with the database file itself',
      data: { path },
    })
  }
  if (!stats.isFile()) {
    throw new OckamError('OCKAM_ERR_STATE_DB_OPEN_FAILED', `the state database ${path} is not a regular file`, {
      data: { path },
    })
  }
  verifyOwnerAndMode(path, stats, 'state database', STATE_DB_FILE_MODE)
}

function openFailed(path: string, cause: unknown): OckamError {
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new OckamError('OCKAM_ERR_STATE_DB_OPEN_FAILED', `cannot open the state database ${path}: ${reason}`, {
    cause,
    hint: 'check the file is a SQLite database owned by you; move it aside to start from an empty state',
    data: { path },
  })
}
