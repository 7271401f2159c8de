/**
 * The portable provider, on @noble/curves, @noble/ciphers and @noble/hashes: pure JavaScript,
 * an implementation independent of OpenSSL. It is 15–50× slower than the native provider
 * (DESIGN §4), so it serves to cross-check the native one (same inputs, same bytes out) and
 * wherever node:crypto is missing. Its only platform dependency is WebCrypto's getRandomValues.
 *
 * Ed25519 verification follows the shared strict policy (ed25519-strict.ts). noble's own
 * `ed25519.verify` checks the cofactored equation [8][S]B = [8]R + [8][k]A, which accepts
 * mixed-order A or R that OpenSSL's cofactorless check refuses, so the equation is checked here
 * cofactorless, on points decoded with noble's strict (RFC 8032, non-ZIP-215) decoder.
 */

import { gcm } from '@noble/ciphers/aes.js'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { bytesToNumberLE } from '@noble/curves/utils.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import { OckamError } from '../../errors.js'
import { checkAeadArguments, checkBytes, checkHkdfLength, checkKeyLength, checkOutputLength } from './arguments.js'
import { RANDOM_BYTES_MAX } from './constants.js'
import { ED25519_L, passesStrictEncodingChecks } from './ed25519-strict.js'
import {
  AEAD_TAG_BYTES,
  type AeadAlgorithm,
  type CryptoProvider,
  ED25519_SECRET_KEY_BYTES,
  type KeyPair,
  X25519_KEY_BYTES,
} from './provider.js'

/** WebCrypto refuses more than 64 KiB per getRandomValues call. */
const RANDOM_CHUNK_BYTES = 65536

function randomBytes(length: number): Uint8Array {
  checkOutputLength(length, RANDOM_BYTES_MAX, 'random byte count')
  const out = new Uint8Array(length)
  for (let offset = 0; offset < length; offset += RANDOM_CHUNK_BYTES) {
    globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + RANDOM_CHUNK_BYTES)))
  }
  return out
}

const { Point } = ed25519

/** Strict policy, then the cofactorless equation [S]B = R + [k]A with k = SHA-512(R ‖ A ‖ M) mod L. */
function ed25519VerifyStrict(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!passesStrictEncodingChecks(publicKey, signature) || !(message instanceof Uint8Array)) return false
  const r = signature.subarray(0, 32)
  try {
    const A = Point.fromBytes(publicKey, false)
    const R = Point.fromBytes(r, false)
    const s = bytesToNumberLE(signature.subarray(32, 64))
    const digest = sha512.create().update(r).update(publicKey).update(message).digest()
    const k = bytesToNumberLE(digest) % ED25519_L
    return R.add(A.multiplyUnsafe(k)).equals(Point.BASE.multiplyUnsafe(s))
  } catch {
    // Not a point on the curve: noble's decoder throws, which is a refusal.
    return false
  }
}

function aead(algorithm: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, ad: Uint8Array) {
  return algorithm === 'aes-256-gcm' ? gcm(key, nonce, ad) : chacha20poly1305(key, nonce, ad)
}

export function createPortableCryptoProvider(): CryptoProvider {
  function checkX25519Secret(secretKey: Uint8Array): void {
    checkKeyLength(secretKey, X25519_KEY_BYTES, 'X25519 secret key')
  }
  function checkEd25519Secret(secretKey: Uint8Array): void {
    checkKeyLength(secretKey, ED25519_SECRET_KEY_BYTES, 'Ed25519 secret key')
  }

  return {
    name: 'portable',

    randomBytes,

    sha256(data) {
      checkBytes(data, 'SHA-256 input')
      return sha256(data)
    },
    hmacSha256(key, data) {
      checkBytes(key, 'HMAC key')
      checkBytes(data, 'HMAC input')
      return hmac(sha256, key, data)
    },
    hkdfSha256(ikm, salt, info, length) {
      checkBytes(ikm, 'HKDF input key material')
      checkBytes(salt, 'HKDF salt')
      checkBytes(info, 'HKDF info')
      checkHkdfLength(length)
      // noble refuses a zero length; RFC 5869 allows it and node:crypto returns nothing.
      return length === 0 ? new Uint8Array(0) : hkdf(sha256, ikm, salt, info, length)
    },

    x25519GenerateKeyPair(): KeyPair {
      const secretKey = randomBytes(X25519_KEY_BYTES)
      return { secretKey, publicKey: x25519.getPublicKey(secretKey) }
    },
    x25519PublicKey(secretKey) {
      checkX25519Secret(secretKey)
      return x25519.getPublicKey(secretKey)
    },
    x25519(secretKey, peerPublicKey) {
      checkX25519Secret(secretKey)
      checkKeyLength(peerPublicKey, X25519_KEY_BYTES, 'X25519 public key')
      try {
        // noble refuses, before the ladder, exactly the u values whose result would be all zeros.
        return x25519.getSharedSecret(secretKey, peerPublicKey)
      } catch (cause) {
        throw new OckamError('OCKAM_ERR_CRYPTO_DH_FAILED', 'X25519 produced an all-zero shared secret', {
          hint: 'the peer sent a small-order public key: drop the handshake',
          cause,
        })
      }
    },

    ed25519GenerateKeyPair(): KeyPair {
      const secretKey = randomBytes(ED25519_SECRET_KEY_BYTES)
      return { secretKey, publicKey: ed25519.getPublicKey(secretKey) }
    },
    ed25519PublicKey(secretKey) {
      checkEd25519Secret(secretKey)
      return ed25519.getPublicKey(secretKey)
    },
    ed25519Sign(secretKey, message) {
      checkEd25519Secret(secretKey)
      checkBytes(message, 'message')
      return ed25519.sign(message, secretKey)
    },
    ed25519Verify: ed25519VerifyStrict,

    aeadSeal(algorithm, key, nonce, ad, plaintext) {
      checkAeadArguments(algorithm, key, nonce, ad, plaintext)
      return aead(algorithm, key, nonce, ad).encrypt(plaintext)
    },
    aeadOpen(algorithm, key, nonce, ad, ciphertext) {
      checkAeadArguments(algorithm, key, nonce, ad, ciphertext)
      if (ciphertext.length < AEAD_TAG_BYTES) {
        throw new OckamError('OCKAM_ERR_CRYPTO_AEAD_FAILED', 'ciphertext is shorter than the authentication tag')
      }
      try {
        return aead(algorithm, key, nonce, ad).decrypt(ciphertext)
      } catch (cause) {
        throw new OckamError('OCKAM_ERR_CRYPTO_AEAD_FAILED', 'authenticated decryption failed', { cause })
      }
    },
  }
}
