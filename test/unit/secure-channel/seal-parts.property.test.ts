/**
 * Sealing a plaintext given in parts (the bulk fast path: routes, then a payload, sealed without
 * concatenating them) produces exactly the frames sealing the concatenation does, with either
 * provider (the portable one has no aeadSealParts and takes the fallback), across rekeys.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { createNativeCryptoProvider } from '../../../runtime/trust/crypto/native.js'
import { NOISE_SUITES } from '../../../runtime/trust/noise/suite.js'
import { encodePayloadPlaintextParts, encodePayloadPlaintexts } from '../../../workers/secure-channel/plaintext.js'
import { createTransportReceiver, createTransportSender } from '../../../workers/secure-channel/transport-cipher.js'
import { PROVIDERS } from './helpers.js'

const parts = fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 4 })

test('aeadSealParts equals aeadSeal of the concatenation, after the headroom', () => {
  const native = createNativeCryptoProvider()
  const sealParts = native.aeadSealParts
  assert.ok(sealParts !== undefined)
  fc.assert(
    fc.property(parts, fc.integer({ min: 0, max: 16 }), fc.uint8Array({ maxLength: 32 }), (pieces, headroom, ad) => {
      for (const suite of NOISE_SUITES) {
        const key = native.randomBytes(32)
        const nonce = native.randomBytes(12)
        const expected = native.aeadSeal(suite.aead, key, nonce, ad, Buffer.concat(pieces))
        const sealed = sealParts(suite.aead, key, nonce, ad, pieces, headroom)
        assert.equal(sealed.length, headroom + expected.length)
        assert.deepEqual(Buffer.from(sealed.subarray(headroom)), Buffer.from(expected))
      }
    }),
    { numRuns: 60 },
  )
})

test('a sender sealing parts and one sealing the concatenation emit the same frames; both open', () => {
  fc.assert(
    fc.property(fc.array(parts, { minLength: 1, maxLength: 6 }), (messages) => {
      for (const provider of PROVIDERS) {
        const suite = NOISE_SUITES[0]!
        const key = provider.randomBytes(32)
        const a = createTransportSender({ provider, suite, key, rekeyInterval: 2 })
        const b = createTransportSender({ provider, suite, key, rekeyInterval: 2 })
        const receiver = createTransportReceiver({ provider, suite, key, rekeyInterval: 2 })
        for (const pieces of messages) {
          const frame = a.seal(pieces)
          assert.deepEqual(Buffer.from(frame), Buffer.from(b.seal(Buffer.concat(pieces))))
          assert.deepEqual(Buffer.from(receiver.open(frame)), Buffer.concat(pieces))
        }
      }
    }),
    { numRuns: 30 },
  )
})

test('payload plaintext parts concatenate to the encoded plaintexts', () => {
  const onward = [{ type: 0, value: 'outlet' }]
  const ret = [{ type: 0, value: 'portal-1' }]
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 5000 }),
      fc.integer({ min: 100, max: 3000 }),
      (payload, max) => {
        const joined = encodePayloadPlaintextParts(onward, ret, payload, max, 1 << 20).map((p) =>
          p instanceof Uint8Array ? Buffer.from(p) : Buffer.concat(p),
        )
        const whole = encodePayloadPlaintexts(onward, ret, payload, max, 1 << 20).map((p) => Buffer.from(p))
        assert.deepEqual(joined, whole)
      },
    ),
    { numRuns: 100 },
  )
})
