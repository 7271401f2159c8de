/**
 * The two providers are independent implementations (OpenSSL, @noble/*): on random inputs they
 * must produce the same bytes and the same verdicts. Ed25519 signing is deterministic, so even
 * signatures must be identical.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { isOckamError } from '../../../runtime/errors.js'
import { createNativeCryptoProvider, createPortableCryptoProvider } from '../../../runtime/trust/crypto/index.js'
import { primeOrderCase, smallOrderCases, tamingCases } from './ed25519-edge-cases.js'

const native = createNativeCryptoProvider()
const portable = createPortableCryptoProvider()

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max })
const key32 = bytes(32, 32)
const RUNS = { numRuns: 60 }

/** Runs `f` on both providers; both must return equal bytes, or both throw the same OckamError code. */
function same(f: (p: typeof native) => Uint8Array): void {
  const outcome = (p: typeof native) => {
    try {
      return { bytes: f(p) }
    } catch (error) {
      if (!isOckamError(error)) throw error
      return { code: error.code }
    }
  }
  const a = outcome(native)
  const b = outcome(portable)
  assert.deepEqual(
    'bytes' in a ? { bytes: Buffer.from(a.bytes) } : a,
    'bytes' in b ? { bytes: Buffer.from(b.bytes) } : b,
  )
}

test('Ed25519: same public key and same signature; each verifies the other', () => {
  fc.assert(
    fc.property(key32, bytes(0, 300), (secretKey, message) => {
      const publicKey = native.ed25519PublicKey(secretKey)
      assert.deepEqual(portable.ed25519PublicKey(secretKey), publicKey)
      const signature = native.ed25519Sign(secretKey, message)
      assert.deepEqual(portable.ed25519Sign(secretKey, message), signature)
      assert.equal(native.ed25519Verify(publicKey, message, signature), true)
      assert.equal(portable.ed25519Verify(publicKey, message, signature), true)
    }),
    RUNS,
  )
})

test('Ed25519: the same verdict on mutated signatures, keys and edge cases', () => {
  const seeds = [primeOrderCase(), ...tamingCases(), ...smallOrderCases()]
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.constantFrom('publicKey', 'signature', 'message'),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      (edge, field, index, value) => {
        const mutated = { publicKey: edge.publicKey, signature: edge.signature, message: edge.message }
        const target = mutated[field].slice()
        if (target.length > 0) target[index % target.length] = value
        mutated[field] = target
        const verdict = native.ed25519Verify(mutated.publicKey, mutated.message, mutated.signature)
        assert.equal(portable.ed25519Verify(mutated.publicKey, mutated.message, mutated.signature), verdict)
      },
    ),
    { numRuns: 300 },
  )
})

test('Ed25519: random keys and signatures get the same verdict (false)', () => {
  fc.assert(
    fc.property(bytes(30, 34), bytes(0, 64), bytes(62, 66), (publicKey, message, signature) => {
      const verdict = native.ed25519Verify(publicKey, message, signature)
      assert.equal(portable.ed25519Verify(publicKey, message, signature), verdict)
    }),
    { numRuns: 200 },
  )
})

test('X25519: same public key; same shared secret for any peer value, or both DH_FAILED', () => {
  fc.assert(
    fc.property(key32, key32, (secretKey, peer) => {
      same((p) => p.x25519PublicKey(secretKey))
      same((p) => p.x25519(secretKey, peer))
    }),
    RUNS,
  )
})

test('X25519: small-order peers (any scalar) fail alike', () => {
  const lowOrderU = [
    new Uint8Array(32),
    new Uint8Array([1, ...new Uint8Array(31)]),
    new Uint8Array(Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex')),
  ]
  fc.assert(
    fc.property(key32, fc.constantFrom(...lowOrderU), fc.boolean(), (secretKey, u, topBit) => {
      const peer = u.slice()
      if (topBit) peer[31] = (peer[31] as number) | 0x80
      same((p) => p.x25519(secretKey, peer))
      assert.throws(
        () => portable.x25519(secretKey, peer),
        (e: unknown) => isOckamError(e, 'OCKAM_ERR_CRYPTO_DH_FAILED'),
      )
    }),
    { numRuns: 30 },
  )
})

test('AEAD: same sealed bytes; each opens the other', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('aes-256-gcm' as const, 'chacha20-poly1305' as const),
      key32,
      bytes(12, 12),
      bytes(0, 64),
      bytes(0, 1100),
      (algorithm, key, nonce, ad, plaintext) => {
        const sealed = native.aeadSeal(algorithm, key, nonce, ad, plaintext)
        assert.deepEqual(portable.aeadSeal(algorithm, key, nonce, ad, plaintext), sealed)
        assert.deepEqual(Buffer.from(portable.aeadOpen(algorithm, key, nonce, ad, sealed)), Buffer.from(plaintext))
        assert.deepEqual(Buffer.from(native.aeadOpen(algorithm, key, nonce, ad, sealed)), Buffer.from(plaintext))
      },
    ),
    { numRuns: 100 },
  )
})

test('AEAD: a corrupted byte fails alike', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('aes-256-gcm' as const, 'chacha20-poly1305' as const),
      key32,
      bytes(0, 100),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (algorithm, key, plaintext, index, delta) => {
        const nonce = new Uint8Array(12)
        const sealed = native.aeadSeal(algorithm, key, nonce, new Uint8Array(0), plaintext)
        const i = index % sealed.length
        sealed[i] = ((sealed[i] as number) + delta) & 0xff
        same((p) => p.aeadOpen(algorithm, key, nonce, new Uint8Array(0), sealed))
      },
    ),
    { numRuns: 100 },
  )
})

test('SHA-256, HMAC-SHA256 and HKDF-SHA256: same bytes', () => {
  fc.assert(
    fc.property(bytes(0, 300), bytes(0, 200), bytes(0, 80), fc.integer({ min: 0, max: 400 }), (a, b, c, length) => {
      same((p) => p.sha256(a))
      same((p) => p.hmacSha256(b, a))
      same((p) => p.hkdfSha256(a, b, c, length))
    }),
    { numRuns: 200 },
  )
})
