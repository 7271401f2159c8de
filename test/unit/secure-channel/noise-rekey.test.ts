/**
 * Noise REKEY known answers (../shared/vectors/noise/rekey-kat.json) and the rekey-every-32
 * boundaries of the frame cipher, checked against keys derived here straight from the provider.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import type { CryptoProvider } from '../../../runtime/trust/crypto/provider.js'
import { CipherState, noiseRekey } from '../../../runtime/trust/noise/cipher-state.js'
import {
  NOISE_XX_AESGCM,
  NOISE_XX_CHACHAPOLY,
  type NoiseSuite,
  noiseSuiteByName,
} from '../../../runtime/trust/noise/suite.js'
import { DEFAULT_REKEY_INTERVAL_MESSAGES } from '../../../workers/secure-channel/constants.js'
import { createTransportReceiver, createTransportSender } from '../../../workers/secure-channel/transport-cipher.js'
import { fromHex, PROVIDERS, toHex, VECTORS_DIR } from './helpers.js'

interface RekeyVector {
  cipher: 'AESGCM' | 'ChaChaPoly'
  key: string
  rekey_1: string
  rekey_2: string
  rekey_3: string
  after_rekey_1: { nonce: number; ad: string; payload: string; ciphertext: string }
}

const kat = (JSON.parse(readFileSync(join(VECTORS_DIR, 'rekey-kat.json'), 'utf8')) as { vectors: RekeyVector[] })
  .vectors
const suiteOf = (cipher: string): NoiseSuite => noiseSuiteByName(`Noise_XX_25519_${cipher}_SHA256`)

/** The spec's formulas, written independently of the library: nonce layout and REKEY. */
function referenceNonce(suite: NoiseSuite, n: number): Uint8Array {
  const out = new Uint8Array(12)
  const counter = new DataView(out.buffer, 4, 8)
  counter.setBigUint64(0, BigInt(n), !suite.bigEndianNonce)
  return out
}
function referenceKey(provider: CryptoProvider, suite: NoiseSuite, key: Uint8Array, times: number): Uint8Array {
  let k = key
  const maxNonce = new Uint8Array(12).fill(0xff, 4)
  for (let i = 0; i < times; i += 1)
    k = provider.aeadSeal(suite.aead, k, maxNonce, new Uint8Array(0), new Uint8Array(32)).slice(0, 32)
  return k
}

test('the KAT covers both suites', () => {
  assert.deepEqual([...new Set(kat.map((v) => v.cipher))].sort(), ['AESGCM', 'ChaChaPoly'])
  assert.equal(kat.length, 4)
})

