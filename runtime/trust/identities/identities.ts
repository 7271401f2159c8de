/**
 * Named identities of a state folder (DESIGN §6, §8): create, list, rotate, choose the default,
 * and the purpose keys each identity attests (the key that signs its credentials, the static
 * key of its secure channels), created on first use.
 *
 * Secret keys live in the vault (handles only here); histories and attestations live in the
 * state database and are verified again whenever they are loaded, so a row edited outside
 * ockam-runtime is refused rather than trusted. The vault and the database commit separately,
 * so every operation orders its writes to be safe when a process dies between them: keys are
 * generated first and deleted again if the rows cannot be written (the worst case is an unused
 * key in the vault); a replaced key is deleted only after the rows no longer name it.
 */
import type { Database } from 'better-sqlite3'
import { isOckamError, OckamError, throwIfAborted } from '../../errors.js'
import { createIdentityRepository, type IdentityRow } from '../../state/identity-repository.js'
import { createPurposeKeyRepository, type PurposeKeyRow } from '../../state/purpose-key-repository.js'
import { constraintKind, immediate } from '../../state/sqlite.js'
import { equalBytes } from '../bytes.js'
import { DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_MAX_IDENTITY_CHANGES } from '../constants.js'
import { type AttributesInput, decodeCredentialPresentation, issueCredential } from '../credentials/credential.js'
import type { VerifiedCredential } from '../credentials/types.js'
import { createNativeCryptoProvider } from '../crypto/native.js'
import type { CryptoProvider } from '../crypto/provider.js'
import { createIdentity, rotateIdentity } from '../identity/create.js'
import { verifyIdentityHistory } from '../identity/history.js'
import { createPurposeKeyAttestation, verifyPurposeKeyAttestation } from '../identity/purpose-key.js'
import type { Signer } from '../identity/signer.js'
import { exportIdentity } from '../identity/text.js'
import type { PurposeKeyType, SubjectRef, VerifiedIdentity, VerifiedPurposeKey } from '../identity/types.js'
import {
  DEFAULT_CREDENTIAL_TTL_SECONDS,
  DEFAULT_IDENTITY_NAME,
  DEFAULT_PURPOSE_KEY_MIN_REMAINING_SECONDS,
  DEFAULT_PURPOSE_KEY_TTL_SECONDS,
  IDENTITY_NAME_PATTERN,
  MAX_CREDENTIAL_TTL_SECONDS,
  MAX_IDENTITY_NAME_LENGTH,
} from './constants.js'
import { type IdentityVault, vaultSigner } from './vault-signer.js'

export interface IdentitiesServiceOptions {
  /** The state database (StateStore.db), migrated to version 2 or later. */
  readonly db: Database
  /** Holds the secret keys and signs; inline in CLI processes, its own thread in a node. */
  readonly vault: IdentityVault
  /** For verification; default native. */
  readonly crypto?: CryptoProvider
  /** Clock, Unix ms; default Date.now. */
  readonly now?: () => number
}

export interface NamedIdentity {
  readonly name: string
  readonly identifier: string
  readonly isDefault: boolean
  /** Vault handle of the current primary key. */
  readonly keyHandle: string
  /** The verified identity: history bytes, changes, latest change hash, current public key. */
  readonly identity: VerifiedIdentity
  /** Unix ms. */
  readonly createdAt: number
  /** Unix ms of the last rotation (= createdAt before any). */
  readonly updatedAt: number
}

export interface PurposeKey {
  readonly identifier: string
  readonly purpose: PurposeKeyType
  /** Vault handle: Ed25519 for 'credential-signing', X25519 for 'secure-channel'. */
  readonly keyHandle: string
  readonly publicKey: Uint8Array
  /** The attestation bytes, to send beside what the key signs (credentials) or proves (handshakes). */
  readonly attestation: Uint8Array
  /** Attested window, Unix seconds. */
  readonly validFrom: number
  readonly validUntil: number
}

export interface PurposeKeyOptions {
  /**
   * Seconds of validity the key must have left to be reused; otherwise a new key is attested
   * for max(DEFAULT_PURPOSE_KEY_TTL_SECONDS, this). Default DEFAULT_PURPOSE_KEY_MIN_REMAINING_SECONDS.
   */
  readonly minRemainingSeconds?: number
  readonly signal?: AbortSignal
}

