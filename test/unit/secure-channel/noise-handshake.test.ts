/**
 * The XX handshake state machine beyond the vectors: turn order, the 65,535-byte limit on write
 * and read, failure on tampering or a mismatched prologue/suite, and mutated messages that must
 * only ever produce typed errors.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { isOckamError } from '../../../runtime/errors.js'
import type { CryptoProvider } from '../../../runtime/trust/crypto/provider.js'
import { NOISE_MAX_MESSAGE_BYTES } from '../../../runtime/trust/noise/constants.js'
import {
  createXXHandshake,
  type NoiseHandshake,
  XX_MESSAGE_OVERHEAD_BYTES,
} from '../../../runtime/trust/noise/handshake-xx.js'
import { secureChannelPrologue } from '../../../runtime/trust/noise/prologue.js'
import {
  encodeNoiseNonce,
  NOISE_SUITES,
  NOISE_XX_AESGCM,
  NOISE_XX_CHACHAPOLY,
  type NoiseSuite,
  noiseSuiteByName,
} from '../../../runtime/trust/noise/suite.js'
import { PROVIDERS, toHex } from './helpers.js'

function pair(
  provider: CryptoProvider,
  initiatorSuite: NoiseSuite,
  options: { responderSuite?: NoiseSuite; responderVersion?: number } = {},
) {
  const responderSuite = options.responderSuite ?? initiatorSuite
  const initiatorStatic = provider.x25519GenerateKeyPair()
  const responderStatic = provider.x25519GenerateKeyPair()
  const initiator = createXXHandshake({
    provider,
    suite: initiatorSuite,
    role: 'initiator',
    staticKeyPair: initiatorStatic,
    prologue: secureChannelPrologue(1, initiatorSuite),
  })
  const responder = createXXHandshake({
    provider,
    suite: responderSuite,
    role: 'responder',
    staticKeyPair: responderStatic,
    prologue: secureChannelPrologue(options.responderVersion ?? 1, responderSuite),
  })
  return { initiator, responder, initiatorStatic, responderStatic }
}

const bytes = (text: string) => new TextEncoder().encode(text)

/** Runs messages 1..upTo (1-based) and returns the wire messages. */
function run(initiator: NoiseHandshake, responder: NoiseHandshake, upTo = 3): Uint8Array[] {
  const wire: Uint8Array[] = []
  for (let i = 0; i < upTo; i += 1) {
    const [writer, reader] = i % 2 === 0 ? [initiator, responder] : [responder, initiator]
    const message = writer.writeMessage(bytes(`payload ${i + 1}`))
    wire.push(message)
    assert.deepEqual(reader.readMessage(message), bytes(`payload ${i + 1}`))
  }
  return wire
}

function isTypedError(error: unknown): boolean {
  return isOckamError(error) && /^OCKAM_ERR_(NOISE|CRYPTO)_/.test(error.code)
}

test('the prologue is the exact ASCII string ockam-runtime/<version>/<protocol name>', () => {
  const prologue = secureChannelPrologue(1, NOISE_XX_AESGCM)
  assert.equal(Buffer.from(prologue).toString('latin1'), 'ockam-runtime/1/Noise_XX_25519_AESGCM_SHA256')
  assert.equal(prologue.length, 44)
  assert.equal(
    Buffer.from(secureChannelPrologue(255, NOISE_XX_CHACHAPOLY)).toString('latin1'),
    'ockam-runtime/255/Noise_XX_25519_ChaChaPoly_SHA256',
  )
  for (const bad of [-1, 256, 1.5, Number.NaN]) {
    assert.throws(() => secureChannelPrologue(bad, NOISE_XX_AESGCM), { code: 'OCKAM_ERR_INVALID_ARGUMENT' })
  }
})

test('suites are found by exact protocol name only', () => {
  assert.equal(noiseSuiteByName('Noise_XX_25519_AESGCM_SHA256'), NOISE_XX_AESGCM)
  assert.equal(noiseSuiteByName('Noise_XX_25519_ChaChaPoly_SHA256'), NOISE_XX_CHACHAPOLY)
  for (const name of [
    'Noise_XX_25519_AESGCM_BLAKE2s',
    'Noise_IK_25519_AESGCM_SHA256',
    'noise_xx_25519_aesgcm_sha256',
  ]) {
    assert.throws(() => noiseSuiteByName(name), { code: 'OCKAM_ERR_NOISE_UNSUPPORTED' })
  }
})

test('nonce encodings: AESGCM big-endian, ChaChaPoly little-endian, after 4 zero bytes', () => {
  const n = 2 ** 32 + 0x0102
  assert.equal(toHex(encodeNoiseNonce(NOISE_XX_AESGCM, n)), '000000000000000100000102')
  assert.equal(toHex(encodeNoiseNonce(NOISE_XX_CHACHAPOLY, n)), '000000000201000001000000')
})