for (const provider of PROVIDERS) {
  describe(`REKEY known answers (${provider.name} provider)`, () => {
    for (const v of kat) {
      test(`${v.cipher} key ${v.key.slice(0, 8)}…`, () => {
        const suite = suiteOf(v.cipher)
        let key = fromHex(v.key)
        for (const expected of [v.rekey_1, v.rekey_2, v.rekey_3]) {
          key = noiseRekey(provider, suite, key)
          assert.equal(toHex(key), expected)
        }
        // CipherState.rekey() keeps the nonce; the message at nonce 32 under rekey_1.
        const state = new CipherState(provider, suite, fromHex(v.key))
        state.setNonce(v.after_rekey_1.nonce)
        state.rekey()
        assert.equal(state.nonce, v.after_rekey_1.nonce)
        const sealed = state.encryptWithAd(fromHex(v.after_rekey_1.ad), fromHex(v.after_rekey_1.payload))
        assert.equal(toHex(sealed), v.after_rekey_1.ciphertext)

        // The frame cipher reaches the same bytes as its 33rd frame (nonce 32, first of interval 1).
        const sender = createTransportSender({ provider, suite, key: fromHex(v.key) })
        const receiver = createTransportReceiver({ provider, suite, key: fromHex(v.key) })
        for (let n = 0; n < 32; n += 1) receiver.open(sender.seal(new Uint8Array([n])))
        const frame = sender.seal(fromHex(v.after_rekey_1.payload))
        assert.equal(toHex(frame), `${(32).toString(16).padStart(16, '0')}${v.after_rekey_1.ciphertext}`)
        assert.equal(toHex(receiver.open(frame)), v.after_rekey_1.payload)
        assert.deepEqual(sender.state(), { nextNonce: 33, keyInterval: 1 })
      })
    }
  })

  describe(`rekey-every-32 boundaries (${provider.name} provider)`, () => {
    for (const suite of [NOISE_XX_AESGCM, NOISE_XX_CHACHAPOLY]) {
      test(`${suite.cipher}: frames 31, 32, 33 and 64 use the key of their interval and round-trip`, () => {
        assert.equal(DEFAULT_REKEY_INTERVAL_MESSAGES, 32)
        const key = provider.randomBytes(32)
        const sender = createTransportSender({ provider, suite, key })
        const ordered = createTransportReceiver({ provider, suite, key })
        const reordering = createTransportReceiver({ provider, suite, key, ordering: 'reordering' })
        const expectedInterval = (n: number) => Math.floor(n / 32)
        for (let n = 0; n <= 64; n += 1) {
          const payload = new TextEncoder().encode(`frame ${n}`)
          const frame = sender.seal(payload)
          if ([0, 31, 32, 33, 63, 64].includes(n)) {
            const k = referenceKey(provider, suite, key, expectedInterval(n))
            const expected = provider.aeadSeal(suite.aead, k, referenceNonce(suite, n), new Uint8Array(0), payload)
            assert.equal(toHex(frame.subarray(8)), toHex(expected), `frame ${n}`)
          }
          assert.deepEqual(ordered.open(frame), payload)
          assert.deepEqual(reordering.open(frame), payload)
          assert.equal(sender.state().keyInterval, expectedInterval(n))
          assert.equal(ordered.state().keyInterval, expectedInterval(n))
          assert.equal(reordering.state().keyInterval, expectedInterval(n))
        }
      })

      test(`${suite.cipher}: a tampered boundary frame commits no rekey, the genuine one then opens`, () => {
        const key = provider.randomBytes(32)
        const sender = createTransportSender({ provider, suite, key })
        const receiver = createTransportReceiver({ provider, suite, key })
        for (let n = 0; n < 32; n += 1) receiver.open(sender.seal(new Uint8Array(4)))
        const boundary = sender.seal(new Uint8Array(4))
        const before = receiver.state()
        const tampered = boundary.slice()
        tampered[tampered.length - 1]! ^= 1
        assert.throws(() => receiver.open(tampered), { code: 'OCKAM_ERR_NOISE_DECRYPT_FAILED' })
        assert.deepEqual(receiver.state(), before)
        assert.equal(before.keyInterval, 0)
        assert.deepEqual(receiver.open(boundary), new Uint8Array(4))
        assert.equal(receiver.state().keyInterval, 1)
      })

      test(`${suite.cipher}: other intervals (1 and 5) rekey on their own boundaries`, () => {
        for (const interval of [1, 5]) {
          const key = provider.randomBytes(32)
          const sender = createTransportSender({ provider, suite, key, rekeyInterval: interval })
          const receiver = createTransportReceiver({ provider, suite, key, rekeyInterval: interval })
          for (let n = 0; n < 12; n += 1) {
            const frame = sender.seal(Uint8Array.of(n))
            const k = referenceKey(provider, suite, key, Math.floor(n / interval))
            const expected = provider.aeadSeal(
              suite.aead,
              k,
              referenceNonce(suite, n),
              new Uint8Array(0),
              Uint8Array.of(n),
            )
            assert.equal(toHex(frame.subarray(8)), toHex(expected))
            assert.deepEqual(receiver.open(frame), Uint8Array.of(n))
          }
        }
      })
    }
  })
}
