/**
 * The default provider, on node:crypto (OpenSSL). node:crypto takes keys as KeyObjects; raw
 * 32-byte keys go in as JWK, which Node hands to OpenSSL's raw-key import: about 6 µs for a
 * public key and 36 µs for a private one, against 76 µs and 355 µs through PKCS#8/SPKI DER
 * (OpenSSL 3's decoder machinery). Key objects that come back are cached (key-cache.ts).
 *
 * Ed25519 verification is strict (ed25519-strict.ts): OpenSSL checks S < L and compares the
 * re-encoded cofactorless R, but it accepts non-canonical and small-order public keys and
 * small-order R, so those are refused before OpenSSL is called.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  type KeyObject,
  randomBytes as nodeRandomBytes,
  sign,
  verify,
} from 'node:crypto'
import { OckamError } from '../../errors.js'
import { checkAeadArguments, checkBytes, checkHkdfLength, checkKeyLength, checkOutputLength } from './arguments.js'
import { DEFAULT_VERIFY_KEY_CACHE_ENTRIES, RANDOM_BYTES_MAX } from './constants.js'
import { passesStrictEncodingChecks } from './ed25519-strict.js'
import { createPublicKeyCache, createSecretKeyCache } from './key-cache.js'
import {
  AEAD_TAG_BYTES,
  type AeadAlgorithm,
  type CryptoProvider,
  ED25519_SECRET_KEY_BYTES,
  type KeyPair,
  X25519_KEY_BYTES,
} from './provider.js'

export interface NativeCryptoProviderOptions {
  /** Entries in the LRU of Ed25519 verification keys; 0 disables it. */
  readonly verifyKeyCacheEntries?: number
}

type Curve = 'Ed25519' | 'X25519'

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

function fromBase64url(text: string | undefined): Uint8Array {
  const buffer = Buffer.from(text ?? '', 'base64url')
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

// Node requires `x` to be a string in an OKP private JWK but imports the private key from `d`
// alone (the public half is derived by OpenSSL); the compliance vectors pin that behaviour.
function privateKeyObject(crv: Curve, secretKey: Uint8Array): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv, d: base64url(secretKey), x: '' }, format: 'jwk' })
}

function publicKeyObject(crv: Curve, publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv, x: base64url(publicKey) }, format: 'jwk' })
}

function rawPublicKey(key: KeyObject): Uint8Array {
  return fromBase64url(key.export({ format: 'jwk' }).x)
}

/**
 * A fresh key pair from 32 random bytes (an X25519 scalar is clamped by X25519 itself; an
 * Ed25519 secret is a seed), not from generateKeyPairSync: on Node 20, exporting a key made by
 * generateKeyPairSync can deadlock the process when a GC finalizes the key-generation job while
 * the export holds the key's mutex (seen here: the main thread stuck in
 * ~KeyGenJob -> uv_mutex_lock under KeyObjectHandle::ExportJWK, at 0% CPU).
 */
function generate(curve: Curve): KeyPair {
  const secretKey = new Uint8Array(nodeRandomBytes(32))
  return { secretKey, publicKey: rawPublicKey(createPublicKey(privateKeyObject(curve, secretKey))) }
}

function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0
  for (const b of bytes) acc |= b
  return acc === 0
}

// node's typings only accept authTagLength on the CCM/OCB/ChaCha overloads; GCM takes it too at runtime.
type AeadCipherName = 'chacha20-poly1305'
const CIPHER_NAME: Record<AeadAlgorithm, AeadCipherName> = {
  'aes-256-gcm': 'aes-256-gcm' as AeadCipherName,
  'chacha20-poly1305': 'chacha20-poly1305',
}

