/**
 * The default provider, on node:crypto (OpenSSL). node:crypto takes keys as KeyObjects built
 * from DER, so raw 32-byte keys are wrapped in the fixed PKCS#8 / SPKI prefixes of RFC 8410.
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
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes as nodeRandomBytes,
  sign,
  verify,
} from 'node:crypto'
import { OckamError } from '../../errors.js'
import { checkAeadArguments, checkBytes, checkHkdfLength, checkKeyLength, checkOutputLength } from './arguments.js'
import { RANDOM_BYTES_MAX } from './constants.js'
import { passesStrictEncodingChecks } from './ed25519-strict.js'
import {
  AEAD_TAG_BYTES,
  type AeadAlgorithm,
  type CryptoProvider,
  ED25519_SECRET_KEY_BYTES,
  type KeyPair,
  X25519_KEY_BYTES,
} from './provider.js'

const PKCS8_PREFIX = {
  Ed25519: Buffer.from('302e020100300506032b657004220420', 'hex'),
  X25519: Buffer.from('302e020100300506032b656e04220420', 'hex'),
} as const
const SPKI_PREFIX = {
  Ed25519: Buffer.from('302a300506032b6570032100', 'hex'),
  X25519: Buffer.from('302a300506032b656e032100', 'hex'),
} as const

type Curve = keyof typeof PKCS8_PREFIX

function privateKeyObject(curve: Curve, secretKey: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX[curve], secretKey]), format: 'der', type: 'pkcs8' })
}

function publicKeyObject(curve: Curve, publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX[curve], publicKey]), format: 'der', type: 'spki' })
}

function rawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' })
  return new Uint8Array(der.subarray(der.length - 32))
}

function rawSecretKey(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'pkcs8' })
  return new Uint8Array(der.subarray(der.length - 32))
}

function generate(curve: Curve): KeyPair {
  const { privateKey, publicKey } = curve === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('x25519')
  return { secretKey: rawSecretKey(privateKey), publicKey: rawPublicKey(publicKey) }
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

export function createNativeCryptoProvider(): CryptoProvider {
  function signingKey(secretKey: Uint8Array): KeyObject {
    checkKeyLength(secretKey, ED25519_SECRET_KEY_BYTES, 'Ed25519 secret key')
    return privateKeyObject('Ed25519', secretKey)
  }

  function dhKey(secretKey: Uint8Array): KeyObject {
    checkKeyLength(secretKey, X25519_KEY_BYTES, 'X25519 secret key')
    return privateKeyObject('X25519', secretKey)
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
        return verify(null, message, publicKeyObject('Ed25519', publicKey), signature)
      } catch {
        return false
      }
    },

    aeadSeal(algorithm, key, nonce, ad, plaintext) {
      checkAeadArguments(algorithm, key, nonce, ad, plaintext)
      const cipher = createCipheriv(CIPHER_NAME[algorithm], key, nonce, { authTagLength: AEAD_TAG_BYTES })
      cipher.setAAD(ad, { plaintextLength: plaintext.length })
      const body = cipher.update(plaintext)
      const final = cipher.final()
      const tag = cipher.getAuthTag()
      const out = new Uint8Array(body.length + final.length + tag.length)
      out.set(body, 0)
      out.set(final, body.length)
      out.set(tag, body.length + final.length)
      return out
    },
    aeadOpen(algorithm, key, nonce, ad, ciphertext) {
      checkAeadArguments(algorithm, key, nonce, ad, ciphertext)
      if (ciphertext.length < AEAD_TAG_BYTES) {
        throw new OckamError('OCKAM_ERR_CRYPTO_AEAD_FAILED', 'ciphertext is shorter than the authentication tag')
      }
      const bodyLength = ciphertext.length - AEAD_TAG_BYTES
      const decipher = createDecipheriv(CIPHER_NAME[algorithm], key, nonce, { authTagLength: AEAD_TAG_BYTES })
      decipher.setAAD(ad, { plaintextLength: bodyLength })
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
