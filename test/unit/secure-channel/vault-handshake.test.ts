/**
 * The vault's Noise handshake operations, inline and on the vault thread: a whole XX handshake
 * driven through them agrees with the pure state machine on the other side, the handshake table
 * is bounded and swept, and failures end a handshake with typed errors.
 */
import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { isOckamError, type OckamErrorCode } from '../../../runtime/errors.js'
import { createNativeCryptoProvider } from '../../../runtime/trust/crypto/native.js'
import { createXXHandshake } from '../../../runtime/trust/noise/handshake-xx.js'
import { secureChannelPrologue } from '../../../runtime/trust/noise/prologue.js'
import { NOISE_XX_AESGCM, NOISE_XX_CHACHAPOLY } from '../../../runtime/trust/noise/suite.js'
import { createVault, type VaultMode } from '../../../runtime/trust/vault/create-vault.js'
import type { Vault } from '../../../runtime/trust/vault/types.js'
import { openVaultService } from '../../../runtime/trust/vault/vault-service.js'
import { scratchStateDir } from '../vault/helpers.js'

const provider = createNativeCryptoProvider()
const MODES: readonly VaultMode[] = ['inline', 'thread']
const rejectsWith = (code: OckamErrorCode) => (error: unknown) => {
  assert.ok(isOckamError(error, code), `expected ${code}, got ${String(error)}`)
  return true
}

async function open(t: TestContext, mode: VaultMode): Promise<Vault> {
  const vault = await createVault({ mode, stateDir: scratchStateDir(t), env: {} })
  t.after(() => vault.close())
  return vault
}

