import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import Database from 'better-sqlite3'
import { isOckamError } from '../../../runtime/errors.js'
import { migrate, readSchemaVersion } from '../../../runtime/state/migrate.js'
import { MIGRATIONS, type Migration } from '../../../runtime/state/migrations.js'
import { openStateStore } from '../../../runtime/state/store.js'

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ockam-state-migrate-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'home')
}

const table = (version: number, name: string): Migration => ({
  version,
  name,
  up: (db) => db.exec(`CREATE TABLE ${name} (x INTEGER)`),
})

test('migrations are idempotent: reopening applies nothing and records each version once', (t) => {
  const dir = scratch(t)
  const first = openStateStore({ dir })
  const rows = first.db.prepare('SELECT version, name FROM schema_version').all()
  first.close()
  const second = openStateStore({ dir })
  t.after(() => second.close())
  assert.equal(second.schemaVersion, MIGRATIONS.length)
  assert.deepEqual(second.db.prepare('SELECT version, name FROM schema_version').all(), rows)
  assert.equal(migrate(second.db), MIGRATIONS.length)
  assert.equal(second.db.prepare('SELECT COUNT(*) FROM schema_version').pluck().get(), MIGRATIONS.length)
})

test('only pending migrations run, in order', () => {
  const db = new Database(':memory:')
  assert.equal(readSchemaVersion(db), 0)
  assert.equal(migrate(db, [table(1, 'a')]), 1)
  assert.equal(migrate(db, [table(1, 'a'), table(2, 'b'), table(3, 'c')]), 3)
  assert.deepEqual(db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all(), [1, 2, 3])
  db.close()
})

test('a failing migration is rolled back whole and the version stays where it was', () => {
  const db = new Database(':memory:')
  migrate(db, [table(1, 'a')])
  const broken: Migration = {
    version: 2,
    name: 'half done',
    up(inner) {
      inner.exec('CREATE TABLE half (x INTEGER)')
      inner.exec('INSERT INTO nowhere VALUES (1)')
    },
  }
  assert.throws(
    () => migrate(db, [table(1, 'a'), broken]),
    (error: unknown) => isOckamError(error, 'OCKAM_ERR_STATE_MIGRATION_FAILED') && error.data?.version === 2,
  )
  assert.equal(readSchemaVersion(db), 1)
  assert.equal(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'").pluck().get(), 0)
  db.close()
})

test('a database with a newer schema is refused with "upgrade ockam-runtime", and left unchanged', (t) => {
  const dir = scratch(t)
  const store = openStateStore({ dir })
  store.db.prepare("INSERT INTO schema_version (version, name, applied_at) VALUES (99, 'from the future', 0)").run()
  store.close()
  assert.throws(
    () => openStateStore({ dir }),
    (error: unknown) => {
      assert.ok(isOckamError(error, 'OCKAM_ERR_STATE_SCHEMA_TOO_NEW'))
      assert.match(error.hint ?? '', /upgrade ockam-runtime/)
      assert.deepEqual(error.data, { found: 99, supported: MIGRATIONS.length })
      return true
    },
  )
  const db = new Database(join(dir, 'state.sqlite3'), { readonly: true })
  t.after(() => db.close())
  assert.equal(readSchemaVersion(db), 99)
})

test('a migration list with a gap is a bug, caught before anything runs', () => {
  const db = new Database(':memory:')
  assert.throws(
    () => migrate(db, [table(1, 'a'), table(3, 'c')]),
    (error: unknown) => isOckamError(error, 'OCKAM_ERR_INTERNAL'),
  )
  assert.equal(readSchemaVersion(db), 0)
  db.close()
})
