/**
 * Wire form of identity changes and change histories.
 *
 * change data  = [version: 1, previous change hash: bstr(32) / null, primary public key: bstr(32),
 *                 created: uint, expires: uint / null]
 * signed change = [data: bstr, self signature: bstr(64), previous-key signature: bstr(64) / null]
 * history       = [signed change, ...]   (first to latest, 1..DEFAULT_MAX_IDENTITY_CHANGES)
 */
import { OckamError } from '../../errors.js'
import { type CborValue, decodeCbor, encodeCbor } from '../cbor.js'
import { expectArray, expectArrayOf, expectByteString, expectBytes, expectUint, isNull } from '../cbor-schema.js'
import { DEFAULT_MAX_IDENTITY_CHANGES, DEFAULT_MAX_IDENTITY_HISTORY_BYTES } from '../constants.js'
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES, SHA256_BYTES } from '../crypto/provider.js'

export const CHANGE_VERSION = 1

export interface ChangeData {
  readonly version: number
  readonly previousChangeHash?: Uint8Array
  readonly publicKey: Uint8Array
  readonly created: number
  readonly expires?: number
}

export interface SignedChange {
  /** The exact data bytes, as received: hashes and signatures are over these. */
  readonly data: Uint8Array
  readonly signature: Uint8Array
  readonly previousSignature?: Uint8Array
}

export function encodeChangeData(change: ChangeData): Uint8Array {
  return encodeCbor([
    change.version,
    change.previousChangeHash ?? null,
    change.publicKey,
    change.created,
    change.expires ?? null,
  ])
}

export function decodeChangeData(bytes: Uint8Array): ChangeData {
  const value = decodeCbor(bytes, { maxBytes: DEFAULT_MAX_IDENTITY_HISTORY_BYTES })
  // The version comes first and is read before the arity, so a newer layout says "version".
  const version = expectUint(expectArrayOf(value, 1, 16, 'change data')[0], 'change version')
  if (version !== CHANGE_VERSION) {
    throw new OckamError('OCKAM_ERR_IDENTITY_UNSUPPORTED_VERSION', `identity change version ${version}`, {
      hint: `this runtime understands version ${CHANGE_VERSION}; upgrade it to read this identity`,
    })
  }
  const [, previous, publicKey, created, expires] = expectArray(value, 5, 'change data')
  const out: {
    version: number
    previousChangeHash?: Uint8Array
    publicKey: Uint8Array
    created: number
    expires?: number
  } = {
    version,
    publicKey: expectBytes(publicKey, ED25519_PUBLIC_KEY_BYTES, 'change primary public key'),
    created: expectUint(created, 'change created'),
  }
  if (!isNull(previous)) out.previousChangeHash = expectBytes(previous, SHA256_BYTES, 'previous change hash')
  if (!isNull(expires)) out.expires = expectUint(expires, 'change expires')
  return out
}

export function signedChangeValue(change: SignedChange): CborValue {
  return [change.data, change.signature, change.previousSignature ?? null]
}

export function encodeHistory(changes: readonly SignedChange[]): Uint8Array {
  return encodeCbor(changes.map(signedChangeValue))
}

export function decodeHistory(bytes: Uint8Array): SignedChange[] {
  const value = decodeCbor(bytes, { maxBytes: DEFAULT_MAX_IDENTITY_HISTORY_BYTES })
  if (Array.isArray(value) && value.length > DEFAULT_MAX_IDENTITY_CHANGES) {
    throw new OckamError('OCKAM_ERR_IDENTITY_TOO_MANY_CHANGES', `history of ${value.length} changes`, {
      hint: `at most ${DEFAULT_MAX_IDENTITY_CHANGES} changes are accepted`,
    })
  }
  return expectArrayOf(value, 1, DEFAULT_MAX_IDENTITY_CHANGES, 'identity history').map((item, index) => {
    const [data, signature, previousSignature] = expectArray(item, 3, `change ${index}`)
    const change: { data: Uint8Array; signature: Uint8Array; previousSignature?: Uint8Array } = {
      data: expectByteString(data, `change ${index} data`),
      signature: expectBytes(signature, ED25519_SIGNATURE_BYTES, `change ${index} signature`),
    }
    if (!isNull(previousSignature)) {
      change.previousSignature = expectBytes(
        previousSignature,
        ED25519_SIGNATURE_BYTES,
        `change ${index} previous signature`,
      )
    }
    return change
  })
}
