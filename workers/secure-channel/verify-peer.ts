/**
 * Verification of what a peer presents, on the node's CPU pool (DESIGN §4): its whole handshake
 * payload (history, static key attestation, credentials) as ONE 'peer' item, and a credential
 * refresh as one task of 'credential' items. Without a pool (a node built without one) the same
 * pure function runs inline. What needs state stays here: the identity store (rollback and fork)
 * and comparing the attested key with the key the Noise handshake authenticated.
 */
import type { Counters } from '../../runtime/diagnostics.js'
import { OckamError } from '../../runtime/errors.js'
import type { TaskPool } from '../../runtime/pool/task-pool.js'
import { equalBytes } from '../../runtime/trust/bytes.js'
import type { VerifiedCredential } from '../../runtime/trust/credentials/types.js'
import { createCryptoProvider } from '../../runtime/trust/crypto/index.js'
import type { CryptoProvider } from '../../runtime/trust/crypto/provider.js'
import type { SubjectRef, VerifiedIdentity } from '../../runtime/trust/identity/types.js'
import { type VerifyItem, type VerifyOutcome, verifyBatch } from '../../runtime/trust/verify-batch.js'
import type { SecureChannelIdentity } from './identity-material.js'

export interface VerifierHost {
  readonly pool: TaskPool | undefined
  readonly counters: Counters
}

let inlineProvider: CryptoProvider | undefined

/**
 * Exact-size copies for what crosses to a pool thread: structured clone copies a view's whole
 * underlying buffer (a pooled slab, a TCP read), which costs and carries unrelated bytes along.
 */
function exact(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes)
}

async function run(host: VerifierHost, items: VerifyItem[]): Promise<VerifyOutcome[]> {
  host.counters.inc('secure_channel.pool_tasks')
  if (host.pool !== undefined) return host.pool.run<VerifyOutcome[]>({ kind: 'trust-verify-batch', items })
  inlineProvider ??= createCryptoProvider('native')
  return verifyBatch(items, inlineProvider)
}

export interface VerifiedPeer {
  readonly identity: VerifiedIdentity
  /** Credentials that verified (about this peer, from a trusted authority, in their window). */
  readonly credentials: readonly VerifiedCredential[]
  /** Codes of the credentials that did not (counted, never fatal). */
  readonly refusedCredentials: readonly string[]
}

export interface PresentedPeer {
  readonly history: Uint8Array
  readonly attestation: Uint8Array
  readonly credentials: readonly Uint8Array[]
  /** The static key the Noise handshake authenticated. */
  readonly remoteStaticPublicKey: Uint8Array
}

/**
 * Verifies a handshake peer. Throws OCKAM_ERR_SECURE_CHANNEL_PEER_INVALID (history or
 * attestation refused; the cause keeps the precise code), OCKAM_ERR_SECURE_CHANNEL_KEY_NOT_ATTESTED
 * (the attested key is not the Noise static key), or the store's OCKAM_ERR_IDENTITY_ROLLBACK /
 * OCKAM_ERR_IDENTITY_FORK wrapped as PEER_INVALID.
 */
export async function verifyHandshakePeer(
  host: VerifierHost,
  material: SecureChannelIdentity,
  presented: PresentedPeer,
  now: number,
): Promise<VerifiedPeer> {
  const [outcome] = await run(host, [
    {
      kind: 'peer',
      history: exact(presented.history),
      secureChannelAttestation: exact(presented.attestation),
      credentials: presented.credentials.map(exact),
      authorities: [...material.trustedAuthorities],
      now,
    },
  ])
  if (outcome === undefined) throw new OckamError('OCKAM_ERR_INTERNAL', 'the verification task returned nothing')
  if (!outcome.ok) {
    const cause = OckamError.fromJSON(outcome.error)
    throw new OckamError(
      'OCKAM_ERR_SECURE_CHANNEL_PEER_INVALID',
      `the peer's identity does not verify: ${cause.message}`,
      {
        cause,
        hint: 'the peer is misconfigured or is not who it claims to be',
        data: { reason: cause.code },
      },
    )
  }
  if (outcome.kind !== 'peer') throw new OckamError('OCKAM_ERR_INTERNAL', `unexpected outcome ${outcome.kind}`)
  if (!equalBytes(outcome.secureChannelKey.publicKey, presented.remoteStaticPublicKey)) {
    throw new OckamError(
      'OCKAM_ERR_SECURE_CHANNEL_KEY_NOT_ATTESTED',
      `${outcome.identity.identifier} attests another key than the one it used in the handshake`,
      { hint: 'the peer is not who it claims to be (or its key attestation is out of date)' },
    )
  }
  let identity: VerifiedIdentity
  try {
    identity = material.identityStore.accept(outcome.identity)
  } catch (cause) {
    const code = cause instanceof OckamError ? cause.code : 'unknown'
    throw new OckamError('OCKAM_ERR_SECURE_CHANNEL_PEER_INVALID', `the peer's history was refused (${code})`, {
      cause,
      hint: 'the peer presented an older or diverging history of a known identity',
      data: { reason: code },
    })
  }
  // The store keeps the longest history; the peer proved the one it sent, which is that one.
  const credentials: VerifiedCredential[] = []
  const refused: string[] = []
  for (const credential of outcome.credentials) {
    if (credential.ok) credentials.push(credential.credential)
    else refused.push(credential.error.code)
  }
  return { identity, credentials, refusedCredentials: refused }
}

export interface CredentialCheck {
  readonly credentials: readonly VerifiedCredential[]
  /** Codes of the presentations refused, in order. */
  readonly refused: readonly string[]
  /** The first refusal, for error messages. */
  readonly firstRefusal?: OckamError
}

/**
 * Verifies presentations about `subject` (this channel's peer at its verified latest change)
 * against the trusted authorities, in one pool task. A refused presentation yields no
 * attributes; the caller decides whether it also refuses the rest (a refresh does).
 */
export async function verifyCredentials(
  host: VerifierHost,
  material: SecureChannelIdentity,
  subject: SubjectRef,
  presentations: readonly Uint8Array[],
  now: number,
): Promise<CredentialCheck> {
  if (presentations.length === 0) return { credentials: [], refused: [] }
  const authorities = [...material.trustedAuthorities]
  const items: VerifyItem[] = presentations.map((presentation) => ({
    kind: 'credential',
    presentation: exact(presentation),
    authorities,
    subject: { identifier: subject.identifier, latestChangeHash: subject.latestChangeHash },
    now,
  }))
  const outcomes = await run(host, items)
  const credentials: VerifiedCredential[] = []
  const refused: string[] = []
  let firstRefusal: OckamError | undefined
  for (const outcome of outcomes) {
    if (outcome.ok && outcome.kind === 'credential') {
      credentials.push(outcome.credential)
    } else if (!outcome.ok) {
      refused.push(outcome.error.code)
      firstRefusal ??= OckamError.fromJSON(outcome.error)
    }
  }
  return firstRefusal === undefined ? { credentials, refused } : { credentials, refused, firstRefusal }
}

/** A refusal of a whole credential refresh (one presentation that is not this peer's, or not from a trusted authority). */
export function refreshRefused(check: CredentialCheck): OckamError {
  const cause = check.firstRefusal
  return new OckamError(
    'OCKAM_ERR_SECURE_CHANNEL_REFRESH_REFUSED',
    `a credential refresh was refused: ${cause?.message ?? 'unknown reason'}`,
    { cause, data: { reasons: [...check.refused] }, hint: 'the peer keeps the attributes it had' },
  )
}
