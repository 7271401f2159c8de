import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { isOckamError } from '../../../runtime/errors.js'
import { createVault } from '../../../runtime/trust/vault/create-vault.js'
import { FAST_KDF, recordingProvider, scratchStateDir } from './helpers.js'

const DB_FILES = ['state.sqlite3', 'state.sqlite3-wal', 'state.sqlite3-shm']

/** Names of the database files that contain `needle` anywhere in their bytes. */
function filesContaining(stateDir: string, needle: Uint8Array): string[] {
  return DB_FILES.filter((name) => {
    const path = join(stateDir, name)
    return existsSync(path) && readFileSync(path).includes(Buffer.from(needle))
  })
}

async function vaultWithKeys(stateDir: string, passphrase: string | undefined) {
  const { provider, secrets } = recordingProvider()
  const vault = await createVault({
    mode: 'inline',
    stateDir,
    env: {},
    provider,
    kdf: FAST_KDF,
    ...(passphrase === undefined ? {} : { passphrase }),
  })
  const keys = [await vault.generateKey('ed25519'), await vault.generateKey('x25519')]
  await vault.sign(keys[0]!.handle, new Uint8Array([1]))
  assert.equal(secrets.length, 2)
  return { vault, keys, secrets }
}

test('control: without a passphrase the raw secrets are in the database (owner-only files)', async (t) => {
  const stateDir = scratchStateDir(t)
  const { vault, secrets } = await vaultWithKeys(stateDir, undefined)
  const whileOpen = secrets.map((secret) => filesContaining(stateDir, secret))
  await vault.close()
  for (const found of whileOpen) assert.ok(found.length > 0, 'the scan finds a raw secret where one is stored')
  for (const secret of secrets) assert.deepEqual(filesContaining(stateDir, secret), ['state.sqlite3'])
})

test('with a passphrase no secret byte string appears in the database, WAL or shm files', async (t) => {
  const stateDir = scratchStateDir(t)
  const { vault, keys, secrets } = await vaultWithKeys(stateDir, 'correct horse')
  for (const secret of secrets) assert.deepEqual(filesContaining(stateDir, secret), [], 'while open (WAL)')
  await vault.deleteKey(keys[1]!.handle)
  await vault.close()
  for (const secret of secrets) assert.deepEqual(filesContaining(stateDir, secret), [], 'after checkpoint and close')
})

test('a sealed secret moved to another row, relabelled, or replaced by a raw one is refused as corrupt', async (t) => {
  const stateDir = scratchStateDir(t)
  const { vault, keys } = await vaultWithKeys(stateDir, 'correct horse')
  await vault.close()
  const [ed, x] = keys as [(typeof keys)[0], (typeof keys)[0]]
  const path = join(stateDir, 'state.sqlite3')

  const tamper = (sql: string, ...params: unknown[]): void => {
    const db = new Database(path)
    db.prepare(sql).run(...params)
    db.close()
  }
  const expectCorrupt = async (handle: string, use: 'sign' | 'publicKey'): Promise<void> => {
    const reopened = await createVault({ mode: 'inline', stateDir, passphrase: 'correct horse', env: {} })
    try {
      const call = use === 'sign' ? reopened.sign(handle, new Uint8Array([1])) : reopened.publicKey(handle)
      await assert.rejects(call, (error: unknown) => isOckamError(error, 'OCKAM_ERR_VAULT_CORRUPT'))
    } finally {
      await reopened.close()
    }
  }

  // Swap: give the Ed25519 row the X25519 key's sealed blob (AD binds the handle).
  tamper(
    'UPDATE vault_keys SET sealed_secret = (SELECT sealed_secret FROM vault_keys WHERE handle = ?) WHERE handle = ?',
    x.handle,
    ed.handle,
  )
  await expectCorrupt(ed.handle, 'sign')
  // Relabel: the X25519 key claims to be Ed25519 (AD binds the type).
  tamper("UPDATE vault_keys SET type = 'ed25519' WHERE handle = ?", x.handle)
  await expectCorrupt(x.handle, 'publicKey')
  // Plant: a raw secret of the attacker's choosing in a protected vault.
  tamper('UPDATE vault_keys SET secret = zeroblob(32), sealed_secret = NULL WHERE handle = ?', x.handle)
  await expectCorrupt(x.handle, 'publicKey')
})
