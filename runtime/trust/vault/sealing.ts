/**
 * Passphrase protection at rest. scrypt turns the passphrase and the database's salt into a root
 * key; HKDF splits it into a sealing key and a verifier key, so the verifier stored beside the
 * keys says nothing about the sealing key. Each secret is sealed with AES-256-GCM under a fresh
 * random nonce, with the handle and key type as associated data: a sealed blob copied onto
 * another row, or relabelled as the other key type, fails to open.
 *
 * Sealed blob: version (1 byte, 0x01) ‖ nonce (12) ‖ ciphertext (32) ‖ tag (16) = 61 bytes.
 * Verifier: HMAC-SHA256(verifier key, "ockam-runtime vault verifier v1") = 32 bytes.
 */
import { scrypt, timingSafeEqual } from 'node:crypto'
import { OckamError } from '../../errors.js'
import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES, type CryptoProvider } from '../crypto/provider.js'
import {
  MAX_SCRYPT_LOG2_N,
  MAX_SCRYPT_MEMORY_BYTES,
  MAX_SCRYPT_P,
  MAX_SCRYPT_R,
  VAULT_PASSPHRASE_ENV,
  VAULT_PASSPHRASE_FILE_ENV,
} from './constants.js'
import type { VaultKeyType } from './types.js'

export interface ScryptParams {
  readonly log2N: number
  readonly r: number
  readonly p: number
  readonly salt: Uint8Array
}

/** The keys derived from the passphrase; zero them with `forget` when done. */
export interface VaultKeys {
  readonly sealKey: Uint8Array
  readonly verifierKey: Uint8Array
}

const SEALED_VERSION = 0x01
const SECRET_BYTES = 32
export const SEALED_SECRET_BYTES = 1 + AEAD_NONCE_BYTES + SECRET_BYTES + AEAD_TAG_BYTES
const utf8 = new TextEncoder()
const SEAL_INFO = utf8.encode('ockam-runtime vault seal key v1')
const VERIFIER_INFO = utf8.encode('ockam-runtime vault verifier key v1')
const VERIFIER_MESSAGE = utf8.encode('ockam-runtime vault verifier v1')
const AD_PREFIX = 'ockam-runtime vault key v1'

/** Throws OCKAM_ERR_VAULT_CORRUPT for parameters a real vault could not have written. */
export function checkScryptParams(params: ScryptParams): void {
  const { log2N, r, p, salt } = params
  const ok =
    Number.isInteger(log2N) &&
    log2N >= 1 &&
    log2N <= MAX_SCRYPT_LOG2_N &&
    Number.isInteger(r) &&
    r >= 1 &&
    r <= MAX_SCRYPT_R &&
    Number.isInteger(p) &&
    p >= 1 &&
    p <= MAX_SCRYPT_P &&
    128 * 2 ** log2N * r <= MAX_SCRYPT_MEMORY_BYTES &&
    salt instanceof Uint8Array &&
    salt.length >= 16 &&
    salt.length <= 64
  if (!ok) {
    throw new OckamError('OCKAM_ERR_VAULT_CORRUPT', 'the vault KDF parameters are out of range', {
      hint: 'the state database was modified outside ockam-runtime; restore it from a backup',
      data: { log2N, r, p, saltBytes: salt instanceof Uint8Array ? salt.length : null },
    })
  }
}

/** scrypt on the libuv pool (the calling thread stays free), then HKDF into the two keys. */
export async function deriveVaultKeys(
  provider: CryptoProvider,
  passphrase: string,
  params: ScryptParams,
): Promise<VaultKeys> {
  checkScryptParams(params)
  const root = await new Promise<Buffer>((resolve, reject) =>
    scrypt(
      passphrase.normalize('NFC'),
      params.salt,
      32,
      { N: 2 ** params.log2N, r: params.r, p: params.p, maxmem: MAX_SCRYPT_MEMORY_BYTES + 1024 * 1024 },
      (error, key) => (error === null ? resolve(key) : reject(error)),
    ),
  )
  try {
    const empty = new Uint8Array(0)
    return {
      sealKey: provider.hkdfSha256(root, empty, SEAL_INFO, 32),
      verifierKey: provider.hkdfSha256(root, empty, VERIFIER_INFO, 32),
    }
  } finally {
    root.fill(0)
  }
}

export function forget(keys: VaultKeys): void {
  keys.sealKey.fill(0)
  keys.verifierKey.fill(0)
}

export function makeVerifier(provider: CryptoProvider, keys: VaultKeys): Uint8Array {
  return provider.hmacSha256(keys.verifierKey, VERIFIER_MESSAGE)
}

/** Throws OCKAM_ERR_VAULT_PASSPHRASE_WRONG unless `keys` came from the passphrase that made `verifier`. */
export function checkVerifier(provider: CryptoProvider, keys: VaultKeys, verifier: Uint8Array): void {
  const expected = makeVerifier(provider, keys)
  if (verifier.length !== expected.length || !timingSafeEqual(verifier, expected)) {
    throw new OckamError('OCKAM_ERR_VAULT_PASSPHRASE_WRONG', 'the vault passphrase is wrong', {
      hint: `check the passphrase option, ${VAULT_PASSPHRASE_ENV} or the file named by ${VAULT_PASSPHRASE_FILE_ENV}`,
    })
  }
}

function associatedData(handle: string, type: VaultKeyType): Uint8Array {
  // NUL separators: neither a handle nor a type contains one, so the encoding is unambiguous.
  return utf8.encode(`${AD_PREFIX}\0${handle}\0${type}`)
}

export function sealSecret(
  provider: CryptoProvider,
  keys: VaultKeys,
  handle: string,
  type: VaultKeyType,
  secret: Uint8Array,
): Uint8Array {
  const nonce = provider.randomBytes(AEAD_NONCE_BYTES)
  const sealed = provider.aeadSeal('aes-256-gcm', keys.sealKey, nonce, associatedData(handle, type), secret)
  const out = new Uint8Array(SEALED_SECRET_BYTES)
  out[0] = SEALED_VERSION
  out.set(nonce, 1)
  out.set(sealed, 1 + AEAD_NONCE_BYTES)
  return out
}

/** Throws OCKAM_ERR_VAULT_CORRUPT when the blob is malformed, swapped, relabelled or tampered with. */
export function openSealedSecret(
  provider: CryptoProvider,
  keys: VaultKeys,
  handle: string,
  type: VaultKeyType,
  blob: Uint8Array,
): Uint8Array {
  if (blob.length !== SEALED_SECRET_BYTES || blob[0] !== SEALED_VERSION) {
    throw corrupt(handle, 'its sealed secret has the wrong length or version')
  }
  try {
    return provider.aeadOpen(
      'aes-256-gcm',
      keys.sealKey,
      blob.subarray(1, 1 + AEAD_NONCE_BYTES),
      associatedData(handle, type),
      blob.subarray(1 + AEAD_NONCE_BYTES),
    )
  } catch (cause) {
    throw corrupt(handle, 'its sealed secret does not authenticate', cause)
  }
}

export function corrupt(handle: string, why: string, cause?: unknown): OckamError {
  return new OckamError('OCKAM_ERR_VAULT_CORRUPT', `vault key ${handle} is unusable: ${why}`, {
    cause,
    hint: 'the state database was modified outside ockam-runtime; restore it from a backup',
    data: { handle },
  })
}