for (const mode of MODES) {
  for (const suite of [NOISE_XX_AESGCM, NOISE_XX_CHACHAPOLY]) {
    test(`${mode}: a vault responder and a pure initiator complete XX (${suite.cipher}) with matching keys`, async (t) => {
      const vault = await open(t, mode)
      const key = await vault.generateKey('x25519')
      const prologue = secureChannelPrologue(1, suite)
      const initiatorStatic = provider.x25519GenerateKeyPair()
      const initiator = createXXHandshake({
        provider,
        suite,
        role: 'initiator',
        staticKeyPair: initiatorStatic,
        prologue,
      })
      const before = vault.threadCalls
      const id = await vault.handshakeStart(key.handle, 'responder', suite.protocolName, prologue)
      assert.match(id, /^hs_[0-9a-f]{32}$/)
      const first = await vault.handshakeRead(id, initiator.writeMessage(new Uint8Array(0)))
      assert.equal(first.payload.length, 0)
      assert.equal(first.remoteStaticPublicKey, undefined, 'message 1 carries no static key')
      const hello = new TextEncoder().encode('responder payload')
      assert.deepEqual(initiator.readMessage(await vault.handshakeWrite(id, hello)), hello)
      assert.deepEqual(initiator.remoteStaticPublicKey(), key.publicKey)
      const third = await vault.handshakeRead(id, initiator.writeMessage(Uint8Array.of(7)))
      assert.deepEqual(third.payload, Uint8Array.of(7))
      assert.deepEqual(third.remoteStaticPublicKey, initiatorStatic.publicKey)
      const keys = await vault.handshakeSplit(id)
      const expected = initiator.split()
      assert.deepEqual(keys.sendKey, expected.receiveKey)
      assert.deepEqual(keys.receiveKey, expected.sendKey)
      assert.deepEqual(keys.handshakeHash, expected.handshakeHash)
      assert.deepEqual(keys.remoteStaticPublicKey, initiatorStatic.publicKey)
      for (const bytes of [keys.sendKey, keys.receiveKey, keys.handshakeHash]) {
        assert.equal(bytes.buffer.byteLength, 32, 'exact-size copies cross the boundary')
      }
      assert.equal(await vault.handshakeCount(), 0, 'split forgets the handshake')
      await assert.rejects(
        vault.handshakeWrite(id, new Uint8Array(0)),
        rejectsWith('OCKAM_ERR_VAULT_HANDSHAKE_NOT_FOUND'),
      )
      if (mode === 'thread') assert.ok(vault.threadCalls - before >= 5, 'every step crossed into the vault thread')
      else assert.equal(vault.threadCalls, 0)
    })
  }

  test(`${mode}: two vault handshakes talk to each other; a tampered message ends the handshake`, async (t) => {
    const vault = await open(t, mode)
    const a = await vault.generateKey('x25519')
    const b = await vault.generateKey('x25519')
    const prologue = secureChannelPrologue(1, NOISE_XX_AESGCM)
    const name = NOISE_XX_AESGCM.protocolName
    const i = await vault.handshakeStart(a.handle, 'initiator', name, prologue)
    const r = await vault.handshakeStart(b.handle, 'responder', name, prologue)
    assert.equal(await vault.handshakeCount(), 2)
    await vault.handshakeRead(r, await vault.handshakeWrite(i, new Uint8Array(0)))
    const second = await vault.handshakeWrite(r, Uint8Array.of(1, 2, 3))
    const tampered = second.slice()
    tampered[tampered.length - 1]! ^= 1
    await assert.rejects(vault.handshakeRead(i, tampered), rejectsWith('OCKAM_ERR_NOISE_DECRYPT_FAILED'))
    await assert.rejects(vault.handshakeRead(i, second), rejectsWith('OCKAM_ERR_VAULT_HANDSHAKE_NOT_FOUND'))
    assert.equal(await vault.handshakeAbort(r), true)
    assert.equal(await vault.handshakeAbort(r), false)
    assert.equal(await vault.handshakeCount(), 0)
  })

  test(`${mode}: whole steps (initiate, respond, write/read final) make the same handshake in 5 round trips`, async (t) => {
    const vault = await open(t, mode)
    const a = await vault.generateKey('x25519')
    const b = await vault.generateKey('x25519')
    const prologue = secureChannelPrologue(1, NOISE_XX_CHACHAPOLY)
    const name = NOISE_XX_CHACHAPOLY.protocolName
    const before = vault.threadCalls
    const initiator = await vault.handshakeInitiate(a.handle, name, prologue, new Uint8Array(0))
    const responder = await vault.handshakeRespond(b.handle, name, prologue, initiator.message, Uint8Array.of(2))
    assert.equal(responder.payload.length, 0)
    const second = await vault.handshakeRead(initiator.id, responder.message)
    assert.deepEqual(second.payload, Uint8Array.of(2))
    assert.deepEqual(second.remoteStaticPublicKey, b.publicKey)
    const third = await vault.handshakeWriteFinal(initiator.id, Uint8Array.of(3))
    const last = await vault.handshakeReadFinal(responder.id, third.message)
    assert.deepEqual(last.message, Uint8Array.of(3))
    assert.deepEqual(third.keys.sendKey, last.keys.receiveKey)
    assert.deepEqual(third.keys.receiveKey, last.keys.sendKey)
    assert.deepEqual(third.keys.handshakeHash, last.keys.handshakeHash)
    assert.deepEqual(last.keys.remoteStaticPublicKey, a.publicKey)
    assert.deepEqual(third.keys.remoteStaticPublicKey, b.publicKey)
    if (mode === 'thread') assert.equal(vault.threadCalls - before, 5)
    assert.equal(await vault.handshakeCount(), 0)

    // A combined step that fails ends its handshake: nothing is left behind.
    const again = await vault.handshakeInitiate(a.handle, name, prologue, new Uint8Array(0))
    const tampered = again.message.slice()
    await assert.rejects(
      vault.handshakeRespond(
        b.handle,
        name,
        secureChannelPrologue(2, NOISE_XX_CHACHAPOLY),
        tampered,
        new Uint8Array(70_000),
      ),
      rejectsWith('OCKAM_ERR_NOISE_MESSAGE_TOO_LARGE'),
    )
    const reply = await vault.handshakeRespond(
      b.handle,
      name,
      secureChannelPrologue(2, NOISE_XX_CHACHAPOLY),
      tampered,
      Uint8Array.of(1),
    )
    await assert.rejects(vault.handshakeRead(again.id, reply.message), rejectsWith('OCKAM_ERR_NOISE_DECRYPT_FAILED'))
    await assert.rejects(
      vault.handshakeReadFinal(reply.id, new Uint8Array(64)),
      rejectsWith('OCKAM_ERR_NOISE_DECRYPT_FAILED'),
    )
    assert.equal(await vault.handshakeCount(), 0, 'failed combined steps and failed reads ended their handshakes')
  })

  test(`${mode}: bad arguments are typed refusals that leave nothing behind`, async (t) => {
    const vault = await open(t, mode)
    const x = await vault.generateKey('x25519')
    const ed = await vault.generateKey('ed25519')
    const prologue = secureChannelPrologue(1, NOISE_XX_AESGCM)
    const name = NOISE_XX_AESGCM.protocolName
    await assert.rejects(
      vault.handshakeStart(ed.handle, 'initiator', name, prologue),
      rejectsWith('OCKAM_ERR_VAULT_KEY_TYPE'),
    )
    await assert.rejects(
      vault.handshakeStart(x.handle, 'initiator', 'Noise_NN_25519_AESGCM_SHA256', prologue),
      rejectsWith('OCKAM_ERR_NOISE_UNSUPPORTED'),
    )
    await assert.rejects(
      // @ts-expect-error: a caller outside TypeScript
      vault.handshakeStart(x.handle, 'both', name, prologue),
      rejectsWith('OCKAM_ERR_INVALID_ARGUMENT'),
    )
    await assert.rejects(
      vault.handshakeStart(x.handle, 'initiator', name, new Uint8Array(2048)),
      rejectsWith('OCKAM_ERR_INVALID_ARGUMENT'),
    )
    const id = await vault.handshakeStart(x.handle, 'initiator', name, prologue)
    await assert.rejects(vault.handshakeRead(id, new Uint8Array(32)), rejectsWith('OCKAM_ERR_NOISE_HANDSHAKE_STATE'))
    await assert.rejects(
      vault.handshakeWrite(id, new Uint8Array(70_000)),
      rejectsWith('OCKAM_ERR_NOISE_MESSAGE_TOO_LARGE'),
    )
    assert.equal((await vault.handshakeWrite(id, new Uint8Array(0))).length, 32, 'a refused write changed nothing')
    await assert.rejects(vault.handshakeSplit('hs_nope'), rejectsWith('OCKAM_ERR_VAULT_HANDSHAKE_NOT_FOUND'))
  })
}

