/**
 * One compliance suite, run over every crypto provider: published known answers, the strict
 * Ed25519 policy on the "Taming the many EdDSAs" categories and every small-order encoding,
 * X25519 small-order refusal, AEAD tampering and argument errors. Both providers must give the
 * same answers; provider-cross-check.test.ts compares their outputs on random inputs.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ed25519 } from '@noble/curves/ed25519.js'
import { isOckamError, type OckamErrorCode } from '../../../runtime/errors.js'
import {
  type AeadAlgorithm,
  CRYPTO_PROVIDER_NAMES,
  type CryptoProvider,
  createCryptoProvider,
} from '../../../runtime/trust/crypto/index.js'
import {
  ED25519_L,
  ED25519_P,
  type EdgeCase,
  nonCanonicalPrimeOrderEncodings,
  primeOrderCase,
  smallOrderCases,
  tamingCases,
} from './ed25519-edge-cases.js'
import {
  AEAD_VECTORS,
  RFC4231_HMAC_SHA256,
  RFC5869_HKDF_SHA256,
  RFC7748_X25519,
  RFC8032_ED25519,
  SHA256_VECTORS,
  X25519_LOW_ORDER_U,
} from './vectors.js'

const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'))
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const le32 = (n: bigint): Uint8Array => hex(n.toString(16).padStart(64, '0')).reverse()

function throwsCode(fn: () => unknown, code: OckamErrorCode): void {
  assert.throws(fn, (error: unknown) => isOckamError(error, code))
}

function flipBit(bytes: Uint8Array, index: number): Uint8Array {
  const out = bytes.slice()
  out[index % out.length] = (out[index % out.length] as number) ^ (1 << (index % 8))
  return out
}

// Built once: the recipes search messages with noble's arithmetic, which both suites share.
const TAMING = tamingCases()
const SMALL_ORDER = smallOrderCases()
const PRIME = primeOrderCase()

export function cryptoProviderComplianceSuite(name: string, create: () => CryptoProvider): void {
  describe(`crypto provider compliance: ${name}`, () => {
    const provider = create()

    test('reports its name', () => {
      assert.equal(provider.name, name)
    })

    describe('Ed25519 (RFC 8032 §7.1)', () => {
      for (const v of RFC8032_ED25519) {
        test(`${v.name}: public key, signature and verification`, () => {
          const secretKey = hex(v.secretKey)
          const message = hex(v.message)
          assert.equal(toHex(provider.ed25519PublicKey(secretKey)), v.publicKey)
          assert.equal(toHex(provider.ed25519Sign(secretKey, message)), v.signature)
          assert.equal(provider.ed25519Verify(hex(v.publicKey), message, hex(v.signature)), true)
        })
      }

      test('a flipped bit anywhere in message, key or signature fails verification', () => {
        const v = RFC8032_ED25519[2]!
        const [pk, msg, sig] = [hex(v.publicKey), hex(v.message), hex(v.signature)]
        for (let bit = 0; bit < 16; bit++) assert.equal(provider.ed25519Verify(pk, flipBit(msg, bit), sig), false)
        for (let bit = 0; bit < 256; bit += 13) assert.equal(provider.ed25519Verify(flipBit(pk, bit), msg, sig), false)
        for (let bit = 0; bit < 512; bit += 11) assert.equal(provider.ed25519Verify(pk, msg, flipBit(sig, bit)), false)
      })

      test('wrong lengths are refused, not thrown', () => {
        const v = RFC8032_ED25519[0]!
        const [pk, sig] = [hex(v.publicKey), hex(v.signature)]
        const msg = new Uint8Array(0)
        for (const badPk of [pk.subarray(0, 31), new Uint8Array([...pk, 0]), new Uint8Array(0)]) {
          assert.equal(provider.ed25519Verify(badPk, msg, sig), false)
        }
        for (const badSig of [sig.subarray(0, 63), new Uint8Array([...sig, 0]), new Uint8Array(0)]) {
          assert.equal(provider.ed25519Verify(pk, msg, badSig), false)
        }
      })

      test('a generated key pair signs and verifies; the public key derives from the secret', () => {
        const { secretKey, publicKey } = provider.ed25519GenerateKeyPair()
        assert.equal(secretKey.length, 32)
        assert.deepEqual(provider.ed25519PublicKey(secretKey), publicKey)
        const message = new TextEncoder().encode('generated')
        assert.equal(provider.ed25519Verify(publicKey, message, provider.ed25519Sign(secretKey, message)), true)
      })

      test('a secret key of the wrong length is OCKAM_ERR_CRYPTO_INVALID_KEY', () => {
        throwsCode(() => provider.ed25519Sign(new Uint8Array(31), new Uint8Array(1)), 'OCKAM_ERR_CRYPTO_INVALID_KEY')
        throwsCode(() => provider.ed25519PublicKey(new Uint8Array(64)), 'OCKAM_ERR_CRYPTO_INVALID_KEY')
      })
    })

    describe('Ed25519 strict policy', () => {
      const check = (cases: readonly EdgeCase[]) => {
        for (const c of cases) {
          assert.equal(provider.ed25519Verify(c.publicKey, c.message, c.signature), c.strict, c.name)
        }
      }

      test('the twelve "Taming the many EdDSAs" categories: only canonical, non-small-order, cofactorless passes', () => {
        assert.equal(TAMING.length, 12)
        assert.deepEqual(
          TAMING.filter((c) => c.strict).map((c) => c.name),
          ['3: mixed-order A and R, cofactorless holds'],
        )
        check(TAMING)
      })

      test('every small-order encoding (8 canonical, 6 not) is refused as A and as R', () => {
        assert.equal(SMALL_ORDER.length, 28)
        check(SMALL_ORDER)
      })

      test('non-canonical encodings of prime-order points are refused as A and as R', () => {
        const encodings = nonCanonicalPrimeOrderEncodings()
        assert.ok(encodings.length > 0)
        for (const bytes of encodings) {
          assert.equal(provider.ed25519Verify(bytes, PRIME.message, PRIME.signature), false)
          const sig = new Uint8Array([...bytes, ...PRIME.signature.subarray(32)])
          assert.equal(provider.ed25519Verify(PRIME.publicKey, PRIME.message, sig), false)
        }
      })

      test('S >= L is refused even where the equation would hold for S mod L', () => {
        assert.equal(provider.ed25519Verify(PRIME.publicKey, PRIME.message, PRIME.signature), true)
        const s = BigInt(`0x${toHex(PRIME.signature.slice(32).reverse())}`)
        const withS = (value: bigint) => new Uint8Array([...PRIME.signature.subarray(0, 32), ...le32(value)])
        assert.equal(provider.ed25519Verify(PRIME.publicKey, PRIME.message, withS(s + ED25519_L)), false)
        assert.equal(provider.ed25519Verify(PRIME.publicKey, PRIME.message, withS(ED25519_L)), false)
        assert.equal(provider.ed25519Verify(PRIME.publicKey, PRIME.message, withS(2n ** 256n - 1n)), false)
      })

      test('encodings that are not on the curve are refused', () => {
        const offCurve = le32(2n)
        assert.throws(() => ed25519.Point.fromBytes(offCurve, true), /invalid y coordinate/)
        assert.equal(provider.ed25519Verify(offCurve, PRIME.message, PRIME.signature), false)
        const sig = new Uint8Array([...offCurve, ...PRIME.signature.subarray(32)])
        assert.equal(provider.ed25519Verify(PRIME.publicKey, PRIME.message, sig), false)
        assert.equal(provider.ed25519Verify(le32(ED25519_P - 2n), PRIME.message, PRIME.signature), false)
      })
    })

    describe('X25519 (RFC 7748)', () => {
      test('§5.2 scalar multiplication vectors', () => {
        for (const v of RFC7748_X25519.scalarMult) {
          assert.equal(toHex(provider.x25519(hex(v.scalar), hex(v.u))), v.output)
        }
      })

      test('§5.2 iterated: 1 and 1000 iterations', () => {
        let k = hex(`09${'00'.repeat(31)}`)
        let u = k
        for (let i = 1; i <= 1000; i++) {
          ;[k, u] = [provider.x25519(k, u), k]
          if (i === 1) assert.equal(toHex(k), RFC7748_X25519.iterated[1])
        }
        assert.equal(toHex(k), RFC7748_X25519.iterated[1000])
      })

      test('§6.1 Diffie-Hellman: public keys and the shared secret both ways', () => {
        const v = RFC7748_X25519.diffieHellman
        assert.equal(toHex(provider.x25519PublicKey(hex(v.alicePrivate))), v.alicePublic)
        assert.equal(toHex(provider.x25519PublicKey(hex(v.bobPrivate))), v.bobPublic)
        assert.equal(toHex(provider.x25519(hex(v.alicePrivate), hex(v.bobPublic))), v.shared)
        assert.equal(toHex(provider.x25519(hex(v.bobPrivate), hex(v.alicePublic))), v.shared)
      })

      test('a small-order peer key is OCKAM_ERR_CRYPTO_DH_FAILED, canonical or not', () => {
        const { secretKey } = provider.x25519GenerateKeyPair()
        assert.equal(X25519_LOW_ORDER_U.length, 14)
        for (const u of X25519_LOW_ORDER_U) {
          throwsCode(() => provider.x25519(secretKey, le32(u)), 'OCKAM_ERR_CRYPTO_DH_FAILED')
        }
      })

      test('generated key pairs agree on a shared secret', () => {
        const alice = provider.x25519GenerateKeyPair()
        const bob = provider.x25519GenerateKeyPair()
        assert.deepEqual(provider.x25519PublicKey(alice.secretKey), alice.publicKey)
        assert.deepEqual(
          provider.x25519(alice.secretKey, bob.publicKey),
          provider.x25519(bob.secretKey, alice.publicKey),
        )
      })

      test('keys of the wrong length are OCKAM_ERR_CRYPTO_INVALID_KEY', () => {
        const good = new Uint8Array(32).fill(7)
        throwsCode(() => provider.x25519(new Uint8Array(31), good), 'OCKAM_ERR_CRYPTO_INVALID_KEY')
        throwsCode(() => provider.x25519(good, new Uint8Array(33)), 'OCKAM_ERR_CRYPTO_INVALID_KEY')
        throwsCode(() => provider.x25519PublicKey(new Uint8Array(0)), 'OCKAM_ERR_CRYPTO_INVALID_KEY')
      })
    })

    describe('hashes and key derivation', () => {
      test('SHA-256 (FIPS 180-2 examples)', () => {
        for (const v of SHA256_VECTORS) assert.equal(toHex(provider.sha256(hex(v.data))), v.digest)
      })

      test('HMAC-SHA256 (RFC 4231 cases 1-7)', () => {
        for (const v of RFC4231_HMAC_SHA256) {
          const mac = toHex(provider.hmacSha256(hex(v.key), hex(v.data)))
          assert.equal(mac.slice(0, v.mac.length), v.mac, v.name)
          assert.equal(mac.length, 64)
        }
      })

      test('HKDF-SHA256 (RFC 5869 A.1-A.3)', () => {
        for (const v of RFC5869_HKDF_SHA256) {
          assert.equal(toHex(provider.hkdfSha256(hex(v.ikm), hex(v.salt), hex(v.info), v.length)), v.okm, v.name)
        }
      })

      test('HKDF output lengths: 0 and 8160 bytes allowed, 8161 is OCKAM_ERR_INVALID_ARGUMENT', () => {
        const ikm = new Uint8Array(32)
        assert.equal(provider.hkdfSha256(ikm, new Uint8Array(0), new Uint8Array(0), 0).length, 0)
        assert.equal(provider.hkdfSha256(ikm, new Uint8Array(0), new Uint8Array(0), 8160).length, 8160)
        throwsCode(() => provider.hkdfSha256(ikm, ikm, ikm, 8161), 'OCKAM_ERR_INVALID_ARGUMENT')
        throwsCode(() => provider.hkdfSha256(ikm, ikm, ikm, -1), 'OCKAM_ERR_INVALID_ARGUMENT')
        throwsCode(() => provider.hkdfSha256(ikm, ikm, ikm, 1.5), 'OCKAM_ERR_INVALID_ARGUMENT')
      })

      test('randomBytes returns the length asked, beyond WebCrypto 64 KiB quota too', () => {
        assert.equal(provider.randomBytes(0).length, 0)
        const big = provider.randomBytes(200_000)
        assert.equal(big.length, 200_000)
        // Each 64 KiB chunk was filled: a zero chunk has probability 2^-524288.
        for (let offset = 0; offset < big.length; offset += 65536) {
          assert.ok(big.subarray(offset, offset + 65536).some((b) => b !== 0))
        }
        assert.notDeepEqual(provider.randomBytes(32), provider.randomBytes(32))
        throwsCode(() => provider.randomBytes(-1), 'OCKAM_ERR_INVALID_ARGUMENT')
      })
    })

    describe('AEAD', () => {
      for (const v of AEAD_VECTORS) {
        test(`${v.algorithm}: ${v.name}`, () => {
          const [key, nonce, ad] = [hex(v.key), hex(v.nonce), hex(v.ad)]
          assert.equal(toHex(provider.aeadSeal(v.algorithm, key, nonce, ad, hex(v.plaintext))), v.sealed)
          assert.equal(toHex(provider.aeadOpen(v.algorithm, key, nonce, ad, hex(v.sealed))), v.plaintext)
        })
      }

      for (const algorithm of ['aes-256-gcm', 'chacha20-poly1305'] as const) {
        test(`${algorithm}: any tampering is OCKAM_ERR_CRYPTO_AEAD_FAILED`, () => {
          const key = provider.randomBytes(32)
          const nonce = provider.randomBytes(12)
          const ad = new TextEncoder().encode('header')
          const sealed = provider.aeadSeal(algorithm, key, nonce, ad, new TextEncoder().encode('attack at dawn'))
          const open = (k: Uint8Array, n: Uint8Array, a: Uint8Array, c: Uint8Array) => () =>
            provider.aeadOpen(algorithm, k, n, a, c)
          const failed: OckamErrorCode = 'OCKAM_ERR_CRYPTO_AEAD_FAILED'
          for (let i = 0; i < sealed.length; i++) throwsCode(open(key, nonce, ad, flipBit(sealed, i * 8 + 3)), failed)
          throwsCode(open(flipBit(key, 9), nonce, ad, sealed), failed)
          throwsCode(open(key, flipBit(nonce, 4), ad, sealed), failed)
          throwsCode(open(key, nonce, flipBit(ad, 0), sealed), failed)
          throwsCode(open(key, nonce, new Uint8Array(0), sealed), failed)
          throwsCode(open(key, nonce, ad, sealed.subarray(0, sealed.length - 1)), failed)
          throwsCode(open(key, nonce, ad, sealed.subarray(1)), failed)
          throwsCode(open(key, nonce, ad, new Uint8Array([...sealed, 0])), failed)
          throwsCode(open(key, nonce, ad, sealed.subarray(0, 15)), failed)
          throwsCode(open(key, nonce, ad, new Uint8Array(0)), failed)
        })

        test(`${algorithm}: empty plaintext and empty associated data round-trip`, () => {
          const key = provider.randomBytes(32)
          const nonce = provider.randomBytes(12)
          const sealed = provider.aeadSeal(algorithm, key, nonce, new Uint8Array(0), new Uint8Array(0))
          assert.equal(sealed.length, 16)
          assert.equal(provider.aeadOpen(algorithm, key, nonce, new Uint8Array(0), sealed).length, 0)
        })
      }

      test('malformed arguments fail with typed errors before any cipher runs', () => {
        const [key, nonce, empty] = [new Uint8Array(32), new Uint8Array(12), new Uint8Array(0)]
        for (const algorithm of ['aes-256-gcm', 'chacha20-poly1305'] as const) {
          throwsCode(
            () => provider.aeadSeal(algorithm, key.subarray(1), nonce, empty, empty),
            'OCKAM_ERR_CRYPTO_INVALID_KEY',
          )
          throwsCode(
            () => provider.aeadSeal(algorithm, key, new Uint8Array(16), empty, empty),
            'OCKAM_ERR_INVALID_ARGUMENT',
          )
          throwsCode(
            () => provider.aeadOpen(algorithm, key, nonce.subarray(4), empty, key),
            'OCKAM_ERR_INVALID_ARGUMENT',
          )
        }
        const unknown = 'aes-128-cbc' as AeadAlgorithm
        throwsCode(() => provider.aeadSeal(unknown, key, nonce, empty, empty), 'OCKAM_ERR_INVALID_ARGUMENT')
      })
    })
  })
}

for (const name of CRYPTO_PROVIDER_NAMES) cryptoProviderComplianceSuite(name, () => createCryptoProvider(name))

test('createCryptoProvider defaults to native and refuses an unknown name', () => {
  assert.equal(createCryptoProvider().name, 'native')
  throwsCode(() => createCryptoProvider('openssl' as 'native'), 'OCKAM_ERR_INVALID_ARGUMENT')
})