export interface IssueCredentialRequest {
  /** The subject at its latest change (from its verified history). */
  readonly subject: SubjectRef
  readonly attributes: AttributesInput
  /** 1 to MAX_CREDENTIAL_TTL_SECONDS; default DEFAULT_CREDENTIAL_TTL_SECONDS. */
  readonly ttlSeconds?: number
  readonly signal?: AbortSignal
}

export interface IssuedCredential {
  /** Presentation bytes (credential + the issuer's attestation of its credential key). */
  readonly presentation: Uint8Array
  readonly credential: VerifiedCredential
}

export interface AbortOptions {
  readonly signal?: AbortSignal
}

export interface IdentitiesService {
  /**
   * Creates an identity named `name` (default DEFAULT_IDENTITY_NAME) with a new Ed25519 primary
   * key in the vault. The first identity of the folder becomes the default.
   * Throws OCKAM_ERR_IDENTITY_NAME_INVALID, OCKAM_ERR_IDENTITY_NAME_TAKEN, vault errors.
   */
  create(name?: string, options?: AbortOptions): Promise<NamedIdentity>
  /** Every identity, oldest first. */
  list(): NamedIdentity[]
  /** Throws OCKAM_ERR_IDENTITY_NOT_FOUND. */
  get(name: string): NamedIdentity
  find(name: string): NamedIdentity | undefined
  findByIdentifier(identifier: string): NamedIdentity | undefined
  /** Throws OCKAM_ERR_IDENTITY_NO_DEFAULT. */
  getDefault(): NamedIdentity
  /** `get(name)` when a name is given, else `getDefault()`. */
  resolve(name?: string): NamedIdentity
  /** The default identity; creates one named DEFAULT_IDENTITY_NAME in a folder that has none. */
  ensureDefault(options?: AbortOptions): Promise<NamedIdentity>
  /** Makes `name` the default. Throws OCKAM_ERR_IDENTITY_NOT_FOUND. */
  setDefault(name: string): NamedIdentity
  /**
   * Rotates to a new primary key: a change signed by the new and the current key; the
   * identifier stays. Then deletes the old primary key and the identity's purpose keys from the
   * vault (their attestations bind the old latest change; new ones are made on next use).
   * Throws OCKAM_ERR_IDENTITY_TOO_MANY_CHANGES, OCKAM_ERR_IDENTITY_CONCURRENT_CHANGE.
   */
  rotate(name?: string, options?: AbortOptions): Promise<NamedIdentity>
  /** The exported text form (`ockam-identity-v1:…`) of `name` or the default. */
  export(name?: string): string
  /**
   * The identity's current key for `purpose`, attested by its current primary key; created (or
   * renewed) when missing, bound to an older change, expired or too close to expiry.
   */
  purposeKey(name: string | undefined, purpose: PurposeKeyType, options?: PurposeKeyOptions): Promise<PurposeKey>
  /** Issues a credential signed by the credential-signing key of `issuerName` (or the default). */
  issueCredential(issuerName: string | undefined, request: IssueCredentialRequest): Promise<IssuedCredential>
  /** The vault as a Signer (for the identity and credential libraries). */
  readonly signer: Signer
}

