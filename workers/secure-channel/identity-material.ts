/**
 * What a secure channel needs to know about the local identity, as one interface: the lead's
 * persistent named identities implement it; `createSecureChannelIdentity` builds one in memory
 * from a vault (tests, benchmarks, embedders that bring their own storage).
 */
import { OckamError } from '../../runtime/errors.js'
import { createCryptoProvider } from '../../runtime/trust/crypto/index.js'
import type { CryptoProvider } from '../../runtime/trust/crypto/provider.js'
import { createIdentity } from '../../runtime/trust/identity/create.js'
import { createPurposeKeyAttestation, decodePurposeKeyAttestation } from '../../runtime/trust/identity/purpose-key.js'
import { createMemoryIdentityStore, type IdentityStore } from '../../runtime/trust/identity/store.js'
import type { VerifiedIdentity } from '../../runtime/trust/identity/types.js'
import { nowSeconds } from '../../runtime/trust/identity/validity.js'
import type { HandshakeVault, Vault } from '../../runtime/trust/vault/types.js'
import { DEFAULT_SECURE_CHANNEL_KEY_LIFETIME_SECONDS } from './constants.js'

/** The vault operations a channel uses: the whole handshake runs behind them (DESIGN §4). */
export type SecureChannelVault = HandshakeVault

export interface SecureChannelIdentity {
  /** This side's identity, as verified (its history is what peers are sent). */
  readonly identity: VerifiedIdentity
  /** The vault holding the identity key and the secure-channel static key. */
  readonly vault: SecureChannelVault
  /** Handle of the identity's current primary (Ed25519) key, for re-attesting the static key. */
  readonly identityKeyHandle: string
  /** Handle of the X25519 key used as Noise static key. */
  readonly staticKeyHandle: string
  /** The identity's purpose-key attestation (purpose 'secure-channel') of that static key. */
  readonly staticKeyAttestation: Uint8Array
  /**
   * This side's current credentials (presentations), at most DEFAULT_MAX_PEER_CREDENTIALS.
   * Called when a handshake presents them and at each refresh, so it may return renewed ones.
   */
  credentials(): readonly Uint8Array[] | Promise<readonly Uint8Array[]>
  /** Authorities whose credentials count as attributes of a peer (one per resource, DESIGN §12). */
  readonly trustedAuthorities: readonly VerifiedIdentity[]
  /** Where verified peer histories are kept: a rollback or fork is refused. */
  readonly identityStore: IdentityStore
  /**
   * Identifiers a trusted authority revoked: refused as peers whatever the trust policy says,
   * asked at each handshake (before the policy) and when a refresh or expiry re-checks an open
   * channel. Absent: nobody is revoked.
   */
  readonly revoked?: (identifier: string) => boolean
}

export interface CreateSecureChannelIdentityOptions {
  /** Presentations, or a function returning the current ones. Default: none. */
  readonly credentials?: readonly Uint8Array[] | (() => readonly Uint8Array[] | Promise<readonly Uint8Array[]>)
  readonly trustedAuthorities?: readonly VerifiedIdentity[]
  readonly identityStore?: IdentityStore
  /** Unix seconds for the identity's first change and the attestation; default now. */
  readonly now?: number
  /** Lifetime of the static key attestation (seconds); default DEFAULT_SECURE_CHANNEL_KEY_LIFETIME_SECONDS. */
  readonly keyLifetimeSeconds?: number
  readonly crypto?: CryptoProvider
  /**
   * Attest this X25519 public key instead of the static key's own. For tests only: it makes a
   * peer whose Noise key is not the one its identity attests.
   */
  readonly attestPublicKey?: Uint8Array
}

/** A new identity and secure-channel key in `vault`, held in memory (not a named, persisted identity). */
export async function createSecureChannelIdentity(
  vault: Vault,
  options: CreateSecureChannelIdentityOptions = {},
): Promise<SecureChannelIdentity> {
  const crypto = options.crypto ?? createCryptoProvider('native')
  const now = options.now ?? nowSeconds()
  const lifetime = options.keyLifetimeSeconds ?? DEFAULT_SECURE_CHANNEL_KEY_LIFETIME_SECONDS
  const identityKey = await vault.generateKey('ed25519')
  const identity = await createIdentity(vault, identityKey.handle, { created: now }, crypto)
  const staticKey = await vault.generateKey('x25519')
  const staticKeyAttestation = await createPurposeKeyAttestation(vault, identityKey.handle, identity, {
    purpose: 'secure-channel',
    publicKey: options.attestPublicKey ?? staticKey.publicKey,
    created: now,
    expires: now + lifetime,
  })
  const given = options.credentials
  const credentials = typeof given === 'function' ? given : () => given ?? []
  return {
    identity,
    vault,
    identityKeyHandle: identityKey.handle,
    staticKeyHandle: staticKey.handle,
    staticKeyAttestation,
    credentials,
    trustedAuthorities: options.trustedAuthorities ?? [],
    identityStore: options.identityStore ?? createMemoryIdentityStore(),
  }
}

/** Structural checks of identity material before any handshake uses it. */
export function checkIdentityMaterial(material: SecureChannelIdentity): void {
  const fail = (what: string) =>
    new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `secure-channel identity material: ${what}`, {
      hint: 'build it with createSecureChannelIdentity() or from a named identity',
    })
  if (material === null || typeof material !== 'object') throw fail('missing')
  if (typeof material.staticKeyHandle !== 'string') throw fail('staticKeyHandle is not a string')
  if (!(material.staticKeyAttestation instanceof Uint8Array)) throw fail('staticKeyAttestation is not bytes')
  if (typeof material.credentials !== 'function') throw fail('credentials is not a function')
  if (!Array.isArray(material.trustedAuthorities)) throw fail('trustedAuthorities is not an array')
  if (material.revoked !== undefined && typeof material.revoked !== 'function') throw fail('revoked is not a function')
  const attested = decodePurposeKeyAttestation(material.staticKeyAttestation).fields
  if (attested.purpose !== 'secure-channel' || attested.subject !== material.identity.identifier) {
    throw fail('the attestation is not a secure-channel key attestation of this identity')
  }
}
