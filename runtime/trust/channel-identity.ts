/**
 * A named identity of the state folder as secure-channel identity material: its verified
 * history, its primary key handle, and its stored `secure-channel` purpose key (an X25519 key in
 * the vault, attested by the identity; created on first use and renewed near expiry by the
 * identities service). The shape is the one `createSecureChannel` and
 * `startSecureChannelListener` take (workers/secure-channel SecureChannelIdentity), written
 * here structurally so the runtime core imports no worker.
 */
import type { IdentitiesService, NamedIdentity } from './identities/identities.js'
import { createMemoryIdentityStore, type IdentityStore } from './identity/store.js'
import type { VerifiedIdentity } from './identity/types.js'
import type { HandshakeVault } from './vault/types.js'

/** The vault operations a channel runs its handshake with. */
export type ChannelVault = HandshakeVault

export interface NamedChannelIdentityOptions {
  readonly identities: IdentitiesService
  /** The vault that holds the identity's keys (the same state folder). */
  readonly vault: ChannelVault
  /** The identity's name; default: the default identity, created (named `default`) if the folder has none. */
  readonly name?: string
  /** Presentations this side shows, or a function returning the current ones; default none. */
  readonly credentials?: readonly Uint8Array[] | (() => readonly Uint8Array[] | Promise<readonly Uint8Array[]>)
  readonly trustedAuthorities?: readonly VerifiedIdentity[]
  /** Where verified peer histories are kept; default a new in-memory store. */
  readonly identityStore?: IdentityStore
  readonly signal?: AbortSignal
}

/** Identity material for a channel (structurally a SecureChannelIdentity), with the name it came from. */
export interface NamedChannelIdentity {
  readonly name: string
  readonly identity: VerifiedIdentity
  readonly vault: ChannelVault
  readonly identityKeyHandle: string
  readonly staticKeyHandle: string
  readonly staticKeyAttestation: Uint8Array
  /** Unix seconds until which the static key attestation is valid. */
  readonly staticKeyValidUntil: number
  credentials(): readonly Uint8Array[] | Promise<readonly Uint8Array[]>
  readonly trustedAuthorities: readonly VerifiedIdentity[]
  readonly identityStore: IdentityStore
}

/**
 * Builds channel identity material from the named identity `options.name` (or the default one,
 * made if there is none, as Ockam does on first use). Reuses the stored secure-channel key and
 * attestation while it has DEFAULT_PURPOSE_KEY_MIN_REMAINING_SECONDS left.
 * Throws OCKAM_ERR_IDENTITY_NOT_FOUND for an unknown name, vault errors (passphrase).
 */
export async function namedChannelIdentity(options: NamedChannelIdentityOptions): Promise<NamedChannelIdentity> {
  const abort = options.signal === undefined ? {} : { signal: options.signal }
  const named: NamedIdentity =
    options.name === undefined ? await options.identities.ensureDefault(abort) : options.identities.get(options.name)
  const key = await options.identities.purposeKey(named.name, 'secure-channel', abort)
  const given = options.credentials
  return {
    name: named.name,
    identity: named.identity,
    vault: options.vault,
    identityKeyHandle: named.keyHandle,
    staticKeyHandle: key.keyHandle,
    staticKeyAttestation: key.attestation,
    staticKeyValidUntil: key.validUntil,
    credentials: typeof given === 'function' ? given : () => given ?? [],
    trustedAuthorities: options.trustedAuthorities ?? [],
    identityStore: options.identityStore ?? createMemoryIdentityStore(),
  }
}

/** The identifiers of every identity of the state folder: whom a resource admits without a project (DESIGN §12). */
export function stateFolderIdentifiers(identities: IdentitiesService): string[] {
  return identities.list().map((identity) => identity.identifier)
}
