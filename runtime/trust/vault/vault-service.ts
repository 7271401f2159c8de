/**
 * The vault itself: keys referenced by random handles, persisted in the state database, used
 * only inside this module. Nothing here returns a secret: operations take a handle and return a
 * public key, a signature or a DH output. The same service runs inline (short-lived CLI
 * processes) or as the body of the vault's thread (vault-thread.ts), where it opens its own
 * connection to the database so secrets never reach the main thread.
 *
 * Protection is decided once per database: the first open with a passphrase, or the first key
 * created without one, writes `vault_settings`. From then on a protected vault needs the
 * passphrase (checked against the verifier before anything else happens) and an unprotected one
 * refuses a passphrase rather than ignore it.
 */
import { OckamError } from '../../errors.js'
import { openStateStore, type StateStore } from '../../state/store.js'
import { createNativeCryptoProvider } from '../crypto/native.js'
import type { CryptoProvider } from '../crypto/provider.js'
import {
  DEFAULT_SCRYPT_LOG2_N,
  DEFAULT_SCRYPT_P,
  DEFAULT_SCRYPT_R,
  DEFAULT_VAULT_HANDSHAKE_TTL_MS,
  DEFAULT_VAULT_KEY_CACHE_SIZE,
  DEFAULT_VAULT_MAX_HANDSHAKES,
  DEFAULT_VAULT_MAX_SIGN_BYTES,
  VAULT_HANDLE_RANDOM_BYTES,
  VAULT_MAX_PROLOGUE_BYTES,
  VAULT_PASSPHRASE_ENV,
  VAULT_PASSPHRASE_FILE_ENV,
  VAULT_SALT_BYTES,
} from './constants.js'
import { createHandshakeTable } from './handshakes.js'
import { createKeyRepository, type KeyRepository, type KeyRow, type SettingsRow } from './key-repository.js'
import { type PassphraseEnv, resolvePassphrase } from './passphrase.js'
import {
  checkVerifier,
  corrupt,
  deriveVaultKeys,
  forget,
  makeVerifier,
  openSealedSecret,
  sealSecret,
  type VaultKeys,
} from './sealing.js'
import { VAULT_KEY_TYPES, type VaultKeyInfo, type VaultKeyType, type VaultOperations } from './types.js'

/** scrypt cost for a vault created by this open (an existing vault keeps its own). */
export interface ScryptCost {
  readonly log2N: number
  readonly r: number
  readonly p: number
}

interface CommonOptions {
  /** Wins over the environment variables. */
  readonly passphrase?: string
  /** Where OCKAM_RUNTIME_VAULT_PASSPHRASE(_FILE) are looked up; default process.env. */
  readonly env?: PassphraseEnv
  readonly provider?: CryptoProvider
  readonly kdf?: ScryptCost
  readonly maxSignBytes?: number
  readonly keyCacheSize?: number
  /** Noise handshakes in progress at once; default DEFAULT_VAULT_MAX_HANDSHAKES. */
  readonly maxHandshakes?: number
  /** Longest life of one handshake, ms; default DEFAULT_VAULT_HANDSHAKE_TTL_MS. */
  readonly handshakeTtlMs?: number
  readonly now?: () => number
}

/** Either a store already open (the vault then leaves it open on close) or a state folder to open. */
export type VaultServiceOptions = CommonOptions & ({ readonly store: StateStore } | { readonly stateDir: string })

export interface VaultService extends VaultOperations {
  /** True when secrets are sealed under a passphrase. */
  isProtected(): boolean
  /** Zeroes every secret in memory and closes the store if the vault opened it. Idempotent. */
  close(): void
}

interface LoadedKey {
  readonly type: VaultKeyType
  readonly publicKey: Uint8Array
  readonly secret: Uint8Array
  readonly createdAt: number
}

type Protection = { kind: 'undecided' } | { kind: 'none' } | { kind: 'passphrase'; keys: VaultKeys }

const HANDLE_PATTERN = /^vk_[0-9a-f]{32}$/

export async function openVaultService(options: VaultServiceOptions): Promise<VaultService> {
  const provider = options.provider ?? createNativeCryptoProvider()
  const ownsStore = !('store' in options)
  const store = 'store' in options ? options.store : openStateStore({ dir: options.stateDir })
  try {
    const repo = createKeyRepository(store.db)
    const passphrase = resolvePassphrase({ passphrase: options.passphrase, env: options.env })
    const protection = await unlock(repo, provider, passphrase, options)
    return createService(repo, store, ownsStore, provider, protection, options)
  } catch (error) {
    if (ownsStore) store.close()
    throw error
  }
}

