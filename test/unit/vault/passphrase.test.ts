import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { isOckamError, type OckamErrorCode } from '../../../runtime/errors.js'
import { DEFAULT_SCRYPT_LOG2_N } from '../../../runtime/trust/vault/constants.js'
import { createVault, type VaultMode } from '../../../runtime/trust/vault/create-vault.js'
import { resolvePassphrase } from '../../../runtime/trust/vault/passphrase.js'
import { FAST_KDF, scratchStateDir } from './helpers.js'

const MODES: readonly VaultMode[] = ['inline', 'thread']
const rejectsWith = (code: OckamErrorCode) => (error: unknown) => {
  assert.ok(isOckamError(error, code), `expected ${code}, got ${String(error)}`)
  return true
}

/** Hash of every file SQLite may have written; '-' for a file that does not exist. */
function fingerprint(stateDir: string): string[] {
  return ['state.sqlite3', 'state.sqlite3-wal', 'state.sqlite3-shm'].map((name) => {
    const path = join(stateDir, name)
    return existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : '-'
  })
}

for (const mode of MODES) {
  test(`${mode}: a wrong passphrase is detected up front with a typed error and changes no byte`, async (t) => {
    const stateDir = scratchStateDir(t)
    const vault = await createVault({ mode, stateDir, passphrase: 'right horse battery', env: {}, kdf: FAST_KDF })
    const key = await vault.generateKey('ed25519')
    await vault.close()
    const before = fingerprint(stateDir)
    await assert.rejects(
      createVault({ mode, stateDir, passphrase: 'wrong horse battery', env: {} }),
      (error: unknown) => {
        assert.ok(isOckamError(error, 'OCKAM_ERR_VAULT_PASSPHRASE_WRONG'))
        assert.match(error.hint ?? '', /OCKAM_RUNTIME_VAULT_PASSPHRASE/)
        return true
      },
    )
    assert.deepEqual(fingerprint(stateDir), before, 'the database files are byte-identical')
    const reopened = await createVault({ mode, stateDir, passphrase: 'right horse battery', env: {} })
    t.after(() => reopened.close())
    assert.deepEqual(await reopened.publicKey(key.handle), key.publicKey)
  })

  test(`${mode}: a protected vault without a passphrase asks for one, naming both variables`, async (t) => {
    const stateDir = scratchStateDir(t)
    const vault = await createVault({ mode, stateDir, passphrase: 'p', env: {}, kdf: FAST_KDF })
    await vault.generateKey('x25519')
    await vault.close()
    await assert.rejects(createVault({ mode, stateDir, env: {} }), (error: unknown) => {
      assert.ok(isOckamError(error, 'OCKAM_ERR_VAULT_PASSPHRASE_REQUIRED'))
      assert.match(error.hint ?? '', /OCKAM_RUNTIME_VAULT_PASSPHRASE\b/)
      assert.match(error.hint ?? '', /OCKAM_RUNTIME_VAULT_PASSPHRASE_FILE/)
      return true
    })
  })
}

test('the passphrase comes from the option, else the variable, else the file the other variable names', async (t) => {
  const stateDir = scratchStateDir(t)
  const file = join(stateDir, '..', 'passphrase.txt')
  writeFileSync(file, 'from the file\n', { mode: 0o600 })
  const fileEnv = { OCKAM_RUNTIME_VAULT_PASSPHRASE_FILE: file }

  const created = await createVault({ mode: 'thread', stateDir, env: fileEnv, kdf: FAST_KDF })
  const key = await created.generateKey('ed25519')
  await created.close()

  const byOption = await createVault({ mode: 'inline', stateDir, passphrase: 'from the file', env: {} })
  assert.deepEqual(await byOption.publicKey(key.handle), key.publicKey)
  await byOption.close()

  const both = { OCKAM_RUNTIME_VAULT_PASSPHRASE: 'from the variable', ...fileEnv }
  await assert.rejects(
    createVault({ mode: 'inline', stateDir, env: both }),
    rejectsWith('OCKAM_ERR_VAULT_PASSPHRASE_WRONG'),
  )
  const byEnv = await createVault({
    mode: 'thread',
    stateDir,
    env: { OCKAM_RUNTIME_VAULT_PASSPHRASE: 'from the file' },
  })
  assert.deepEqual(await byEnv.publicKey(key.handle), key.publicKey)
  await byEnv.close()

  assert.equal(resolvePassphrase({ env: {} }), undefined)
  assert.equal(resolvePassphrase({ passphrase: 'a', env: both }), 'a')
  writeFileSync(file, 'crlf\r\n')
  assert.equal(resolvePassphrase({ env: fileEnv }), 'crlf')
  assert.equal(resolvePassphrase({ passphrase: 'e\u0301' }), '\u00e9', 'NFC-normalized')
})

