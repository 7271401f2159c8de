/**
 * Verification of an identity change history: synchronous and pure (no clock, no I/O) so it
 * can run on a pool thread. Every hash and signature is computed over the bytes received.
 */
import { OckamError, type OckamErrorCode } from '../../errors.js'
import { equalBytes } from '../bytes.js'
import type { CryptoProvider } from '../crypto/provider.js'
import { type ChangeData, decodeChangeData, decodeHistory } from './change.js'
import { signingInput } from './domains.js'
import { identifierFromHash } from './identifier.js'
import type { VerifiedChange, VerifiedIdentity } from './types.js'
import { checkNow, validityAt } from './validity.js'

export interface VerifyAtOptions {
  /** The verifier's clock, Unix seconds. */
  readonly now: number
}

function refuse(code: OckamErrorCode, message: string, index: number): never {
  throw new OckamError(code, `change ${index}: ${message}`, {
    hint: 'the identity is damaged or forged; ask its owner to export it again',
    data: { change: index },
  })
}

/**
 * Verifies a change history and returns the identity it proves. Throws a typed OckamError
 * (OCKAM_ERR_CBOR_*, OCKAM_ERR_IDENTITY_*) on anything refused.
 */
export function verifyIdentityHistory(
  history: Uint8Array,
  options: VerifyAtOptions,
  crypto: CryptoProvider,
): VerifiedIdentity {
  const now = checkNow(options.now)
  const signed = decodeHistory(history)
  const datas: ChangeData[] = []
  const hashes: Uint8Array[] = []

  // Cheap checks over the whole history first, signatures last: a forgery costs us little.
  signed.forEach((change, index) => {
    const data = decodeChangeData(change.data)
    const previous = datas[index - 1]
    if (previous === undefined) {
      if (data.previousChangeHash !== undefined)
        refuse('OCKAM_ERR_IDENTITY_BROKEN_CHAIN', 'first change names a previous change', index)
      if (change.previousSignature !== undefined)
        refuse('OCKAM_ERR_IDENTITY_BROKEN_CHAIN', 'first change has a previous-key signature', index)
    } else {
      if (
        data.previousChangeHash === undefined ||
        !equalBytes(data.previousChangeHash, hashes[index - 1] as Uint8Array)
      ) {
        refuse('OCKAM_ERR_IDENTITY_BROKEN_CHAIN', 'does not name the hash of the change before it', index)
      }
      if (change.previousSignature === undefined)
        refuse('OCKAM_ERR_IDENTITY_BROKEN_CHAIN', 'is not signed by the previous key', index)
      if (data.created < previous.created)
        refuse('OCKAM_ERR_IDENTITY_INVALID_TIMES', 'created before the change it replaces', index)
    }
    if (data.expires !== undefined && data.expires <= data.created) {
      refuse('OCKAM_ERR_IDENTITY_INVALID_TIMES', 'expires before it is created', index)
    }
    datas.push(data)
    hashes.push(crypto.sha256(change.data))
  })

  signed.forEach((change, index) => {
    const data = datas[index] as ChangeData
    const message = signingInput('change', change.data)
    if (!crypto.ed25519Verify(data.publicKey, message, change.signature)) {
      refuse('OCKAM_ERR_IDENTITY_BAD_SIGNATURE', 'signature by its own key does not verify', index)
    }
    const previous = datas[index - 1]
    if (
      previous !== undefined &&
      !crypto.ed25519Verify(previous.publicKey, message, change.previousSignature as Uint8Array)
    ) {
      refuse('OCKAM_ERR_IDENTITY_BAD_SIGNATURE', 'signature by the previous key does not verify', index)
    }
  })

  const last = signed.length - 1
  const latest = datas[last] as ChangeData
  const validity = validityAt(latest.created, latest.expires, now)
  if (validity === 'expired') refuse('OCKAM_ERR_IDENTITY_EXPIRED', 'the current primary key has expired', last)
  if (validity === 'not-yet-valid')
    refuse('OCKAM_ERR_IDENTITY_NOT_YET_VALID', 'the current primary key is created in the future', last)

  const changes: VerifiedChange[] = datas.map((data, index) => ({
    hash: hashes[index] as Uint8Array,
    publicKey: data.publicKey,
    created: data.created,
    ...(data.expires === undefined ? {} : { expires: data.expires }),
  }))
  return {
    identifier: identifierFromHash(hashes[0] as Uint8Array),
    // A plain copy: never a view of the caller's (possibly reused or pooled) buffer.
    history: new Uint8Array(history),
    changes,
    latestChangeHash: hashes[last] as Uint8Array,
    publicKey: latest.publicKey,
  }
}
