/**
 * Argument checks both providers run first, so a malformed call fails the same way (same code)
 * whichever provider serves it, and before any library sees the input.
 */
import { OckamError } from '../../errors.js'
import { HKDF_SHA256_MAX_OUTPUT_BYTES } from './constants.js'
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, type AeadAlgorithm } from './provider.js'

export function checkKeyLength(bytes: Uint8Array, length: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new OckamError('OCKAM_ERR_CRYPTO_INVALID_KEY', `${what} must be ${length} bytes`, {
      hint: 'pass the raw key bytes, not a DER, PEM or hex encoding',
    })
  }
}

export function checkBytes(bytes: Uint8Array, what: string): void {
  if (!(bytes instanceof Uint8Array)) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `${what} must be a Uint8Array`)
  }
}

export function checkOutputLength(length: number, max: number, what: string): void {
  if (!Number.isSafeInteger(length) || length < 0 || length > max) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `${what} must be an integer from 0 to ${max}, got ${length}`)
  }
}

export function checkHkdfLength(length: number): void {
  checkOutputLength(length, HKDF_SHA256_MAX_OUTPUT_BYTES, 'HKDF-SHA256 output length')
}

export function checkAeadArguments(
  algorithm: AeadAlgorithm,
  key: Uint8Array,
  nonce: Uint8Array,
  ad: Uint8Array,
  text: Uint8Array,
): void {
  if (algorithm !== 'aes-256-gcm' && algorithm !== 'chacha20-poly1305') {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `unknown AEAD algorithm ${String(algorithm)}`, {
      hint: "use 'aes-256-gcm' or 'chacha20-poly1305'",
    })
  }
  checkKeyLength(key, AEAD_KEY_BYTES, `${algorithm} key`)
  if (!(nonce instanceof Uint8Array) || nonce.length !== AEAD_NONCE_BYTES) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `${algorithm} nonce must be ${AEAD_NONCE_BYTES} bytes`)
  }
  checkBytes(ad, 'associated data')
  checkBytes(text, 'AEAD input')
}
