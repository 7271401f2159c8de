import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { isOckamError, OckamError } from '../../../runtime/errors.js'
import { deserializeThrown, serializeThrown } from '../../../runtime/threads/error-transfer.js'
import { createNativeCryptoProvider } from '../../../runtime/trust/crypto/native.js'
import {
  checkScryptParams,
  deriveVaultKeys,
  openSealedSecret,
  SEALED_SECRET_BYTES,
  sealSecret,
} from '../../../runtime/trust/vault/sealing.js'
import type { VaultKeyType } from '../../../runtime/trust/vault/types.js'
import { FAST_KDF } from './helpers.js'

const provider = createNativeCryptoProvider()
const handleArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => `vk_${Buffer.from(b).toString('hex')}`)
const typeArb = fc.constantFrom<VaultKeyType>('ed25519', 'x25519')
const secretArb = fc.uint8Array({ minLength: 32, maxLength: 32 })

test('open(seal(secret)) = secret; the blob is 61 bytes and never contains the secret', async () => {
  const keys = await deriveVaultKeys(provider, 'pw', { ...FAST_KDF, salt: new Uint8Array(32) })
  fc.assert(
    fc.property(handleArb, typeArb, secretArb, (handle, type, secret) => {
      const blob = sealSecret(provider, keys, handle, type, secret)
      assert.equal(blob.length, SEALED_SECRET_BYTES)
      assert.ok(!Buffer.from(blob).includes(Buffer.from(secret)))
      assert.deepEqual(openSealedSecret(provider, keys, handle, type, blob), secret)
    }),
    { numRuns: 200 },
  )
})

test('any mutation of a sealed blob, or another handle or type, fails with OCKAM_ERR_VAULT_CORRUPT only', async () => {
  const keys = await deriveVaultKeys(provider, 'pw', { ...FAST_KDF, salt: new Uint8Array(32) })
  const otherKeys = await deriveVaultKeys(provider, 'other', { ...FAST_KDF, salt: new Uint8Array(32) })
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
    fc.record({ kind: fc.constant('handle' as const), handle: handleArb }),
    fc.record({ kind: fc.constant('type' as const) }),
    fc.record({ kind: fc.constant('key' as const) }),
    fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 128 }) }),
  )
  fc.assert(
    fc.property(handleArb, typeArb, secretArb, mutation, (handle, type, secret, m) => {
      const blob = sealSecret(provider, keys, handle, type, secret)
      let useHandle = handle
      let useType = type
      let useKeys = keys
      let bytes: Uint8Array = blob
      if (m.kind === 'flip') {
        bytes = blob.slice()
        const at = m.at % bytes.length
        bytes[at] = (bytes[at] ?? 0) ^ (1 << m.bit)
      } else if (m.kind === 'truncate') bytes = blob.subarray(0, m.at % blob.length)
      else if (m.kind === 'extend') bytes = Buffer.concat([blob, m.extra])
      else if (m.kind === 'handle') {
        if (m.handle === handle) return
        useHandle = m.handle
      } else if (m.kind === 'type') useType = type === 'ed25519' ? 'x25519' : 'ed25519'
      else if (m.kind === 'key') useKeys = otherKeys
      else bytes = m.bytes
      assert.throws(
        () => openSealedSecret(provider, useKeys, useHandle, useType, bytes),
        (error: unknown) => isOckamError(error, 'OCKAM_ERR_VAULT_CORRUPT'),
      )
    }),
    { numRuns: 300 },
  )
})

test('KDF parameters read from a database are bounded before any work is done', () => {
  fc.assert(
    fc.property(
      fc.record({
        log2N: fc.oneof(fc.integer({ min: -5, max: 64 }), fc.double()),
        r: fc.integer({ min: -1, max: 1024 }),
        p: fc.integer({ min: -1, max: 1024 }),
        salt: fc.uint8Array({ maxLength: 100 }),
      }),
      (params) => {
        try {
          checkScryptParams(params)
        } catch (error) {
          assert.ok(isOckamError(error, 'OCKAM_ERR_VAULT_CORRUPT'))
          return
        }
        assert.ok(128 * 2 ** params.log2N * params.r <= 1024 ** 3 && params.log2N <= 20 && params.p <= 4)
      },
    ),
    { numRuns: 500 },
  )
})

test('whatever crosses as a thrown value decodes to an OckamError, never a crash', () => {
  fc.assert(
    fc.property(fc.anything({ withNullPrototype: true, withBoxedValues: true }), (wire) => {
      assert.ok(deserializeThrown(wire, 'test') instanceof OckamError)
    }),
    { numRuns: 500 },
  )
  fc.assert(
    fc.property(fc.anything({ withNullPrototype: true }), (thrown) => {
      assert.ok(deserializeThrown(serializeThrown(thrown), 'test') instanceof OckamError)
    }),
    { numRuns: 300 },
  )
})