export function createIdentitiesService(options: IdentitiesServiceOptions): IdentitiesService {
  const { db, vault } = options
  const crypto = options.crypto ?? createNativeCryptoProvider()
  const nowMs = options.now ?? Date.now
  const nowSeconds = () => Math.floor(nowMs() / 1000)
  const signer = vaultSigner(vault)
  const identities = createIdentityRepository(db)
  const purposeKeys = createPurposeKeyRepository(db)

  const load = (row: IdentityRow): NamedIdentity => {
    let identity: VerifiedIdentity
    try {
      identity = verifyIdentityHistory(row.history, { now: nowSeconds() }, crypto)
    } catch (cause) {
      // A clock far off (or a key that expired) is not tampering: say so as it is.
      if (isOckamError(cause, 'OCKAM_ERR_IDENTITY_EXPIRED') || isOckamError(cause, 'OCKAM_ERR_IDENTITY_NOT_YET_VALID'))
        throw cause
      throw corrupt(`the stored history of identity ${row.name} does not verify`, cause)
    }
    if (identity.identifier !== row.identifier) {
      throw corrupt(`the stored history of identity ${row.name} is of ${identity.identifier}, not ${row.identifier}`)
    }
    return {
      name: row.name,
      identifier: row.identifier,
      isDefault: row.isDefault,
      keyHandle: row.keyHandle,
      identity,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    }
  }

  const find = (name: string): NamedIdentity | undefined => {
    checkName(name)
    const row = identities.get(name)
    return row === undefined ? undefined : load(row)
  }

  const get = (name: string): NamedIdentity => {
    const found = find(name)
    if (found === undefined) throw notFound(name)
    return found
  }

  const getDefault = (): NamedIdentity => {
    const row = identities.getDefault()
    if (row === undefined) {
      throw new OckamError('OCKAM_ERR_IDENTITY_NO_DEFAULT', 'this state folder has no identity yet', {
        hint: 'run: ockam-runtime identity create',
      })
    }
    return load(row)
  }

  const resolve = (name?: string): NamedIdentity => (name === undefined ? getDefault() : get(name))

  /** Deleting a key nobody references any more; a failure leaves an unused key, never a broken identity. */
  const forgetKey = async (handle: string): Promise<void> => {
    try {
      await vault.deleteKey(handle)
    } catch {
      // The key stays in the vault unused; nothing refers to it.
    }
  }

  /**
   * Whether another process rotated the identity since it was loaded (its old key may then be
   * gone from the vault, which is why an operation failed).
   */
  const changedMeanwhile = (loaded: NamedIdentity): boolean => {
    const row = identities.get(loaded.name)
    return row === undefined || !equalBytes(row.history, loaded.identity.history)
  }

  const create = async (name: string = DEFAULT_IDENTITY_NAME, opts: AbortOptions = {}): Promise<NamedIdentity> => {
    throwIfAborted(opts.signal, 'creating an identity')
    checkName(name)
    // Checked before a key is made, so the common mistake costs nothing; the insert checks again.
    if (identities.get(name) !== undefined) throw nameTaken(name)
    const key = await vault.generateKey('ed25519')
    try {
      throwIfAborted(opts.signal, 'creating an identity')
      const createdAt = nowMs()
      const identity = await createIdentity(signer, key.handle, { created: Math.floor(createdAt / 1000) }, crypto)
      let row: IdentityRow
      try {
        row = identities.insert({
          name,
          identifier: identity.identifier,
          history: identity.history,
          keyHandle: key.handle,
          createdAt,
        })
      } catch (cause) {
        const kind = constraintKind(cause)
        if (kind === 'primary-key' || kind === 'unique') throw nameTaken(name, cause)
        throw cause
      }
      return { ...row, identity }
    } catch (error) {
      await forgetKey(key.handle)
      throw error
    }
  }

  const purposeKey = async (
    name: string | undefined,
    purpose: PurposeKeyType,
    opts: PurposeKeyOptions = {},
  ): Promise<PurposeKey> => {
    throwIfAborted(opts.signal, 'preparing a purpose key')
    const need = opts.minRemainingSeconds ?? DEFAULT_PURPOSE_KEY_MIN_REMAINING_SECONDS
    if (!Number.isSafeInteger(need) || need < 0) {
      throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'minRemainingSeconds must be a whole number of seconds >= 0')
    }
    const owner = resolve(name)
    const now = nowSeconds()
    const stored = purposeKeys.get(owner.identifier, purpose)
    const storedPublicKey = stored === undefined ? undefined : storedKey(stored, owner, purpose, now, crypto)
    if (stored !== undefined && storedPublicKey !== undefined && stored.validUntil - now >= need) {
      return toPurposeKey(stored, storedPublicKey)
    }

    const key = await vault.generateKey(purpose === 'credential-signing' ? 'ed25519' : 'x25519')
    let replaced: string | undefined
    let row: PurposeKeyRow
    try {
      throwIfAborted(opts.signal, 'preparing a purpose key')
      const expires = now + Math.max(DEFAULT_PURPOSE_KEY_TTL_SECONDS, need)
      const attestation = await createPurposeKeyAttestation(signer, owner.keyHandle, owner.identity, {
        purpose,
        publicKey: key.publicKey,
        created: now,
        expires,
      })
      row = {
        identifier: owner.identifier,
        purpose,
        keyHandle: key.handle,
        attestation,
        validFrom: now,
        validUntil: expires,
        createdAt: nowMs(),
      }
      replaced = immediate(db, () => {
        // A rotation in between would make this attestation stale the moment it is stored.
        if (changedMeanwhile(owner)) throw concurrentChange(owner.name)
        return purposeKeys.put(row)
      })
    } catch (error) {
      await forgetKey(key.handle)
      throw changedMeanwhile(owner) ? concurrentChange(owner.name, error) : error
    }
    if (replaced !== undefined && replaced !== key.handle) await forgetKey(replaced)
    return toPurposeKey(row, key.publicKey)
  }

  return {
    signer,
    create,
    list: () => identities.list().map(load),
    get,
    find,
    findByIdentifier(identifier) {
      const row = identities.getByIdentifier(identifier)
      return row === undefined ? undefined : load(row)
    },
    getDefault,
    resolve,

    async ensureDefault(opts = {}) {
      const row = identities.getDefault()
      if (row !== undefined) return load(row)
      try {
        return await create(DEFAULT_IDENTITY_NAME, opts)
      } catch (error) {
        // Another process made the first identity at the same moment: use it.
        if (isOckamError(error, 'OCKAM_ERR_IDENTITY_NAME_TAKEN') && identities.getDefault() !== undefined) {
          return getDefault()
        }
        throw error
      }
    },

    setDefault(name) {
      checkName(name)
      if (!identities.setDefault(name)) throw notFound(name)
      return get(name)
    },

    async rotate(name, opts = {}) {
      throwIfAborted(opts.signal, 'rotating an identity')
      const current = resolve(name)
      if (current.identity.changes.length >= DEFAULT_MAX_IDENTITY_CHANGES) {
        throw new OckamError(
          'OCKAM_ERR_IDENTITY_TOO_MANY_CHANGES',
          `identity ${current.name} already has ${current.identity.changes.length} changes, the most a history may hold`,
          {
            hint: 'create a new identity instead',
            data: { name: current.name, changes: current.identity.changes.length },
          },
        )
      }
      const next = await vault.generateKey('ed25519')
      let stale: string[]
      try {
        throwIfAborted(opts.signal, 'rotating an identity')
        const latest = current.identity.changes.at(-1)?.created ?? 0
        // A change may not be older than the one it replaces, even if the clock went back.
        const created = Math.max(nowSeconds(), latest)
        const rotated = await rotateIdentity(
          current.identity,
          signer,
          current.keyHandle,
          next.handle,
          { created },
          crypto,
        )
        stale = immediate(db, () => {
          if (
            !identities.replaceHistory(current.name, current.identity.history, rotated.history, next.handle, nowMs())
          ) {
            throw concurrentChange(current.name)
          }
          return purposeKeys.deleteAll(current.identifier)
        })
      } catch (error) {
        await forgetKey(next.handle)
        throw changedMeanwhile(current) ? concurrentChange(current.name, error) : error
      }
      // The old primary key could still sign a competing change (a fork): it goes now.
      await forgetKey(current.keyHandle)
      for (const handle of stale) await forgetKey(handle)
      return get(current.name)
    },

    export: (name) => exportIdentity(resolve(name).identity),

    purposeKey,

    async issueCredential(issuerName, request) {
      const ttl = request.ttlSeconds ?? DEFAULT_CREDENTIAL_TTL_SECONDS
      if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_CREDENTIAL_TTL_SECONDS) {
        throw new OckamError(
          'OCKAM_ERR_INVALID_ARGUMENT',
          `a credential lifetime must be 1 to ${MAX_CREDENTIAL_TTL_SECONDS} seconds`,
          { data: { ttlSeconds: ttl } },
        )
      }
      // The attestation travels with the credential: it must outlive it.
      const key = await purposeKey(issuerName, 'credential-signing', {
        minRemainingSeconds: Math.max(ttl + DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_PURPOSE_KEY_MIN_REMAINING_SECONDS),
        ...(request.signal === undefined ? {} : { signal: request.signal }),
      })
      const created = nowSeconds()
      const presentation = await issueCredential(signer, key.keyHandle, key.attestation, {
        subject: request.subject,
        attributes: request.attributes,
        created,
        expires: created + ttl,
      })
      return { presentation, credential: decodeCredentialPresentation(presentation).fields }
    },
  }
}

