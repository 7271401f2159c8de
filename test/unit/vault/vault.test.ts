import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { isOckamError, type OckamErrorCode } from '../../../runtime/errors.js'
import { createNativeCryptoProvider } from '../../../runtime/trust/crypto/native.js'
import { createVault, type VaultMode } from '../../../runtime/trust/vault/create-vault.js'
import { VAULT_OPERATIONS, type Vault } from '../../../runtime/trust/vault/types.js'
import { openVaultService } from '../../../runtime/trust/vault/vault-service.js'
import { scratchStateDir } from './helpers.js'

const provider = createNativeCryptoProvider()
const MODES: readonly VaultMode[] = ['inline', 'thread']
const rejectsWith = (code: OckamErrorCode) => (error: unknown) => {
  assert.ok(isOckamError(error, code), `expected ${code}, got ${String(error)}`)
  return true
}

async function open(t: TestContext, mode: VaultMode, stateDir: string): Promise<Vault> {
  const vault = await createVault({ mode, stateDir, env: {} })
  t.after(() => vault.close())
  return vault
}

/** A result that crossed a thread must not carry a larger underlying buffer with it. */
function assertExact(bytes: Uint8Array, length: number): void {
  assert.ok(bytes instanceof Uint8Array)
  assert.equal(bytes.length, length)
  assert.equal(bytes.buffer.byteLength, length, 'results are exact-size copies, never views into a larger buffer')
}

for (const mode of MODES) {
  test(`${mode}: Ed25519 keys sign, signatures verify with the provider, public keys are stable`, async (t) => {
    const vault = await open(t, mode, scratchStateDir(t))
    const key = await vault.generateKey('ed25519')
    assert.match(key.handle, /^vk_[0-9a-f]{32}$/)
    assert.equal(key.type, 'ed25519')
    assertExact(key.publicKey, 32)
    assert.deepEqual(await vault.publicKey(key.handle), key.publicKey)
    const message = new TextEncoder().encode('change history entry')
    const signature = await vault.sign(key.handle, message)
    assertExact(signature, 64)
    assert.ok(provider.ed25519Verify(key.publicKey, message, signature))
    assert.ok(!provider.ed25519Verify(key.publicKey, new TextEncoder().encode('other'), signature))
    assert.equal(vault.mode, mode)
    if (mode === 'thread') assert.equal(vault.threadCalls, 3, 'each operation crossed into the vault thread')
    else assert.equal(vault.threadCalls, 0)
  })

  test(`${mode}: X25519 DH agrees with the peer's side; a small-order peer key is refused typed`, async (t) => {
    const vault = await open(t, mode, scratchStateDir(t))
    const key = await vault.generateKey('x25519')
    const peer = provider.x25519GenerateKeyPair()
    const shared = await vault.dh(key.handle, peer.publicKey)
    assertExact(shared, 32)
    assert.deepEqual(shared, provider.x25519(peer.secretKey, key.publicKey))
    await assert.rejects(vault.dh(key.handle, new Uint8Array(32)), rejectsWith('OCKAM_ERR_CRYPTO_DH_FAILED'))
    await assert.rejects(vault.dh(key.handle, new Uint8Array(31)), rejectsWith('OCKAM_ERR_CRYPTO_INVALID_KEY'))
  })

  test(`${mode}: wrong key type, unknown and malformed handles, oversize input: typed errors`, async (t) => {
    const vault = await open(t, mode, scratchStateDir(t))
    const ed = await vault.generateKey('ed25519')
    const x = await vault.generateKey('x25519')
    await assert.rejects(vault.sign(x.handle, new Uint8Array(1)), (error: unknown) => {
      assert.ok(isOckamError(error, 'OCKAM_ERR_VAULT_KEY_TYPE'))
      assert.deepEqual(error.data, { handle: x.handle, type: 'x25519', expected: 'ed25519' })
      return true
    })
    await assert.rejects(vault.dh(ed.handle, x.publicKey), rejectsWith('OCKAM_ERR_VAULT_KEY_TYPE'))
    const unknown = `vk_${'0'.repeat(32)}`
    await assert.rejects(vault.sign(unknown, new Uint8Array(1)), rejectsWith('OCKAM_ERR_VAULT_KEY_NOT_FOUND'))
    await assert.rejects(vault.publicKey('not a handle'), rejectsWith('OCKAM_ERR_INVALID_ARGUMENT'))
    await assert.rejects(
      vault.sign(ed.handle, new Uint8Array(1024 * 1024 + 1)),
      rejectsWith('OCKAM_ERR_INVALID_ARGUMENT'),
    )
    // @ts-expect-error: a caller outside TypeScript
    await assert.rejects(vault.generateKey('rsa'), rejectsWith('OCKAM_ERR_INVALID_ARGUMENT'))
    assert.deepEqual((await vault.listKeys()).map((k) => k.handle).sort(), [ed.handle, x.handle].sort())
  })

  test(`${mode}: a deleted key is gone for good`, async (t) => {
    const stateDir = scratchStateDir(t)
    const vault = await open(t, mode, stateDir)
    const key = await vault.generateKey('ed25519')
    await vault.sign(key.handle, new Uint8Array(1))
    assert.equal(await vault.deleteKey(key.handle), true)
    assert.equal(await vault.deleteKey(key.handle), false)
    await assert.rejects(vault.sign(key.handle, new Uint8Array(1)), rejectsWith('OCKAM_ERR_VAULT_KEY_NOT_FOUND'))
    await vault.close()
    const reopened = await open(t, mode, stateDir)
    await assert.rejects(reopened.publicKey(key.handle), rejectsWith('OCKAM_ERR_VAULT_KEY_NOT_FOUND'))
    assert.deepEqual(await reopened.listKeys(), [])
  })

  test(`${mode}: close() closes the database cleanly (WAL checkpointed), later calls get OCKAM_ERR_STOPPED`, async (t) => {
    const stateDir = scratchStateDir(t)
    const vault = await createVault({ mode, stateDir, env: {} })
    const key = await vault.generateKey('ed25519')
    assert.ok(existsSync(join(stateDir, 'state.sqlite3-wal')))
    await vault.close()
    assert.ok(!existsSync(join(stateDir, 'state.sqlite3-wal')), 'the last connection closed and removed the WAL')
    await vault.close()
    await assert.rejects(vault.publicKey(key.handle), rejectsWith('OCKAM_ERR_STOPPED'))
  })
}