for (const provider of PROVIDERS) {
  for (const suite of NOISE_SUITES) {
    describe(`XX handshake, ${suite.cipher} (${provider.name} provider)`, () => {
      test('both sides agree on keys, hash and each other static key; fresh ephemerals each time', () => {
        const { initiator, responder, initiatorStatic, responderStatic } = pair(provider, suite)
        assert.equal(initiator.remoteStaticPublicKey(), undefined)
        const wire = run(initiator, responder)
        assert.deepEqual(
          wire.map((m) => m.length),
          [32 + 9, 96 + 9, 64 + 9],
        )
        const i = initiator.split()
        const r = responder.split()
        assert.deepEqual(i.sendKey, r.receiveKey)
        assert.deepEqual(i.receiveKey, r.sendKey)
        assert.notDeepEqual(i.sendKey, i.receiveKey)
        assert.deepEqual(i.handshakeHash, r.handshakeHash)
        assert.deepEqual(initiator.handshakeHash(), i.handshakeHash)
        assert.deepEqual(i.remoteStaticPublicKey, responderStatic.publicKey)
        assert.deepEqual(r.remoteStaticPublicKey, initiatorStatic.publicKey)
        const again = pair(provider, suite)
        assert.notDeepEqual(again.initiator.writeMessage(new Uint8Array(0)).subarray(0, 32), wire[0]!.subarray(0, 32))
      })

      test('messages read from a reused Buffer are copied, not aliased', () => {
        const { initiator, responder } = pair(provider, suite)
        const pool = Buffer.alloc(1024)
        for (let i = 0; i < 3; i += 1) {
          const [writer, reader] = i % 2 === 0 ? [initiator, responder] : [responder, initiator]
          const message = writer.writeMessage(bytes(`payload ${i}`))
          pool.set(message, 5)
          const payload = reader.readMessage(pool.subarray(5, 5 + message.length))
          pool.fill(0xee)
          assert.deepEqual(payload, bytes(`payload ${i}`))
        }
        assert.deepEqual(initiator.split().sendKey, responder.split().receiveKey)
      })

      test('steps out of turn are refused with a typed error and change nothing', () => {
        const { initiator, responder } = pair(provider, suite)
        assert.equal(initiator.nextAction(), 'write')
        assert.equal(responder.nextAction(), 'read')
        assert.throws(() => responder.writeMessage(new Uint8Array(0)), { code: 'OCKAM_ERR_NOISE_HANDSHAKE_STATE' })
        assert.throws(() => initiator.readMessage(new Uint8Array(32)), { code: 'OCKAM_ERR_NOISE_HANDSHAKE_STATE' })
        assert.throws(() => initiator.split(), { code: 'OCKAM_ERR_NOISE_HANDSHAKE_STATE' })
        run(initiator, responder)
        initiator.split()
        assert.equal(initiator.nextAction(), 'done')
        assert.throws(() => initiator.split(), { code: 'OCKAM_ERR_NOISE_HANDSHAKE_STATE' })
        assert.throws(() => initiator.writeMessage(new Uint8Array(0)), { code: 'OCKAM_ERR_NOISE_HANDSHAKE_STATE' })
      })

      test('a message of exactly 65,535 bytes passes; one byte more is refused on write, state unchanged', () => {
        const { initiator, responder } = pair(provider, suite)
        for (let i = 0; i < 3; i += 1) {
          const [writer, reader] = i % 2 === 0 ? [initiator, responder] : [responder, initiator]
          const capacity = writer.payloadCapacity()
          assert.equal(capacity, NOISE_MAX_MESSAGE_BYTES - XX_MESSAGE_OVERHEAD_BYTES[i]!)
          assert.throws(
            () => writer.writeMessage(new Uint8Array(capacity + 1)),
            (error: unknown) => {
              assert.ok(isOckamError(error, 'OCKAM_ERR_NOISE_MESSAGE_TOO_LARGE'))
              assert.equal(error.data?.limit, capacity)
              return true
            },
          )
          assert.equal(writer.nextAction(), 'write')
          const payload = new Uint8Array(capacity).fill(i + 1)
          const message = writer.writeMessage(payload)
          assert.equal(message.length, NOISE_MAX_MESSAGE_BYTES)
          assert.deepEqual(reader.readMessage(message), payload)
        }
        assert.deepEqual(initiator.split().sendKey, responder.split().receiveKey)
      })

      test('an oversize or truncated message read fails the handshake with a typed error', () => {
        for (const [length, code] of [
          [NOISE_MAX_MESSAGE_BYTES + 1, 'OCKAM_ERR_NOISE_MESSAGE_TOO_LARGE'],
          [31, 'OCKAM_ERR_NOISE_MESSAGE_MALFORMED'],
        ] as const) {
          const { responder } = pair(provider, suite)
          assert.throws(() => responder.readMessage(new Uint8Array(length)), { code })
          assert.equal(responder.nextAction(), 'failed')
          assert.throws(() => responder.readMessage(new Uint8Array(32)), { code: 'OCKAM_ERR_NOISE_HANDSHAKE_STATE' })
        }
        const { initiator, responder } = pair(provider, suite)
        responder.readMessage(initiator.writeMessage(new Uint8Array(0)))
        const message2 = responder.writeMessage(new Uint8Array(0))
        assert.throws(() => initiator.readMessage(message2.subarray(0, 95)), {
          code: 'OCKAM_ERR_NOISE_MESSAGE_MALFORMED',
        })
      })

      test('a flipped bit anywhere in message 2 or 3 fails the handshake', () => {
        for (const index of [1, 2]) {
          for (const position of ['first', 'middle', 'last'] as const) {
            const { initiator, responder } = pair(provider, suite)
            const reader = index === 1 ? initiator : responder
            for (let i = 0; i < index; i += 1) {
              const [w, r] = i % 2 === 0 ? [initiator, responder] : [responder, initiator]
              r.readMessage(w.writeMessage(bytes('x')))
            }
            const message = (index === 1 ? responder : initiator).writeMessage(bytes('secret'))
            const at = position === 'first' ? 0 : position === 'last' ? message.length - 1 : message.length >> 1
            message[at]! ^= 0x01
            assert.throws(() => reader.readMessage(message), isTypedError)
            assert.equal(reader.nextAction(), 'failed')
          }
        }
      })

      test('a different wire version or suite in the prologue fails at message 2', () => {
        const other = suite === NOISE_XX_AESGCM ? NOISE_XX_CHACHAPOLY : NOISE_XX_AESGCM
        for (const options of [{ responderVersion: 2 }, { responderSuite: other }]) {
          const { initiator, responder } = pair(provider, suite, options)
          responder.readMessage(initiator.writeMessage(new Uint8Array(0)))
          const message2 = responder.writeMessage(new Uint8Array(0))
          assert.throws(() => initiator.readMessage(message2), { code: 'OCKAM_ERR_NOISE_DECRYPT_FAILED' })
        }
      })

      test('a small-order ephemeral key from the peer is refused, not mixed in', () => {
        const { initiator, responder } = pair(provider, suite)
        responder.readMessage(new Uint8Array(32))
        assert.throws(() => responder.writeMessage(new Uint8Array(0)), { code: 'OCKAM_ERR_CRYPTO_DH_FAILED' })
        assert.equal(responder.nextAction(), 'failed')
        initiator.writeMessage(new Uint8Array(0))
        assert.throws(() => initiator.readMessage(new Uint8Array(96)), { code: 'OCKAM_ERR_CRYPTO_DH_FAILED' })
      })

      test('malformed keys are refused up front', () => {
        const good = provider.x25519GenerateKeyPair()
        const base = { provider, suite, role: 'initiator' as const, prologue: new Uint8Array(0) }
        for (const staticKeyPair of [
          { secretKey: new Uint8Array(31), publicKey: good.publicKey },
          { secretKey: good.secretKey, publicKey: new Uint8Array(33) },
        ]) {
          assert.throws(() => createXXHandshake({ ...base, staticKeyPair }), { code: 'OCKAM_ERR_CRYPTO_INVALID_KEY' })
        }
        assert.throws(
          () => createXXHandshake({ ...base, staticKeyPair: good, ephemeralSecretKey: new Uint8Array(8) }),
          {
            code: 'OCKAM_ERR_CRYPTO_INVALID_KEY',
          },
        )
      })

      test('property: mutated handshake messages only ever yield payloads or typed errors', () => {
        fc.assert(
          fc.property(
            fc.integer({ min: 0, max: 2 }),
            fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
            fc.integer({ min: -8, max: 8 }),
            (index, flips, resize) => {
              const { initiator, responder } = pair(provider, suite)
              for (let i = 0; i < index; i += 1) {
                const [w, r] = i % 2 === 0 ? [initiator, responder] : [responder, initiator]
                r.readMessage(w.writeMessage(bytes('p')))
              }
              const [w, r] = index % 2 === 0 ? [initiator, responder] : [responder, initiator]
              const original = w.writeMessage(bytes('payload'))
              const mutated = new Uint8Array(Math.max(0, original.length + resize))
              mutated.set(original.subarray(0, mutated.length))
              for (const [at, xor] of flips) if (mutated.length > 0) mutated[at % mutated.length]! ^= xor
              try {
                r.readMessage(mutated)
                assert.equal(r.nextAction(), index === 2 ? 'split' : 'write')
              } catch (error) {
                assert.ok(isTypedError(error), String(error))
                assert.equal(r.nextAction(), 'failed')
              }
            },
          ),
          { numRuns: 150 },
        )
      })
    })
  }
}
