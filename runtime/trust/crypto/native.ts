/**
 * The default provider, on node:crypto (OpenSSL). node:crypto takes keys as KeyObjects built
 * from DER, so raw 32-byte keys are wrapped in the fixed PKCS#8 / SPKI prefixes of RFC 8410.
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
import { AEAD_TAG_BYTES, type AeadAlgorithm, type CryptoProvider, type KeyPair } from './provider.js'

const PKCS8_PREFIX = {
  ed25519: Buffer.from('302e020100300506032b657004220420', 'hex'),
  x25519: Buffer.from('302e020100300506032b656e04220420', 'hex'),
} as const
const SPKI_PREFIX = {
  ed25519: Buffer.from('302a300506032b6570032100', 'hex'),
  x25519: Buffer.from('302a300506032b656e032100', 'hex'),
} as const

type Curve = keyof typeof PKCS8_PREFIX

function checkLength(bytes: Uint8Array, length: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new OckamError('OCKAM_ERR_CRYPTO_INVALID_KEY', `${what} must be ${length} bytes`)
  }
}

function privateKeyObject(curve: Curve, secretKey: Uint8Array): KeyObject {
  checkLength(secretKey, 32, `${curve} secret key`)
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX[curve], secretKey]), format: 'der', type: 'pkcs8' })
}

function publicKeyObject(curve: Curve, publicKey: Uint8Array): KeyObject {
  checkLength(publicKey, 32, `${curve} public key`)
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
  const { privateKey, publicKey } = curve === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('x25519')
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
  return {
    name: 'native',

    randomBytes: (length) => toUint8(nodeRandomBytes(length)),

    sha256: (data) => toUint8(createHash('sha256').update(data).digest()),
    hmacSha256: (key, data) => toUint8(createHmac('sha256', key).update(data).digest()),
    hkdfSha256: (ikm, salt, info, length) => new Uint8Array(hkdfSync('sha256', ikm, salt, info, length)),

    x25519GenerateKeyPair: () => generate('x25519'),
    x25519PublicKey: (secretKey) => rawPublicKey(createPublicKey(privateKeyObject('x25519', secretKey))),
    x25519(secretKey, peerPublicKey) {
      const shared = diffieHellman({
        privateKey: privateKeyObject('x25519', secretKey),
        publicKey: publicKeyObject('x25519', peerPublicKey),
      })
      if (isAllZero(shared)) {
        throw new OckamError('OCKAM_ERR_CRYPTO_DH_FAILED', 'X25519 produced an all-zero shared secret')
      }
      return toUint8(shared)
    },

    ed25519GenerateKeyPair: () => generate('ed25519'),
    ed25519PublicKey: (secretKey) => rawPublicKey(createPublicKey(privateKeyObject('ed25519', secretKey))),
    ed25519Sign: (secretKey, message) => toUint8(sign(null, message, privateKeyObject('ed25519', secretKey))),
    ed25519Verify(publicKey, message, signature) {
      if (publicKey.length !== 32 || signature.length !== 64) return false
      try {
        return verify(null, message, publicKeyObject('ed25519', publicKey), signature)
      } catch {
        return false
      }
    },

    aeadSeal(algorithm, key, nonce, ad, plaintext) {
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