test('the handshake table is bounded, typed beyond the bound, and swept after its time to live', async (t) => {
  let clock = 1_000_000
  const service = await openVaultService({
    stateDir: scratchStateDir(t),
    env: {},
    maxHandshakes: 3,
    handshakeTtlMs: 1000,
    now: () => clock,
  })
  t.after(() => service.close())
  const key = service.generateKey('x25519')
  const prologue = secureChannelPrologue(1, NOISE_XX_AESGCM)
  const start = () => service.handshakeStart(key.handle, 'initiator', NOISE_XX_AESGCM.protocolName, prologue)
  const first = start()
  clock += 600
  start()
  start()
  assert.throws(start, (error: unknown) => isOckamError(error, 'OCKAM_ERR_VAULT_TOO_MANY_HANDSHAKES'))
  clock += 500 // the first is now older than its time to live
  assert.throws(
    () => service.handshakeWrite(first, new Uint8Array(0)),
    (error: unknown) => isOckamError(error, 'OCKAM_ERR_VAULT_HANDSHAKE_NOT_FOUND'),
  )
  start()
  assert.equal(service.handshakeCount(), 3)
  service.close()
  assert.throws(
    () => service.handshakeCount(),
    (error: unknown) => isOckamError(error, 'OCKAM_ERR_STOPPED'),
  )
})

test('a key evicted from the cache mid-handshake does not disturb the handshake (it holds its own copy)', async (t) => {
  const service = await openVaultService({ stateDir: scratchStateDir(t), env: {}, keyCacheSize: 1 })
  t.after(() => service.close())
  const a = service.generateKey('x25519')
  const prologue = secureChannelPrologue(1, NOISE_XX_AESGCM)
  const responder = createXXHandshake({
    provider,
    suite: NOISE_XX_AESGCM,
    role: 'responder',
    staticKeyPair: provider.x25519GenerateKeyPair(),
    prologue,
  })
  const id = service.handshakeStart(a.handle, 'initiator', NOISE_XX_AESGCM.protocolName, prologue)
  responder.readMessage(service.handshakeWrite(id, new Uint8Array(0)))
  service.generateKey('ed25519') // evicts (and zeroes) the cached x25519 secret
  service.handshakeRead(id, responder.writeMessage(new Uint8Array(0)))
  responder.readMessage(service.handshakeWrite(id, new Uint8Array(0)))
  assert.deepEqual(responder.remoteStaticPublicKey(), a.publicKey)
  assert.deepEqual(service.handshakeSplit(id).sendKey, responder.split().receiveKey)
})
