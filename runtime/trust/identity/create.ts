/**
 * Making and rotating identities. The secret keys stay behind the Signer (the vault); this
 * module only asks for signatures and checks that the handles hold the keys it expects.
 */
import { OckamError } from '../../errors.js'
import { equalBytes } from '../bytes.js'
import type { CryptoProvider } from '../crypto/provider.js'
import { CHANGE_VERSION, decodeHistory, encodeChangeData, encodeHistory, type SignedChange } from './change.js'
import { signingInput } from './domains.js'
import { verifyIdentityHistory } from './history.js'
import type { Signer } from './signer.js'
import type { VerifiedIdentity } from './types.js'
import { checkWindowToSign } from './validity.js'

export interface ChangeTimes {
  /** Unix seconds (whole). */
  readonly created: number
  /** Unix seconds (whole) after `created`; omit for a key that does not expire. */
  readonly expires?: number
}

/** Creates a new identity whose first primary key is the Ed25519 key behind `keyHandle`. */
export async function createIdentity(
  signer: Signer,
  keyHandle: string,
  times: ChangeTimes,
  crypto: CryptoProvider,
): Promise<VerifiedIdentity> {
  checkWindowToSign(times.created, times.expires)
  const publicKey = await signer.publicKey(keyHandle)
  const data = encodeChangeData({
    version: CHANGE_VERSION,
    publicKey,
    created: times.created,
    ...(times.expires === undefined ? {} : { expires: times.expires }),
  })
  const signature = await signer.sign(keyHandle, signingInput('change', data))
  // Verifying what we made catches a signer that signs with another key than it reports.
  return verifyIdentityHistory(encodeHistory([{ data, signature }]), { now: times.created }, crypto)
}

/**
 * Rotates `identity` to the key behind `nextKeyHandle`: a new change signed by the new key and
 * by the current one (behind `currentKeyHandle`). The identifier stays the same; the earlier
 * changes are kept byte for byte.
 */
export async function rotateIdentity(
  identity: VerifiedIdentity,
  signer: Signer,
  currentKeyHandle: string,
  nextKeyHandle: string,
  times: ChangeTimes,
  crypto: CryptoProvider,
): Promise<VerifiedIdentity> {
  checkWindowToSign(times.created, times.expires)
  const currentPublicKey = await signer.publicKey(currentKeyHandle)
  if (!equalBytes(currentPublicKey, identity.publicKey)) {
    throw new OckamError(
      'OCKAM_ERR_IDENTITY_KEY_MISMATCH',
      `key ${currentKeyHandle} is not the current key of ${identity.identifier}`,
      {
        hint: 'pass the handle of the identity current primary key',
      },
    )
  }
  const publicKey = await signer.publicKey(nextKeyHandle)
  const data = encodeChangeData({
    version: CHANGE_VERSION,
    previousChangeHash: identity.latestChangeHash,
    publicKey,
    created: times.created,
    ...(times.expires === undefined ? {} : { expires: times.expires }),
  })
  const message = signingInput('change', data)
  const signature = await signer.sign(nextKeyHandle, message)
  const previousSignature = await signer.sign(currentKeyHandle, message)
  const changes: SignedChange[] = [...decodeHistory(identity.history), { data, signature, previousSignature }]
  return verifyIdentityHistory(encodeHistory(changes), { now: times.created }, crypto)
}