async function unlock(
  repo: KeyRepository,
  provider: CryptoProvider,
  passphrase: string | undefined,
  options: CommonOptions,
): Promise<Protection> {
  const settings = repo.readSettings()
  if (settings !== undefined) return unlockExisting(settings, provider, passphrase)
  if (passphrase === undefined) return { kind: 'undecided' }

  const kdf = options.kdf ?? { log2N: DEFAULT_SCRYPT_LOG2_N, r: DEFAULT_SCRYPT_R, p: DEFAULT_SCRYPT_P }
  const salt = provider.randomBytes(VAULT_SALT_BYTES)
  const keys = await deriveVaultKeys(provider, passphrase, { ...kdf, salt })
  const inForce = repo.initSettings({
    protection: 'passphrase',
    kdf: 'scrypt',
    ...kdf,
    salt,
    verifier: makeVerifier(provider, keys),
    createdAt: (options.now ?? Date.now)(),
  })
  if (inForce.protection === 'passphrase' && equalBytes(inForce.salt, salt)) return { kind: 'passphrase', keys }
  // Another process initialised the vault between our read and our write: obey what it wrote.
  forget(keys)
  return unlockExisting(inForce, provider, passphrase)
}

async function unlockExisting(
  settings: SettingsRow,
  provider: CryptoProvider,
  passphrase: string | undefined,
): Promise<Protection> {
  if (settings.protection === 'none') {
    if (passphrase !== undefined) {
      throw new OckamError('OCKAM_ERR_VAULT_NOT_PROTECTED', 'a passphrase was given but this vault has none', {
        hint: `unset ${VAULT_PASSPHRASE_ENV} and ${VAULT_PASSPHRASE_FILE_ENV} (or drop the passphrase option); adding a passphrase to an existing vault is not supported yet`,
      })
    }
    return { kind: 'none' }
  }
  if (passphrase === undefined) throw passphraseRequired()
  const keys = await deriveVaultKeys(provider, passphrase, settings)
  try {
    checkVerifier(provider, keys, settings.verifier)
  } catch (error) {
    forget(keys)
    throw error
  }
  return { kind: 'passphrase', keys }
}

function passphraseRequired(): OckamError {
  return new OckamError('OCKAM_ERR_VAULT_PASSPHRASE_REQUIRED', 'the vault is passphrase-protected', {
    hint: `set ${VAULT_PASSPHRASE_ENV}, or ${VAULT_PASSPHRASE_FILE_ENV} to a file holding the passphrase`,
  })
}