test('empty, oversize or unreadable passphrases are typed errors, never "no passphrase"', () => {
  const invalid = rejectsWith('OCKAM_ERR_VAULT_PASSPHRASE_INVALID')
  assert.throws(() => resolvePassphrase({ env: { OCKAM_RUNTIME_VAULT_PASSPHRASE: '' } }), invalid)
  assert.throws(() => resolvePassphrase({ passphrase: 'x'.repeat(1025) }), invalid)
  assert.throws(() => resolvePassphrase({ env: { OCKAM_RUNTIME_VAULT_PASSPHRASE_FILE: '/nonexistent/p' } }), invalid)
  assert.throws(() => resolvePassphrase({ env: { OCKAM_RUNTIME_VAULT_PASSPHRASE_FILE: '/' } }), invalid)
})

test('a vault created without a passphrase refuses one instead of ignoring it', async (t) => {
  const stateDir = scratchStateDir(t)
  const vault = await createVault({ mode: 'inline', stateDir, env: {} })
  await vault.generateKey('ed25519')
  await vault.close()
  await assert.rejects(
    createVault({ mode: 'inline', stateDir, env: { OCKAM_RUNTIME_VAULT_PASSPHRASE: 'late' } }),
    rejectsWith('OCKAM_ERR_VAULT_NOT_PROTECTED'),
  )
})

test('protection is decided by the first key or the first passphrase, not by an open that only reads', async (t) => {
  const stateDir = scratchStateDir(t)
  const reader = await createVault({ mode: 'inline', stateDir, env: {} })
  assert.deepEqual(await reader.listKeys(), [])
  await reader.close()
  const vault = await createVault({ mode: 'inline', stateDir, passphrase: 'now', env: {}, kdf: FAST_KDF })
  await vault.generateKey('ed25519')
  await vault.close()
  await assert.rejects(
    createVault({ mode: 'inline', stateDir, env: {} }),
    rejectsWith('OCKAM_ERR_VAULT_PASSPHRASE_REQUIRED'),
  )
})

test('new vaults record the default scrypt parameters and a per-database random salt', async (t) => {
  const dirs = [scratchStateDir(t), scratchStateDir(t)]
  const salts: Buffer[] = []
  for (const stateDir of dirs) {
    const vault = await createVault({ mode: 'inline', stateDir, passphrase: 'same', env: {} })
    await vault.close()
    const db = new Database(join(stateDir, 'state.sqlite3'), { readonly: true })
    const row = db.prepare('SELECT kdf, kdf_log2_n, kdf_r, kdf_p, salt FROM vault_settings').get() as {
      kdf: string
      kdf_log2_n: number
      kdf_r: number
      kdf_p: number
      salt: Buffer
    }
    db.close()
    assert.deepEqual([row.kdf, row.kdf_log2_n, row.kdf_r, row.kdf_p], ['scrypt', DEFAULT_SCRYPT_LOG2_N, 8, 1])
    assert.equal(row.salt.length, 32)
    salts.push(row.salt)
  }
  assert.notDeepEqual(salts[0], salts[1])
})