test('inline and thread vaults on one state folder see the same keys and make valid signatures', async (t) => {
  const stateDir = scratchStateDir(t)
  const inline = await createVault({ mode: 'inline', stateDir, env: {} })
  const ed = await inline.generateKey('ed25519')
  const x = await inline.generateKey('x25519')
  await inline.close()

  const thread = await open(t, 'thread', stateDir)
  assert.deepEqual(await thread.publicKey(ed.handle), ed.publicKey)
  assert.deepEqual(await thread.keyInfo(x.handle), x)
  const message = new Uint8Array([1, 2, 3])
  assert.ok(provider.ed25519Verify(ed.publicKey, message, await thread.sign(ed.handle, message)))
  const fromThread = await thread.generateKey('ed25519')
  const peer = provider.x25519GenerateKeyPair()
  const sharedInThread = await thread.dh(x.handle, peer.publicKey)
  await thread.close()

  const again = await open(t, 'inline', stateDir)
  assert.deepEqual(await again.dh(x.handle, peer.publicKey), sharedInThread)
  assert.ok(provider.ed25519Verify(fromThread.publicKey, message, await again.sign(fromThread.handle, message)))
  assert.equal((await again.listKeys()).length, 3)
})

test('thread mode refuses a provider object (it cannot cross threads)', async (t) => {
  await assert.rejects(
    createVault({ mode: 'thread', stateDir: scratchStateDir(t), env: {}, provider }),
    rejectsWith('OCKAM_ERR_INVALID_ARGUMENT'),
  )
})

test('thread mode: concurrent calls are all answered, in any order, each correct', async (t) => {
  const vault = await open(t, 'thread', scratchStateDir(t))
  const key = await vault.generateKey('ed25519')
  const messages = Array.from({ length: 64 }, (_, i) => new Uint8Array([i, i >> 8]))
  const signatures = await Promise.all(messages.map((m) => vault.sign(key.handle, m)))
  signatures.forEach((signature, i) => {
    assert.ok(provider.ed25519Verify(key.publicKey, messages[i]!, signature), `signature ${i}`)
  })
  assert.equal(vault.threadCalls, 65)
})

test('the vault surface has no way to read a secret, in either mode', async (t) => {
  for (const mode of MODES) {
    const vault = await open(t, mode, scratchStateDir(t))
    assert.deepEqual(Object.keys(vault).sort(), [...VAULT_OPERATIONS, 'close', 'mode', 'threadCalls'].sort())
    const info = await vault.generateKey('ed25519')
    assert.deepEqual(Object.keys(info).sort(), ['createdAt', 'handle', 'publicKey', 'type'])
    assert.deepEqual(Object.keys((await vault.listKeys())[0]!).sort(), ['createdAt', 'handle', 'publicKey', 'type'])
  }
})

test('keys evicted from the in-memory cache are reloaded from the database', async (t) => {
  const service = await openVaultService({ stateDir: scratchStateDir(t), env: {}, keyCacheSize: 2 })
  t.after(() => service.close())
  const keys = [service.generateKey('ed25519'), service.generateKey('ed25519'), service.generateKey('ed25519')]
  for (let round = 0; round < 2; round += 1) {
    for (const key of keys) {
      assert.ok(
        provider.ed25519Verify(
          key.publicKey,
          new Uint8Array([round]),
          service.sign(key.handle, new Uint8Array([round])),
        ),
      )
    }
  }
})
