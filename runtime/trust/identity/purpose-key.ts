/**
 * Purpose key attestations (DESIGN §6, §12): the identity's current primary key vouches for a
 * key used online, so the primary key is not needed for every channel or credential.
 *
 * attestation data = [version: 1, subject identifier: bstr(32), subject latest change hash: bstr(32),
 *                     purpose: uint (1 secure channel X25519, 2 credential signing Ed25519),
 *                     public key: bstr(32), created: uint, expires: uint]
 * attestation      = [data: bstr, signature by the primary key: bstr(64)]
 *
 * Binding the subject's latest change hash means that after a rotation every older attestation
 * stops verifying, so a stolen old primary key cannot mint keys for the identity.
 */
import { OckamError, type OckamErrorCode } from '../../errors.js'
import { equalBytes } from '../bytes.js'
import { type CborValue, decodeCbor, encodeCbor } from '../cbor.js'
import { expectArray, expectArrayOf, expectByteString, expectBytes, expectUint } from '../cbor-schema.js'
import { DEFAULT_MAX_ATTESTATION_BYTES } from '../constants.js'
import { type CryptoProvider, ED25519_SIGNATURE_BYTES, SHA256_BYTES } from '../crypto/provider.js'
import { signingInput } from './domains.js'
import { identifierBytes, identifierFromHash } from './identifier.js'
import type { Signer } from './signer.js'
import type { PurposeKeyType, VerifiedIdentity, VerifiedPurposeKey } from './types.js'
import { checkNow, checkWindowToSign, validityAt } from './validity.js'

export const PURPOSE_KEY_VERSION = 1

const PURPOSE_CODES: Record<PurposeKeyType, number> = { 'secure-channel': 1, 'credential-signing': 2 }
const PURPOSES_BY_CODE = new Map<number, PurposeKeyType>([
  [1, 'secure-channel'],
  [2, 'credential-signing'],
])

export interface PurposeKeyAttestation {
  /** The exact data bytes, as received. */
  readonly data: Uint8Array
  readonly signature: Uint8Array
  /** The decoded fields (not yet verified). */
  readonly fields: VerifiedPurposeKey
}

function invalid(code: OckamErrorCode, message: string, hint: string): OckamError {
  return new OckamError(code, message, { hint })
}

/** Decodes attestation data bytes into its fields (nothing verified). */
export function decodePurposeKeyData(data: Uint8Array): VerifiedPurposeKey {
  const value = decodeCbor(data, { maxBytes: DEFAULT_MAX_ATTESTATION_BYTES })
  const version = expectUint(expectArrayOf(value, 1, 16, 'attestation data')[0], 'attestation version')
  if (version !== PURPOSE_KEY_VERSION) {
    throw invalid('OCKAM_ERR_PURPOSE_KEY_INVALID', `attestation version ${version}`, 'upgrade this runtime')
  }
  const [, subject, changeHash, purposeCode, publicKey, created, expires] = expectArray(value, 7, 'attestation data')
  const purpose = PURPOSES_BY_CODE.get(expectUint(purposeCode, 'attestation purpose'))
  if (purpose === undefined) throw invalid('OCKAM_ERR_PURPOSE_KEY_INVALID', 'unknown purpose', 'upgrade this runtime')
  const fields: VerifiedPurposeKey = {
    subject: identifierFromHash(expectBytes(subject, SHA256_BYTES, 'attestation subject')),
    subjectChangeHash: expectBytes(changeHash, SHA256_BYTES, 'attestation subject change hash'),
    purpose,
    publicKey: expectBytes(publicKey, 32, 'attested public key'),
    created: expectUint(created, 'attestation created'),
    expires: expectUint(expires, 'attestation expires'),
  }
  if (fields.expires <= fields.created) {
    throw invalid(
      'OCKAM_ERR_PURPOSE_KEY_INVALID',
      'attestation expires before it is created',
      'ask for a new attestation',
    )
  }
  return fields
}

/** Encodes attestation data (the bytes the primary key signs). */
export function encodePurposeKeyData(fields: VerifiedPurposeKey): Uint8Array {
  return encodeCbor([
    PURPOSE_KEY_VERSION,
    identifierBytes(fields.subject),
    fields.subjectChangeHash,
    PURPOSE_CODES[fields.purpose],
    fields.publicKey,
    fields.created,
    fields.expires,
  ])
}

/** Reads an attestation from its decoded CBOR form ([data, signature]); nothing is verified. */
export function parsePurposeKeyAttestationValue(value: CborValue): PurposeKeyAttestation {
  const [data, signature] = expectArray(value, 2, 'purpose key attestation')
  const dataBytes = expectByteString(data, 'attestation data')
  return {
    data: dataBytes,
    signature: expectBytes(signature, ED25519_SIGNATURE_BYTES, 'attestation signature'),
    fields: decodePurposeKeyData(dataBytes),
  }
}

