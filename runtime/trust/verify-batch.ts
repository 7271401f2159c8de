/**
 * One entry point for pool threads (DESIGN §4): a batch of verifications in, one outcome per
 * item out, in order. Plain data both ways (Uint8Array, Map, strings, numbers), so it crosses
 * threads by structured clone; failures come back as serialized OckamErrors (OckamError.toJSON),
 * never thrown, so one bad item does not hide the others' results.
 *
 * What stays on the caller's side: the identity store (rollback and fork checks need state),
 * choosing `now`, and deciding what an outcome means for a channel.
 */
import { isOckamError, OckamError, type SerializedOckamError } from '../errors.js'
import { DEFAULT_MAX_PEER_CREDENTIALS, DEFAULT_MAX_VERIFY_BATCH_ITEMS } from './constants.js'
import { verifyCredential } from './credentials/credential.js'
import type { VerifiedCredential } from './credentials/types.js'
import type { CryptoProvider } from './crypto/provider.js'
import { verifyIdentityHistory } from './identity/history.js'
import { verifyPurposeKeyAttestation } from './identity/purpose-key.js'
import type { PurposeKeyType, SubjectRef, VerifiedIdentity, VerifiedPurposeKey } from './identity/types.js'

export type VerifyItem =
  | { readonly kind: 'identity'; readonly history: Uint8Array; readonly now: number }
  | {
      readonly kind: 'purpose-key'
      readonly attestation: Uint8Array
      readonly identity: VerifiedIdentity
      readonly purpose: PurposeKeyType
      readonly now: number
    }
  | {
      readonly kind: 'credential'
      readonly presentation: Uint8Array
      readonly authorities: readonly VerifiedIdentity[]
      readonly subject: SubjectRef | 'any'
      readonly now: number
    }
  | {
      /**
       * What a secure-channel peer sends in the handshake, verified in one task: its history,
       * the attestation of its Noise static key, and its credentials (each about that peer).
       */
      readonly kind: 'peer'
      readonly history: Uint8Array
      readonly secureChannelAttestation: Uint8Array
      readonly credentials: readonly Uint8Array[]
      readonly authorities: readonly VerifiedIdentity[]
      readonly now: number
    }

export type VerifyFailure = { readonly ok: false; readonly error: SerializedOckamError }

export type CredentialOutcome = { readonly ok: true; readonly credential: VerifiedCredential } | VerifyFailure

export type VerifyOutcome =
  | { readonly ok: true; readonly kind: 'identity'; readonly identity: VerifiedIdentity }
  | { readonly ok: true; readonly kind: 'purpose-key'; readonly purposeKey: VerifiedPurposeKey }
  | { readonly ok: true; readonly kind: 'credential'; readonly credential: VerifiedCredential }
  | {
      readonly ok: true
      readonly kind: 'peer'
      readonly identity: VerifiedIdentity
      readonly secureChannelKey: VerifiedPurposeKey
      /** One outcome per presented credential, in order: a bad credential does not fail the peer. */
      readonly credentials: readonly CredentialOutcome[]
    }
  | VerifyFailure

function failure(error: unknown): VerifyFailure {
  if (isOckamError(error)) return { ok: false, error: error.toJSON() }
  const message = error instanceof Error ? error.message : String(error)
  return {
    ok: false,
    error: new OckamError('OCKAM_ERR_INTERNAL', `verification failed unexpectedly: ${message}`).toJSON(),
  }
}

function verifyOne(item: VerifyItem, crypto: CryptoProvider): VerifyOutcome {
  switch (item.kind) {
    case 'identity':
      return { ok: true, kind: 'identity', identity: verifyIdentityHistory(item.history, { now: item.now }, crypto) }
    case 'purpose-key': {
      const options = { purpose: item.purpose, now: item.now }
      return {
        ok: true,
        kind: 'purpose-key',
        purposeKey: verifyPurposeKeyAttestation(item.attestation, item.identity, options, crypto),
      }
    }
    case 'credential': {
      const options = { authorities: item.authorities, subject: item.subject, now: item.now }
      return { ok: true, kind: 'credential', credential: verifyCredential(item.presentation, options, crypto) }
    }
    case 'peer': {
      if (!Array.isArray(item.credentials) || item.credentials.length > DEFAULT_MAX_PEER_CREDENTIALS) {
        throw new OckamError(
          'OCKAM_ERR_INVALID_ARGUMENT',
          `a peer may present at most ${DEFAULT_MAX_PEER_CREDENTIALS} credentials`,
        )
      }
      const identity = verifyIdentityHistory(item.history, { now: item.now }, crypto)
      const secureChannelKey = verifyPurposeKeyAttestation(
        item.secureChannelAttestation,
        identity,
        { purpose: 'secure-channel', now: item.now },
        crypto,
      )
      const subject = { identifier: identity.identifier, latestChangeHash: identity.latestChangeHash }
      const credentials = item.credentials.map((presentation): CredentialOutcome => {
        try {
          const options = { authorities: item.authorities, subject, now: item.now }
          return { ok: true, credential: verifyCredential(presentation, options, crypto) }
        } catch (error) {
          return failure(error)
        }
      })
      return { ok: true, kind: 'peer', identity, secureChannelKey, credentials }
    }
    default:
      throw new OckamError(
        'OCKAM_ERR_INVALID_ARGUMENT',
        `unknown verification kind ${String((item as { kind?: unknown }).kind)}`,
      )
  }
}

/** Verifies every item; synchronous and pure. Never throws for a bad item, only for a bad batch. */
export function verifyBatch(items: readonly VerifyItem[], crypto: CryptoProvider): VerifyOutcome[] {
  if (!Array.isArray(items) || items.length > DEFAULT_MAX_VERIFY_BATCH_ITEMS) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `a batch holds at most ${DEFAULT_MAX_VERIFY_BATCH_ITEMS} items`)
  }
  return items.map((item) => {
    try {
      return verifyOne(item, crypto)
    } catch (error) {
      return failure(error)
    }
  })
}