function createService(
  repo: KeyRepository,
  store: StateStore,
  ownsStore: boolean,
  provider: CryptoProvider,
  initialProtection: Protection,
  options: CommonOptions,
): VaultService {
  let protection = initialProtection
  let closed = false
  const now = options.now ?? Date.now
  const maxSignBytes = options.maxSignBytes ?? DEFAULT_VAULT_MAX_SIGN_BYTES
  const cacheSize = options.keyCacheSize ?? DEFAULT_VAULT_KEY_CACHE_SIZE
  // Map order is recency: a hit moves the key to the end, eviction takes the first.
  const cache = new Map<string, LoadedKey>()
  const handshakes = createHandshakeTable({
    provider,
    maxHandshakes: options.maxHandshakes ?? DEFAULT_VAULT_MAX_HANDSHAKES,
    ttlMs: options.handshakeTtlMs ?? DEFAULT_VAULT_HANDSHAKE_TTL_MS,
    now,
    newId: () => `hs_${Buffer.from(provider.randomBytes(VAULT_HANDLE_RANDOM_BYTES)).toString('hex')}`,
  })

  const ensureOpen = (): void => {
    if (closed) throw new OckamError('OCKAM_ERR_STOPPED', 'the vault is closed')
  }

  const remember = (handle: string, key: LoadedKey): void => {
    cache.delete(handle)
    cache.set(handle, key)
    while (cache.size > cacheSize) {
      const [oldest, evicted] = cache.entries().next().value as [string, LoadedKey]
      evicted.secret.fill(0)
      cache.delete(oldest)
    }
  }

  const secretOf = (row: KeyRow): Uint8Array => {
    if (protection.kind === 'passphrase') {
      if (row.sealedSecret === null) throw corrupt(row.handle, 'its secret is not sealed in a protected vault')
      return openSealedSecret(provider, protection.keys, row.handle, row.type, row.sealedSecret)
    }
    if (row.secret === null) throw corrupt(row.handle, 'its secret is sealed but the vault has no passphrase')
    const secret = new Uint8Array(row.secret)
    row.secret.fill(0)
    return secret
  }

  const load = (handle: unknown): LoadedKey => {
    ensureOpen()
    checkHandle(handle)
    const cached = cache.get(handle)
    if (cached !== undefined) {
      remember(handle, cached)
      return cached
    }
    const row = repo.getKey(handle)
    if (row === undefined) throw keyNotFound(handle)
    if (!VAULT_KEY_TYPES.includes(row.type)) throw corrupt(handle, `unknown key type ${String(row.type)}`)
    const secret = secretOf(row)
    const derived = row.type === 'ed25519' ? provider.ed25519PublicKey(secret) : provider.x25519PublicKey(secret)
    if (!equalBytes(derived, row.publicKey)) {
      secret.fill(0)
      throw corrupt(handle, 'its public key does not match its secret')
    }
    const key: LoadedKey = { type: row.type, publicKey: row.publicKey, secret, createdAt: row.createdAt }
    remember(handle, key)
    return key
  }

  /** The one way to use a secret: inside `use`, never returned. New operations build on this. */
  const withSecret = <R>(handle: unknown, type: VaultKeyType, use: (secret: Uint8Array) => R): R => {
    const key = load(handle)
    if (key.type !== type) {
      throw new OckamError('OCKAM_ERR_VAULT_KEY_TYPE', `vault key ${String(handle)} is ${key.type}, not ${type}`, {
        hint: `use an ${type} key for this operation`,
        data: { handle, type: key.type, expected: type },
      })
    }
    return use(key.secret)
  }

  /**
   * A copy of a static key pair for a handshake, after checking the arguments every start takes.
   * The handshake keeps its own copy (wiped when it ends): the cache may evict and zero this key
   * mid-handshake.
   */
  const staticPair = (handle: unknown, protocolName: unknown, prologue: unknown) => {
    checkBytes(prologue, 'Noise prologue', VAULT_MAX_PROLOGUE_BYTES)
    if (typeof protocolName !== 'string') {
      throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'the Noise protocol name must be a string')
    }
    return withSecret(handle, 'x25519', (secret) => ({
      secretKey: copy(secret),
      publicKey: copy(load(handle).publicKey),
    }))
  }

  const info = (handle: string, key: Omit<LoadedKey, 'secret'>): VaultKeyInfo => ({
    handle,
    type: key.type,
    publicKey: copy(key.publicKey),
    createdAt: key.createdAt,
  })

  const decideUnprotected = (): void => {
    const inForce = repo.initSettings({ protection: 'none', createdAt: now() })
    // Someone protected the vault since we opened it: our raw secret must not be written.
    if (inForce.protection !== 'none') throw passphraseRequired()
    protection = { kind: 'none' }
  }

  return {
    isProtected: () => protection.kind === 'passphrase',

    generateKey(type) {
      ensureOpen()
      if (!VAULT_KEY_TYPES.includes(type)) {
        throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `unknown vault key type ${String(type)}`, {
          hint: `use one of ${VAULT_KEY_TYPES.join(', ')}`,
        })
      }
      const pair = type === 'ed25519' ? provider.ed25519GenerateKeyPair() : provider.x25519GenerateKeyPair()
      const handle = `vk_${Buffer.from(provider.randomBytes(VAULT_HANDLE_RANDOM_BYTES)).toString('hex')}`
      const createdAt = now()
      const secret = new Uint8Array(pair.secretKey)
      pair.secretKey.fill(0)
      try {
        repo.transaction(() => {
          if (protection.kind === 'undecided') decideUnprotected()
          const sealed =
            protection.kind === 'passphrase' ? sealSecret(provider, protection.keys, handle, type, secret) : null
          repo.insertKey({
            handle,
            type,
            publicKey: pair.publicKey,
            secret: sealed === null ? secret : null,
            sealedSecret: sealed,
            createdAt,
          })
        })
      } catch (error) {
        secret.fill(0)
        throw error
      }
      const key: LoadedKey = { type, publicKey: copy(pair.publicKey), secret, createdAt }
      remember(handle, key)
      return info(handle, key)
    },

    keyInfo: (handle) => info(handle, load(handle)),

    listKeys() {
      ensureOpen()
      return repo.listKeys().map((row) => info(row.handle, row))
    },

    publicKey: (handle) => copy(load(handle).publicKey),

    sign(handle, data) {
      checkBytes(data, 'data to sign', maxSignBytes)
      return copy(withSecret(handle, 'ed25519', (secret) => provider.ed25519Sign(secret, data)))
    },

    dh(handle, peerPublicKey) {
      checkBytes(peerPublicKey, 'peer public key', 32)
      return copy(withSecret(handle, 'x25519', (secret) => x25519Typed(provider, secret, peerPublicKey)))
    },

    handshakeStart(staticKeyHandle, role, protocolName, prologue) {
      ensureOpen()
      return handshakes.start(staticPair(staticKeyHandle, protocolName, prologue), role, protocolName, prologue)
    },

    handshakeInitiate(staticKeyHandle, protocolName, prologue, payload) {
      ensureOpen()
      return handshakes.initiate(staticPair(staticKeyHandle, protocolName, prologue), protocolName, prologue, payload)
    },

    handshakeRespond(staticKeyHandle, protocolName, prologue, message1, payload2) {
      ensureOpen()
      const pair = staticPair(staticKeyHandle, protocolName, prologue)
      return handshakes.respond(pair, protocolName, prologue, message1, payload2)
    },

    handshakeWriteFinal(id, payload) {
      ensureOpen()
      return handshakes.writeFinal(id, payload)
    },

    handshakeReadFinal(id, message) {
      ensureOpen()
      return handshakes.readFinal(id, message)
    },

    handshakeWrite(id, payload) {
      ensureOpen()
      return handshakes.write(id, payload)
    },

    handshakeRead(id, message) {
      ensureOpen()
      return handshakes.read(id, message)
    },

    handshakeSplit(id) {
      ensureOpen()
      return handshakes.split(id)
    },

    handshakeAbort(id) {
      ensureOpen()
      return handshakes.abort(id)
    },

    handshakeCount() {
      ensureOpen()
      return handshakes.size
    },

    deleteKey(handle) {
      ensureOpen()
      checkHandle(handle)
      const deleted = repo.deleteKey(handle)
      const cached = cache.get(handle)
      if (cached !== undefined) {
        cached.secret.fill(0)
        cache.delete(handle)
      }
      return deleted
    },

    close() {
      if (closed) return
      closed = true
      for (const key of cache.values()) key.secret.fill(0)
      cache.clear()
      handshakes.clear()
      if (protection.kind === 'passphrase') forget(protection.keys)
      if (ownsStore) store.close()
    },
  }
}