function toUint8(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

export function createNativeCryptoProvider(options: NativeCryptoProviderOptions = {}): CryptoProvider {
  const verifyKeyCacheEntries = options.verifyKeyCacheEntries ?? DEFAULT_VERIFY_KEY_CACHE_ENTRIES
  checkOutputLength(verifyKeyCacheEntries, 2 ** 20, 'verifyKeyCacheEntries')
  const verifyKeys = createPublicKeyCache(verifyKeyCacheEntries, (bytes) => publicKeyObject('Ed25519', bytes))
  const signingKeys = createSecretKeyCache((bytes) => privateKeyObject('Ed25519', bytes))
  const dhKeys = createSecretKeyCache((bytes) => privateKeyObject('X25519', bytes))

  function signingKey(secretKey: Uint8Array): KeyObject {
    checkKeyLength(secretKey, ED25519_SECRET_KEY_BYTES, 'Ed25519 secret key')
    return signingKeys.get(secretKey)
  }

  function dhKey(secretKey: Uint8Array): KeyObject {
    checkKeyLength(secretKey, X25519_KEY_BYTES, 'X25519 secret key')
    return dhKeys.get(secretKey)
  }

  return {
    name: 'native',

    randomBytes(length) {
      checkOutputLength(length, RANDOM_BYTES_MAX, 'random byte count')
      return toUint8(nodeRandomBytes(length))
    },

    sha256(data) {
      checkBytes(data, 'SHA-256 input')
      return toUint8(createHash('sha256').update(data).digest())
    },
    hmacSha256(key, data) {
      checkBytes(key, 'HMAC key')
      checkBytes(data, 'HMAC input')
      return toUint8(createHmac('sha256', key).update(data).digest())
    },
    hkdfSha256(ikm, salt, info, length) {
      checkBytes(ikm, 'HKDF input key material')
      checkBytes(salt, 'HKDF salt')
      checkBytes(info, 'HKDF info')
      checkHkdfLength(length)
      return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length))
    },

    x25519GenerateKeyPair: () => generate('X25519'),
    x25519PublicKey: (secretKey) => rawPublicKey(createPublicKey(dhKey(secretKey))),
    x25519(secretKey, peerPublicKey) {
      const privateKey = dhKey(secretKey)
      checkKeyLength(peerPublicKey, X25519_KEY_BYTES, 'X25519 public key')
      let shared: Buffer | undefined
      let cause: unknown
      try {
        shared = diffieHellman({ privateKey, publicKey: publicKeyObject('X25519', peerPublicKey) })
      } catch (error) {
        // OpenSSL 3 refuses an all-zero result itself ("failed during derivation").
        cause = error
      }
      if (shared === undefined || isAllZero(shared)) {
        throw new OckamError('OCKAM_ERR_CRYPTO_DH_FAILED', 'X25519 produced an all-zero shared secret', {
          hint: 'the peer sent a small-order public key: drop the handshake',
          cause,
        })
      }
      return toUint8(shared)
    },

    ed25519GenerateKeyPair: () => generate('Ed25519'),
    ed25519PublicKey: (secretKey) => rawPublicKey(createPublicKey(signingKey(secretKey))),
    ed25519Sign(secretKey, message) {
      const key = signingKey(secretKey)
      checkBytes(message, 'message')
      return toUint8(sign(null, message, key))
    },
    ed25519Verify(publicKey, message, signature) {
      if (!passesStrictEncodingChecks(publicKey, signature) || !(message instanceof Uint8Array)) return false
      try {
        return verify(null, message, verifyKeys.get(publicKey), signature)
      } catch {
        return false
      }
    },

    aeadSeal(algorithm, key, nonce, ad, plaintext) {
      checkAeadArguments(algorithm, key, nonce, ad, plaintext)
      const cipher = createCipheriv(CIPHER_NAME[algorithm], key, nonce, { authTagLength: AEAD_TAG_BYTES })
      if (ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length })
      const body = cipher.update(plaintext)
      const final = cipher.final()
      const tag = cipher.getAuthTag()
      const out = new Uint8Array(body.length + final.length + tag.length)
      out.set(body, 0)
      out.set(final, body.length)
      out.set(tag, body.length + final.length)
      return out
    },
    aeadSealParts(algorithm, key, nonce, ad, parts, headroom) {
      let length = 0
      for (const part of parts) {
        checkAeadArguments(algorithm, key, nonce, ad, part)
        length += part.length
      }
      checkOutputLength(headroom, 1024, 'headroom')
      const cipher = createCipheriv(CIPHER_NAME[algorithm], key, nonce, { authTagLength: AEAD_TAG_BYTES })
      // Empty associated data is the same as none (GCM and ChaCha20-Poly1305 alike), and every
      // transport frame has none: one native call less per frame.
      if (ad.length > 0) cipher.setAAD(ad, { plaintextLength: length })
      const out = Buffer.allocUnsafe(headroom + length + AEAD_TAG_BYTES)
      let offset = headroom
      for (const part of parts) {
        // Small parts (routes) cost a cipher call each; still cheaper than copying the payload.
        const body = cipher.update(part)
        out.set(body, offset)
        offset += body.length
      }
      const final = cipher.final()
      out.set(final, offset)
      offset += final.length
      out.set(cipher.getAuthTag(), offset)
      return toUint8(out)
    },
    aeadOpen(algorithm, key, nonce, ad, ciphertext) {
      checkAeadArguments(algorithm, key, nonce, ad, ciphertext)
      if (ciphertext.length < AEAD_TAG_BYTES) {
        throw new OckamError('OCKAM_ERR_CRYPTO_AEAD_FAILED', 'ciphertext is shorter than the authentication tag')
      }
      const bodyLength = ciphertext.length - AEAD_TAG_BYTES
      const decipher = createDecipheriv(CIPHER_NAME[algorithm], key, nonce, { authTagLength: AEAD_TAG_BYTES })
      if (ad.length > 0) decipher.setAAD(ad, { plaintextLength: bodyLength })
      decipher.setAuthTag(ciphertext.subarray(bodyLength))
      const body = decipher.update(ciphertext.subarray(0, bodyLength))
      try {
        const final = decipher.final()
        return final.length === 0 ? toUint8(body) : toUint8(Buffer.concat([body, final]))
      } catch (cause) {
        throw new OckamError('OCKAM_ERR_CRYPTO_AEAD_FAILED', 'authenticated decryption failed', { cause })
      }
    },
  }
}