/**
 * The public key of a stored purpose key that is still good for its identity, or undefined when
 * it must be renewed (bound to an older change, expired, not yet valid). A row that fails for
 * any other reason was tampered with and is refused.
 */
function storedKey(
  row: PurposeKeyRow,
  owner: NamedIdentity,
  purpose: PurposeKeyType,
  now: number,
  crypto: CryptoProvider,
): Uint8Array | undefined {
  let verified: VerifiedPurposeKey
  try {
    verified = verifyPurposeKeyAttestation(row.attestation, owner.identity, { purpose, now }, crypto)
  } catch (cause) {
    if (
      isOckamError(cause, 'OCKAM_ERR_PURPOSE_KEY_STALE') ||
      isOckamError(cause, 'OCKAM_ERR_PURPOSE_KEY_EXPIRED') ||
      isOckamError(cause, 'OCKAM_ERR_PURPOSE_KEY_NOT_YET_VALID')
    ) {
      return undefined
    }
    throw corrupt(`the stored ${purpose} key attestation of ${owner.name} does not verify`, cause)
  }
  if (verified.created !== row.validFrom || verified.expires !== row.validUntil) {
    throw corrupt(`the stored ${purpose} key window of ${owner.name} differs from its attestation`)
  }
  return verified.publicKey
}