export function decodePurposeKeyAttestation(bytes: Uint8Array): PurposeKeyAttestation {
  return parsePurposeKeyAttestationValue(decodeCbor(bytes, { maxBytes: DEFAULT_MAX_ATTESTATION_BYTES }))
}

export function purposeKeyAttestationValue(attestation: PurposeKeyAttestation): CborValue {
  return [attestation.data, attestation.signature]
}

export interface AttestRequest {
  readonly purpose: PurposeKeyType
  /** The X25519 (secure channel) or Ed25519 (credential signing) public key to attest. */
  readonly publicKey: Uint8Array
  /** Unix seconds (whole). */
  readonly created: number
  /** Unix seconds (whole), after `created`. */
  readonly expires: number
}

/** Signs an attestation with the identity's current primary key (behind `identityKeyHandle`). */
export async function createPurposeKeyAttestation(
  signer: Signer,
  identityKeyHandle: string,
  identity: VerifiedIdentity,
  request: AttestRequest,
): Promise<Uint8Array> {
  checkWindowToSign(request.created, request.expires)
  if (!(request.publicKey instanceof Uint8Array) || request.publicKey.length !== 32) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'the attested public key must be 32 bytes')
  }
  const purposeCode = PURPOSE_CODES[request.purpose]
  if (purposeCode === undefined)
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `unknown purpose ${request.purpose}`)
  const signerKey = await signer.publicKey(identityKeyHandle)
  if (!equalBytes(signerKey, identity.publicKey)) {
    throw new OckamError(
      'OCKAM_ERR_IDENTITY_KEY_MISMATCH',
      `key ${identityKeyHandle} is not the current key of ${identity.identifier}`,
      {
        hint: 'attestations must be signed by the identity current primary key',
      },
    )
  }
  const data = encodePurposeKeyData({
    subject: identity.identifier,
    subjectChangeHash: identity.latestChangeHash,
    purpose: request.purpose,
    publicKey: request.publicKey,
    created: request.created,
    expires: request.expires,
  })
  const signature = await signer.sign(identityKeyHandle, signingInput('purposeKey', data))
  return encodeCbor([data, signature])
}

export interface VerifyPurposeKeyOptions {
  /** The purpose the caller is about to use the key for. */
  readonly purpose: PurposeKeyType
  /** The verifier's clock, Unix seconds. */
  readonly now: number
}

/** Verifies a parsed attestation against the subject's verified identity. */
export function verifyParsedPurposeKey(
  attestation: PurposeKeyAttestation,
  identity: VerifiedIdentity,
  options: VerifyPurposeKeyOptions,
  crypto: CryptoProvider,
): VerifiedPurposeKey {
  const now = checkNow(options.now)
  const { fields } = attestation
  if (fields.subject !== identity.identifier) {
    throw invalid(
      'OCKAM_ERR_PURPOSE_KEY_WRONG_SUBJECT',
      `attestation is for ${fields.subject}, not ${identity.identifier}`,
      'the peer presented a key that belongs to another identity',
    )
  }
  if (fields.purpose !== options.purpose) {
    throw invalid(
      'OCKAM_ERR_PURPOSE_KEY_WRONG_PURPOSE',
      `key is attested for ${fields.purpose}, not ${options.purpose}`,
      'a key attested for one purpose is never accepted for another',
    )
  }
  if (!equalBytes(fields.subjectChangeHash, identity.latestChangeHash)) {
    throw invalid(
      'OCKAM_ERR_PURPOSE_KEY_STALE',
      `attestation does not bind the latest change of ${identity.identifier}`,
      'the identity rotated since (or the peer sent another history); it must attest its key again',
    )
  }
  if (!crypto.ed25519Verify(identity.publicKey, signingInput('purposeKey', attestation.data), attestation.signature)) {
    throw invalid(
      'OCKAM_ERR_PURPOSE_KEY_BAD_SIGNATURE',
      `attestation is not signed by the current key of ${identity.identifier}`,
      'the attestation is damaged or forged',
    )
  }
  const validity = validityAt(fields.created, fields.expires, now)
  if (validity === 'expired') {
    throw invalid(
      'OCKAM_ERR_PURPOSE_KEY_EXPIRED',
      `attestation expired at ${fields.expires}`,
      'the owner must attest its key again',
    )
  }
  if (validity === 'not-yet-valid') {
    throw invalid(
      'OCKAM_ERR_PURPOSE_KEY_NOT_YET_VALID',
      `attestation is valid from ${fields.created}`,
      'check the clocks of both machines',
    )
  }
  return fields
}

/** Decodes and verifies an attestation (bytes as received) against the subject's verified identity. */
export function verifyPurposeKeyAttestation(
  bytes: Uint8Array,
  identity: VerifiedIdentity,
  options: VerifyPurposeKeyOptions,
  crypto: CryptoProvider,
): VerifiedPurposeKey {
  return verifyParsedPurposeKey(decodePurposeKeyAttestation(bytes), identity, options, crypto)
}