function checkHandle(handle: unknown): asserts handle is string {
  if (typeof handle !== 'string' || !HANDLE_PATTERN.test(handle)) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'a vault key handle is malformed', {
      hint: 'pass a handle returned by generateKey() or listKeys()',
      data: { handle: typeof handle === 'string' ? handle.slice(0, 80) : typeof handle },
    })
  }
}

function checkBytes(value: unknown, what: string, maxBytes: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array) || value.length > maxBytes) {
    throw new OckamError(
      'OCKAM_ERR_INVALID_ARGUMENT',
      `the ${what} must be a Uint8Array of at most ${maxBytes} bytes`,
      {
        data: { length: value instanceof Uint8Array ? value.length : null, maxBytes },
      },
    )
  }
}

/**
 * OpenSSL 3 refuses an all-zero X25519 result with a plain Error ("failed during derivation")
 * before the native provider's own all-zero check can run; the vault promises typed errors.
 */
function x25519Typed(provider: CryptoProvider, secret: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  try {
    return provider.x25519(secret, peerPublicKey)
  } catch (cause) {
    if (cause instanceof OckamError) throw cause
    throw new OckamError('OCKAM_ERR_CRYPTO_DH_FAILED', 'X25519 with that peer public key failed (small-order key?)', {
      cause,
    })
  }
}

function keyNotFound(handle: string): OckamError {
  return new OckamError('OCKAM_ERR_VAULT_KEY_NOT_FOUND', `no vault key ${handle}`, {
    hint: 'list the keys of this state folder; a deleted key cannot be recovered',
    data: { handle },
  })
}

/**
 * A fresh, exact-size copy. Results cross threads by structured clone, which copies a view's
 * whole underlying ArrayBuffer: a signature that is a view into a pooled slab would carry the
 * rest of the slab (possibly key material) to the main thread.
 */
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes)
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}