function toPurposeKey(row: PurposeKeyRow, publicKey: Uint8Array): PurposeKey {
  return {
    identifier: row.identifier,
    purpose: row.purpose,
    keyHandle: row.keyHandle,
    publicKey,
    attestation: row.attestation,
    validFrom: row.validFrom,
    validUntil: row.validUntil,
  }
}

/** Throws OCKAM_ERR_IDENTITY_NAME_INVALID unless `name` is a valid identity name. */
export function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length > MAX_IDENTITY_NAME_LENGTH || !IDENTITY_NAME_PATTERN.test(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 80)) : typeof name
    throw new OckamError('OCKAM_ERR_IDENTITY_NAME_INVALID', `${shown} is not a valid identity name`, {
      hint: `use 1 to ${MAX_IDENTITY_NAME_LENGTH} letters, digits, '_', '-' or '.', starting with a letter or digit`,
    })
  }
}

function notFound(name: string): OckamError {
  return new OckamError('OCKAM_ERR_IDENTITY_NOT_FOUND', `no identity named ${name}`, {
    hint: 'run: ockam-runtime identity list',
    data: { name },
  })
}

function nameTaken(name: string, cause?: unknown): OckamError {
  return new OckamError('OCKAM_ERR_IDENTITY_NAME_TAKEN', `an identity named ${name} already exists`, {
    cause,
    hint: 'choose another name (identity create NAME), or use the existing one',
    data: { name },
  })
}

function concurrentChange(name: string, cause?: unknown): OckamError {
  return new OckamError('OCKAM_ERR_IDENTITY_CONCURRENT_CHANGE', `identity ${name} was rotated by another process`, {
    cause,
    hint: 'nothing was changed by this command; run it again',
    data: { name },
  })
}

function corrupt(message: string, cause?: unknown): OckamError {
  const code = isOckamError(cause) ? cause.code : undefined
  return new OckamError('OCKAM_ERR_STATE_RECORD_CORRUPT', message, {
    cause,
    hint: 'the state database was modified outside ockam-runtime; restore it from a backup',
    ...(code === undefined ? {} : { data: { cause: code } }),
  })
}
