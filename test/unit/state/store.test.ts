import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, chownSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { isOckamError } from '../../../runtime/errors.js'
import { MIGRATIONS } from '../../../runtime/state/migrations.js'
import { openStateStore } from '../../../runtime/state/store.js'

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ockam-state-store-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'home')
}

test('a new store: folder 0700, database, -wal and -shm 0600, WAL, FULL sync, foreign keys, schema applied', (t) => {
  const before = process.umask(0o022)
  t.after(() => process.umask(before))
  const store = openStateStore({ dir: scratch(t) })
  t.after(() => store.close())
  store.db.prepare("INSERT INTO vault_settings (id, protection, created_at) VALUES (1, 'none', 0)").run()
  assert.equal(statSync(store.dir).mode & 0o777, 0o700)
  for (const file of [store.path, `${store.path}-wal`, `${store.path}-shm`]) {
    assert.equal(statSync(file).mode & 0o777, 0o600, file)
  }
  assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal')
  assert.equal(store.db.pragma('synchronous', { simple: true }), 2, 'FULL')
  assert.equal(store.db.pragma('foreign_keys', { simple: true }), 1)
  assert.ok((store.db.pragma('busy_timeout', { simple: true }) as number) > 0)
  assert.equal(store.schemaVersion, MIGRATIONS.length)
  const tables = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all()
  // Other migrations add their tables; these must be there.
  for (const table of ['schema_version', 'vault_keys', 'vault_settings']) assert.ok(tables.includes(table), table)
})

test('an existing database file with a wider mode is narrowed to 0600', (t) => {
  const dir = scratch(t)
  openStateStore({ dir }).close()
  const path = join(dir, 'state.sqlite3')
  chmodSync(path, 0o644)
  openStateStore({ dir }).close()
  assert.equal(statSync(path).mode & 0o777, 0o600)
})

test('a symlinked or foreign-owned database file is refused (owner case needs root: CI runs as root)', (t) => {
  const dir = scratch(t)
  openStateStore({ dir }).close()
  const path = join(dir, 'state.sqlite3')
  rmSync(path)
  const elsewhere = join(dir, '..', 'elsewhere.sqlite3')
  writeFileSync(elsewhere, '')
  symlinkSync(elsewhere, path)
  assert.throws(
    () => openStateStore({ dir }),
    (error: unknown) => isOckamError(error, 'OCKAM_ERR_STATE_DIR_SYMLINK'),
  )
  rmSync(path)

  assert.equal(process.getuid?.(), 0, 'this half needs root to chown a file to uid 65534; CI runs it as root')
  openStateStore({ dir }).close()
  chownSync(path, 65534, 65534)
  assert.throws(
    () => openStateStore({ dir }),
    (error: unknown) => isOckamError(error, 'OCKAM_ERR_STATE_DIR_OWNER'),
  )
})

test('a file that is not a SQLite database gives a typed error', (t) => {
  const dir = scratch(t)
  openStateStore({ dir }).close()
  writeFileSync(join(dir, 'state.sqlite3'), Buffer.alloc(4096, 0x41))
  assert.throws(
    () => openStateStore({ dir }),
    (error: unknown) => isOckamError(error, 'OCKAM_ERR_STATE_DB_OPEN_FAILED') && /move it aside/.test(error.hint ?? ''),
  )
})

test('a committed write survives the process being killed right after the commit', (t) => {
  const dir = scratch(t)
  const script = join(dir, '..', 'kill.mjs')
  writeFileSync(
    script,
    `import { openStateStore } from ${JSON.stringify(new URL('../../../runtime/state/store.js', import.meta.url).href)}
const store = openStateStore({ dir: ${JSON.stringify(dir)} })
store.db.prepare("INSERT INTO vault_settings (id, protection, created_at) VALUES (1, 'none', 7)").run()
process.kill(process.pid, 'SIGKILL')
`,
  )
  const child = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 8000 })
  assert.equal(child.signal, 'SIGKILL', child.stderr)
  const store = openStateStore({ dir })
  t.after(() => store.close())
  assert.equal(store.db.prepare('SELECT created_at FROM vault_settings').pluck().get(), 7)
})
