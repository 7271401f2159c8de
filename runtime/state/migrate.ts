/**
 * Brings a database up to the newest schema this binary knows. The applied versions are rows of
 * `schema_version`; each migration and its row commit together in one IMMEDIATE transaction,
 * which re-reads the version first, so two processes opening the same new database do not both
 * apply it. A database from a newer binary is refused before anything is written.
 */
import type { Database } from 'better-sqlite3'
import { OckamError } from '../errors.js'
import { MIGRATIONS, type Migration } from './migrations.js'

/** The schema version recorded in the database; 0 for a database without `schema_version`. */
export function readSchemaVersion(db: Database): number {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get()
  if (table === undefined) return 0
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_version').get() as { version: number | null }
  return row.version ?? 0
}

/** Applies pending migrations; returns the resulting schema version. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS, now = Date.now): number {
  checkList(migrations)
  const latest = migrations.at(-1)?.version ?? 0
  refuseNewer(readSchemaVersion(db), latest)

  for (const migration of migrations) {
    if (migration.version <= readSchemaVersion(db)) continue
    const apply = db.transaction(() => {
      const current = readSchemaVersion(db)
      refuseNewer(current, latest)
      if (migration.version <= current) return
      db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at INTEGER NOT NULL
      ) STRICT`)
      migration.up(db)
      db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        now(),
      )
    })
    try {
      apply.immediate()
    } catch (cause) {
      if (cause instanceof OckamError) throw cause
      throw new OckamError(
        'OCKAM_ERR_STATE_MIGRATION_FAILED',
        `state database migration ${migration.version} (${migration.name}) failed and was rolled back`,
        {
          cause,
          hint: 'the database is unchanged; report this with the message above',
          data: { version: migration.version, name: migration.name },
        },
      )
    }
  }
  return readSchemaVersion(db)
}

function refuseNewer(found: number, supported: number): void {
  if (found <= supported) return
  throw new OckamError(
    'OCKAM_ERR_STATE_SCHEMA_TOO_NEW',
    `the state database has schema version ${found}; this ockam-runtime knows up to ${supported}`,
    { hint: 'upgrade ockam-runtime (a newer version wrote this state folder)', data: { found, supported } },
  )
}

function checkList(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new OckamError('OCKAM_ERR_INTERNAL', `migration #${index} has version ${migration.version}`, {
        data: { expected: index + 1 },
      })
    }
  })
}
