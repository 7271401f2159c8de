/**
 * The post-handshake frame cipher: replay, tamper, gap, reordering window, hostile nonces that
 * must cost nothing, and random mutations that must never crash it or move its state.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { isOckamError } from '../../../runtime/errors.js'
import type { CryptoProvider } from '../../../runtime/trust/crypto/provider.js'
import { CipherState } from '../../../runtime/trust/noise/cipher-state.js'
import { NOISE_MAX_MESSAGE_BYTES, NOISE_MAX_NONCE } from '../../../runtime/trust/noise/constants.js'
import { NOISE_SUITES, type NoiseSuite } from '../../../runtime/trust/noise/suite.js'
import {
  DEFAULT_REPLAY_WINDOW_FRAMES,
  TRANSPORT_FRAME_OVERHEAD_BYTES,
} from '../../../workers/secure-channel/constants.js'
import {
  createTransportReceiver,
  createTransportSender,
  type TransportOrdering,
  type TransportReceiver,
} from '../../../workers/secure-channel/transport-cipher.js'
import { countingProvider, PROVIDERS, totalCalls } from './helpers.js'

const ORDERINGS: readonly TransportOrdering[] = ['ordered', 'reordering']

function channel(provider: CryptoProvider, suite: NoiseSuite, ordering: TransportOrdering, rekeyInterval = 32) {
  const key = provider.randomBytes(32)
  return {
    sender: createTransportSender({ provider, suite, key, rekeyInterval }),
    receiver: createTransportReceiver({ provider, suite, key, rekeyInterval, ordering }),
    key,
  }
}

function frames(provider: CryptoProvider, suite: NoiseSuite, count: number, rekeyInterval = 32) {
  const c = channel(provider, suite, 'ordered', rekeyInterval)
  return { key: c.key, frames: Array.from({ length: count }, (_, n) => c.sender.seal(Uint8Array.of(n & 0xff, n >> 8))) }
}

function withNonce(frame: Uint8Array, nonce: bigint): Uint8Array {
  const out = frame.slice()
  new DataView(out.buffer).setBigUint64(0, nonce, false)
  return out
}

function assertRejectedUnchanged(receiver: TransportReceiver, frame: Uint8Array, code: string): void {
  const before = receiver.state()
  assert.throws(() => receiver.open(frame), { code })
  assert.deepEqual(receiver.state(), before)
}

for (const provider of PROVIDERS) {
  for (const suite of NOISE_SUITES) {
    describe(`transport cipher, ${suite.cipher} (${provider.name} provider)`, () => {
      for (const ordering of ORDERINGS) {
        test(`${ordering}: frames round-trip; a replayed frame is rejected and changes nothing`, () => {
          const { sender, receiver } = channel(provider, suite, ordering)
          const sent: Uint8Array[] = []
          for (let n = 0; n < 70; n += 1) {
            const frame = sender.seal(new TextEncoder().encode(`message ${n}`))
            sent.push(frame)
            assert.equal(new TextDecoder().decode(receiver.open(frame)), `message ${n}`)
          }
          assert.equal(receiver.state().nextNonce, 70)
          for (const n of [0, 31, 32, 69]) assertRejectedUnchanged(receiver, sent[n]!, 'OCKAM_ERR_NOISE_REPLAY')
        })

        test(`${ordering}: a tampered frame is rejected with state unchanged; the genuine one then opens`, () => {
          const { sender, receiver } = channel(provider, suite, ordering)
          receiver.open(sender.seal(new Uint8Array(10)))
          const frame = sender.seal(new Uint8Array(10).fill(7))
          for (const at of [8, 12, frame.length - 16, frame.length - 1]) {
            const tampered = frame.slice()
            tampered[at]! ^= 0x80
            assertRejectedUnchanged(receiver, tampered, 'OCKAM_ERR_NOISE_DECRYPT_FAILED')
          }
          assert.deepEqual(receiver.open(frame), new Uint8Array(10).fill(7))
        })

        test(`${ordering}: frames claiming nonce 2^53, 2^63 or 2^64-1 cost no crypto and change nothing`, () => {
          const counted = countingProvider(provider)
          const key = provider.randomBytes(32)
          const sender = createTransportSender({ provider, suite, key })
          const receiver = createTransportReceiver({ provider: counted.provider, suite, key, ordering })
          const genuine = sender.seal(new Uint8Array(100))
          receiver.open(genuine)
          const callsAfterOne = totalCalls(counted.counts)
          const code = ordering === 'ordered' ? 'OCKAM_ERR_NOISE_NONCE_GAP' : 'OCKAM_ERR_NOISE_NONCE_TOO_FAR'
          for (const nonce of [2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 65n]) {
            assertRejectedUnchanged(receiver, withNonce(genuine, nonce), code)
          }
          assert.equal(totalCalls(counted.counts), callsAfterOne)
          assert.deepEqual(receiver.open(sender.seal(Uint8Array.of(1))), Uint8Array.of(1))
        })

        test(`${ordering}: lengths are checked before any crypto`, () => {
          const counted = countingProvider(provider)
          const key = provider.randomBytes(32)
          const receiver = createTransportReceiver({ provider: counted.provider, suite, key, ordering })
          assertRejectedUnchanged(
            receiver,
            new Uint8Array(TRANSPORT_FRAME_OVERHEAD_BYTES - 1),
            'OCKAM_ERR_NOISE_MESSAGE_MALFORMED',
          )
          assertRejectedUnchanged(
            receiver,
            new Uint8Array(8 + NOISE_MAX_MESSAGE_BYTES + 1),
            'OCKAM_ERR_NOISE_MESSAGE_TOO_LARGE',
          )
          assert.equal(totalCalls(counted.counts), 0)
        })

        test(`${ordering}: property: random mutations never crash and never change state`, () => {
          const { key, frames: sent } = frames(provider, suite, 40, 8)
          fc.assert(
            fc.property(
              fc.integer({ min: 0, max: 39 }),
              fc.integer({ min: 0, max: 39 }),
              fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
              fc.integer({ min: -30, max: 4 }),
              (accepted, target, flips, resize) => {
                const receiver = createTransportReceiver({ provider, suite, key, rekeyInterval: 8, ordering })
                for (let n = 0; n < accepted; n += 1) receiver.open(sent[n]!)
                const original = sent[target]!
                const mutated = new Uint8Array(Math.max(0, original.length + resize))
                mutated.set(original.subarray(0, mutated.length))
                for (const [at, xor] of flips) if (mutated.length > 0) mutated[at % mutated.length]! ^= xor
                const before = receiver.state()
                try {
                  receiver.open(mutated)
                  // Only a genuine, not yet accepted frame may open.
                  assert.deepEqual(mutated, original)
                  assert.ok(ordering === 'reordering' || target === accepted)
                } catch (error) {
                  assert.ok(isOckamError(error) && error.code.startsWith('OCKAM_ERR_NOISE_'), String(error))
                  assert.deepEqual(receiver.state(), before)
                }
                if (ordering === 'ordered' && accepted < 40 && receiver.state().nextNonce === accepted) {
                  receiver.open(sent[accepted]!)
                }
              },
            ),
            { numRuns: 120 },
          )
        })
      }

      test('Buffer keys and frames at odd offsets work and are never aliased or wiped', () => {
        const key = Buffer.from(provider.randomBytes(32))
        const keyBefore = Buffer.from(key)
        const sender = createTransportSender({ provider, suite, key })
        const receiver = createTransportReceiver({ provider, suite, key })
        for (let n = 0; n < 70; n += 1) {
          const frame = sender.seal(Buffer.from([n]))
          const pooled = Buffer.concat([Buffer.alloc(3), frame]).subarray(3)
          assert.deepEqual(receiver.open(pooled), Uint8Array.of(n))
          pooled.fill(0)
        }
        sender.destroy()
        receiver.destroy()
        assert.deepEqual(key, keyBefore)
      })

      test('ordered: a skipped frame is a typed gap error that changes nothing', () => {
        const { sender, receiver } = channel(provider, suite, 'ordered')
        receiver.open(sender.seal(Uint8Array.of(0)))
        sender.seal(Uint8Array.of(1))
        const third = sender.seal(Uint8Array.of(2))
        const before = receiver.state()
        assert.throws(
          () => receiver.open(third),
          (error: unknown) => {
            assert.ok(isOckamError(error, 'OCKAM_ERR_NOISE_NONCE_GAP'))
            assert.deepEqual(error.data, { expected: 1, received: '2' })
            assert.match(error.hint ?? '', /close the channel/)
            return true
          },
        )
        assert.deepEqual(receiver.state(), before)
      })

      test('reordering: any order within the window opens each frame once, across rekeys', () => {
        const { key, frames: sent } = frames(provider, suite, 100)
        const receiver = createTransportReceiver({ provider, suite, key, ordering: 'reordering' })
        // Blocks of 10 in reverse order: every frame arrives up to 19 places early or late.
        const order = Array.from({ length: 100 }, (_, i) => Math.floor(i / 10) * 10 + (9 - (i % 10)))
        for (const n of order) assert.deepEqual(receiver.open(sent[n]!), Uint8Array.of(n, 0))
        for (const n of [99, 95, 90]) assertRejectedUnchanged(receiver, sent[n]!, 'OCKAM_ERR_NOISE_REPLAY')
        assert.deepEqual(receiver.state().heldKeyIntervals, [1, 2, 3])
      })

      test('reordering: a frame older than the window is a replay; one interval ahead is allowed, two are not', () => {
        const { key, frames: sent } = frames(provider, suite, 200)
        const counted = countingProvider(provider)
        const receiver = createTransportReceiver({ provider: counted.provider, suite, key, ordering: 'reordering' })
        assert.equal(DEFAULT_REPLAY_WINDOW_FRAMES, 64)
        receiver.open(sent[40]!) // interval 1: one ahead of a fresh receiver
        assertRejectedUnchanged(receiver, sent[96]!, 'OCKAM_ERR_NOISE_NONCE_TOO_FAR') // interval 3
        receiver.open(sent[63]!)
        receiver.open(sent[0]!) // 63 - 64 < 0: still inside the window
        receiver.open(sent[64]!)
        receiver.open(sent[100]!)
        assertRejectedUnchanged(receiver, sent[36]!, 'OCKAM_ERR_NOISE_REPLAY') // 100 - 64
        assert.deepEqual(receiver.open(sent[37]!), Uint8Array.of(37, 0))
        assert.deepEqual(receiver.state().heldKeyIntervals, [1, 2, 3])
        // A forged frame in the next interval (4) costs exactly one REKEY and one failed open.
        const before = { ...counted.counts }
        const forged = sent[130]!.slice()
        forged[20]! ^= 1
        assertRejectedUnchanged(receiver, forged, 'OCKAM_ERR_NOISE_DECRYPT_FAILED')
        assert.equal((counted.counts.aeadSeal ?? 0) - (before.aeadSeal ?? 0), 1)
        assert.equal((counted.counts.aeadOpen ?? 0) - (before.aeadOpen ?? 0), 1)
      })

      test('the largest plaintext fills a 65,535-byte Noise message; one byte more is refused', () => {
        const { sender, receiver } = channel(provider, suite, 'ordered')
        assert.equal(sender.maxPlaintextBytes, 65_519)
        assert.throws(() => sender.seal(new Uint8Array(65_520)), { code: 'OCKAM_ERR_NOISE_MESSAGE_TOO_LARGE' })
        assert.deepEqual(sender.state(), { nextNonce: 0, keyInterval: 0 })
        const frame = sender.seal(new Uint8Array(65_519).fill(3))
        assert.equal(frame.length, 8 + NOISE_MAX_MESSAGE_BYTES)
        assert.deepEqual(receiver.open(frame), new Uint8Array(65_519).fill(3))
      })

      test('a deliberately lifted message limit must be set on both sides', () => {
        const key = provider.randomBytes(32)
        const sender = createTransportSender({ provider, suite, key, maxMessageBytes: 128 * 1024 })
        const lifted = createTransportReceiver({ provider, suite, key, maxMessageBytes: 128 * 1024 })
        const strict = createTransportReceiver({ provider, suite, key })
        const frame = sender.seal(new Uint8Array(100_000))
        assert.equal(lifted.open(frame).length, 100_000)
        assertRejectedUnchanged(strict, frame, 'OCKAM_ERR_NOISE_MESSAGE_TOO_LARGE')
      })
    })
  }

  test(`options are validated; destroyed ciphers refuse work (${provider.name} provider)`, () => {
    const [suite] = NOISE_SUITES as [NoiseSuite]
    const key = provider.randomBytes(32)
    const bad = [
      () => createTransportSender({ provider, suite, key: new Uint8Array(16) }),
      () => createTransportSender({ provider, suite, key, rekeyInterval: 0 }),
      () => createTransportSender({ provider, suite, key, maxMessageBytes: 15 }),
      () => createTransportReceiver({ provider, suite, key, replayWindowFrames: 64 }),
      () => createTransportReceiver({ provider, suite, key, ordering: 'reordering', replayWindowFrames: 0 }),
    ]
    for (const make of bad) assert.throws(make, (e: unknown) => isOckamError(e))
    const sender = createTransportSender({ provider, suite, key })
    const receiver = createTransportReceiver({ provider, suite, key })
    const frame = sender.seal(new Uint8Array(1))
    sender.destroy()
    receiver.destroy()
    assert.throws(() => sender.seal(new Uint8Array(1)), { code: 'OCKAM_ERR_STOPPED' })
    assert.throws(() => receiver.open(frame), { code: 'OCKAM_ERR_STOPPED' })
  })

  test(`a cipher state stops at its last nonce instead of wrapping (${provider.name} provider)`, () => {
    const [suite] = NOISE_SUITES as [NoiseSuite]
    const state = new CipherState(provider, suite, provider.randomBytes(32))
    state.setNonce(NOISE_MAX_NONCE)
    state.encryptWithAd(new Uint8Array(0), new Uint8Array(1))
    assert.throws(() => state.encryptWithAd(new Uint8Array(0), new Uint8Array(1)), {
      code: 'OCKAM_ERR_NOISE_NONCE_EXHAUSTED',
    })
  })
}
