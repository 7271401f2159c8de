/**
 * Noise §5.1 CipherState and the three stateless primitives it is made of. The transport frame
 * cipher (../transport-cipher.ts) calls the same primitives with explicit nonces, so the code the
 * test vectors drive is the code channels run.
 */
import { isOckamError, OckamError } from '../../errors.js'
import { copyBytes } from '../bytes.js'
import { AEAD_KEY_BYTES, type CryptoProvider } from '../crypto/provider.js'
import { NOISE_HASH_BYTES, NOISE_MAX_NONCE } from './constants.js'
import { encodeNoiseNonce, type NoiseSuite, rekeyNonce } from './suite.js'

const EMPTY = new Uint8Array(0)
const REKEY_PLAINTEXT = new Uint8Array(AEAD_KEY_BYTES)

function checkNonce(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > NOISE_MAX_NONCE) {
    throw new OckamError('OCKAM_ERR_NOISE_NONCE_EXHAUSTED', `nonce ${n} is outside 0..${NOISE_MAX_NONCE}`, {
      hint: 'establish a new channel; a cipher state never reuses or wraps a nonce',
    })
  }
}

/** ENCRYPT(k, n, ad, plaintext): ciphertext ‖ 16-byte tag. */
export function noiseEncrypt(
  provider: CryptoProvider,
  suite: NoiseSuite,
  key: Uint8Array,
  n: number,
  ad: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  checkNonce(n)
  return provider.aeadSeal(suite.aead, key, encodeNoiseNonce(suite, n), ad, plaintext)
}

/**
 * ENCRYPT(k, n, ad, concatenation of `parts`) into `headroom` unwritten bytes ‖ ciphertext ‖ tag:
 * the same bytes as noiseEncrypt, without concatenating the parts or copying the result into a
 * framed buffer when the provider can seal in place (its optional aeadSealParts).
 */
export function noiseEncryptParts(
  provider: CryptoProvider,
  suite: NoiseSuite,
  key: Uint8Array,
  n: number,
  ad: Uint8Array,
  parts: readonly Uint8Array[],
  headroom: number,
): Uint8Array {
  checkNonce(n)
  const nonce = encodeNoiseNonce(suite, n)
  if (provider.aeadSealParts !== undefined) return provider.aeadSealParts(suite.aead, key, nonce, ad, parts, headroom)
  const plaintext = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts)
  const sealed = provider.aeadSeal(suite.aead, key, nonce, ad, plaintext)
  const out = new Uint8Array(headroom + sealed.length)
  out.set(sealed, headroom)
  return out
}

/** DECRYPT(k, n, ad, ciphertext); a bad tag becomes OCKAM_ERR_NOISE_DECRYPT_FAILED. */
export function noiseDecrypt(
  provider: CryptoProvider,
  suite: NoiseSuite,
  key: Uint8Array,
  n: number,
  ad: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array {
  checkNonce(n)
  try {
    return provider.aeadOpen(suite.aead, key, encodeNoiseNonce(suite, n), ad, ciphertext)
  } catch (cause) {
    if (!isOckamError(cause, 'OCKAM_ERR_CRYPTO_AEAD_FAILED')) throw cause
    throw new OckamError('OCKAM_ERR_NOISE_DECRYPT_FAILED', `Noise message at nonce ${n} did not authenticate`, {
      cause,
      hint: 'drop the message; it was tampered with, forged, or sealed under another key',
    })
  }
}

/** Noise §4.2 REKEY(k): the first 32 bytes of ENCRYPT(k, 2^64-1, empty ad, 32 zero bytes). */
export function noiseRekey(provider: CryptoProvider, suite: NoiseSuite, key: Uint8Array): Uint8Array {
  const sealed = provider.aeadSeal(suite.aead, key, rekeyNonce(), EMPTY, REKEY_PLAINTEXT)
  return copyBytes(sealed.subarray(0, NOISE_HASH_BYTES))
}

/**
 * A key (possibly empty) and a nonce counter. The counter advances only when a message was
 * sealed or authenticated, so a failed decryption changes nothing.
 */
export class CipherState {
  readonly #provider: CryptoProvider
  readonly #suite: NoiseSuite
  #key: Uint8Array | undefined
  #n = 0

  constructor(provider: CryptoProvider, suite: NoiseSuite, key?: Uint8Array) {
    this.#provider = provider
    this.#suite = suite
    if (key !== undefined) this.initializeKey(key)
  }

  /** InitializeKey(k): a copy of `key`, nonce back to 0. */
  initializeKey(key: Uint8Array): void {
    if (!(key instanceof Uint8Array) || key.length !== AEAD_KEY_BYTES) {
      throw new OckamError('OCKAM_ERR_CRYPTO_INVALID_KEY', `a Noise cipher key must be ${AEAD_KEY_BYTES} bytes`)
    }
    this.#key = copyBytes(key)
    this.#n = 0
  }

  hasKey(): boolean {
    return this.#key !== undefined
  }

  /** The next nonce this state will use. */
  get nonce(): number {
    return this.#n
  }

  setNonce(n: number): void {
    checkNonce(n)
    this.#n = n
  }

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this.#key === undefined) return copyBytes(plaintext)
    const out = noiseEncrypt(this.#provider, this.#suite, this.#key, this.#n, ad, plaintext)
    this.#n += 1
    return out
  }

  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this.#key === undefined) return copyBytes(ciphertext)
    const out = noiseDecrypt(this.#provider, this.#suite, this.#key, this.#n, ad, ciphertext)
    this.#n += 1
    return out
  }

  rekey(): void {
    if (this.#key === undefined) return
    this.#key = noiseRekey(this.#provider, this.#suite, this.#key)
  }

  /** Best-effort wipe of the key: JavaScript cannot promise no copy survives elsewhere. */
  destroy(): void {
    this.#key?.fill(0)
    this.#key = undefined
  }
}
