/**
 * Credentials (DESIGN §6): attributes about a subject identity, signed by an issuer's
 * credential-signing purpose key, presented together with the issuer's attestation of that key.
 *
 * credential data = [version: 1, subject identifier: bstr(32), subject latest change hash: bstr(32),
 *                    attributes: {text => text}, issuer identifier: bstr(32), created: uint, expires: uint]
 * credential      = [data: bstr, signature by the issuer credential key: bstr(64)]
 * presentation    = [credential, issuer purpose key attestation]
 */
import { OckamError, type OckamErrorCode } from '../../errors.js'
import { equalBytes, utf8ByteLength } from '../bytes.js'
import { type CborValue, decodeCbor, encodeCbor } from '../cbor.js'
import { expectArray, expectArrayOf, expectByteString, expectBytes, expectMap, expectUint } from '../cbor-schema.js'
import {
  DEFAULT_MAX_ATTRIBUTE_KEY_BYTES,
  DEFAULT_MAX_ATTRIBUTE_VALUE_BYTES,
  DEFAULT_MAX_CREDENTIAL_ATTRIBUTES,
  DEFAULT_MAX_CREDENTIAL_BYTES,
} from '../constants.js'
import { type CryptoProvider, ED25519_SIGNATURE_BYTES, SHA256_BYTES } from '../crypto/provider.js'
import { signingInput } from '../identity/domains.js'
import { identifierBytes, identifierFromHash } from '../identity/identifier.js'
import {
  decodePurposeKeyAttestation,
  type PurposeKeyAttestation,
  parsePurposeKeyAttestationValue,
  purposeKeyAttestationValue,
  verifyParsedPurposeKey,
} from '../identity/purpose-key.js'
import type { Signer } from '../identity/signer.js'
import type { SubjectRef, VerifiedIdentity } from '../identity/types.js'
import { checkNow, checkWindowToSign, validityAt } from '../identity/validity.js'
import type { VerifiedCredential } from './types.js'

export const CREDENTIAL_VERSION = 1

export type AttributesInput = ReadonlyMap<string, string> | Readonly<Record<string, string>>

export interface ParsedPresentation {
  /** The exact credential data bytes, as received. */
  readonly data: Uint8Array
  readonly signature: Uint8Array
  /** The decoded credential fields (not yet verified). */
  readonly fields: VerifiedCredential
  readonly attestation: PurposeKeyAttestation
}

function credentialError(
  code: OckamErrorCode,
  message: string,
  hint: string,
  data?: Record<string, unknown>,
): OckamError {
  return new OckamError(code, message, data === undefined ? { hint } : { hint, data })
}

/** Checks attribute bounds; returns the attributes as a Map. Throws OCKAM_ERR_CREDENTIAL_INVALID. */
export function checkAttributes(attributes: AttributesInput): Map<string, string> {
  const entries = attributes instanceof Map ? [...attributes] : Object.entries(attributes)
  const bad = (why: string) =>
    credentialError(
      'OCKAM_ERR_CREDENTIAL_INVALID',
      `attributes: ${why}`,
      'attributes must respect the limits in LIMITS.md',
    )
  if (entries.length > DEFAULT_MAX_CREDENTIAL_ATTRIBUTES) {
    throw bad(`${entries.length} attributes, at most ${DEFAULT_MAX_CREDENTIAL_ATTRIBUTES}`)
  }
  const out = new Map<string, string>()
  for (const [key, value] of entries) {
    if (typeof key !== 'string' || typeof value !== 'string') throw bad('names and values must be strings')
    if (key.length === 0 || utf8ByteLength(key) > DEFAULT_MAX_ATTRIBUTE_KEY_BYTES) {
      throw bad(`a name must be 1 to ${DEFAULT_MAX_ATTRIBUTE_KEY_BYTES} bytes`)
    }
    if (utf8ByteLength(value) > DEFAULT_MAX_ATTRIBUTE_VALUE_BYTES) {
      throw bad(`value of ${JSON.stringify(key)} is longer than ${DEFAULT_MAX_ATTRIBUTE_VALUE_BYTES} bytes`)
    }
    out.set(key, value)
  }
  return out
}

/** Decodes credential data bytes into its fields (nothing verified). */
export function decodeCredentialData(data: Uint8Array): VerifiedCredential {
  const value = decodeCbor(data, { maxBytes: DEFAULT_MAX_CREDENTIAL_BYTES })
  const version = expectUint(expectArrayOf(value, 1, 16, 'credential data')[0], 'credential version')
  if (version !== CREDENTIAL_VERSION) {
    throw credentialError('OCKAM_ERR_CREDENTIAL_INVALID', `credential version ${version}`, 'upgrade this runtime')
  }
  const [, subject, changeHash, attributes, issuer, created, expires] = expectArray(value, 7, 'credential data')
  const attributeMap = expectMap(attributes, 'credential attributes')
  for (const item of attributeMap.values()) {
    if (typeof item !== 'string')
      throw credentialError('OCKAM_ERR_CREDENTIAL_INVALID', 'attribute value is not text', 'ask the issuer')
  }
  const fields: VerifiedCredential = {
    subject: identifierFromHash(expectBytes(subject, SHA256_BYTES, 'credential subject')),
    subjectChangeHash: expectBytes(changeHash, SHA256_BYTES, 'credential subject change hash'),
    attributes: checkAttributes(attributeMap as ReadonlyMap<string, string>),
    issuer: identifierFromHash(expectBytes(issuer, SHA256_BYTES, 'credential issuer')),
    created: expectUint(created, 'credential created'),
    expires: expectUint(expires, 'credential expires'),
  }
  if (fields.expires <= fields.created) {
    throw credentialError('OCKAM_ERR_CREDENTIAL_INVALID', 'credential expires before it is created', 'ask the issuer')
  }
  return fields
}

/** Encodes credential data (the bytes the issuer credential key signs). */
export function encodeCredentialData(fields: VerifiedCredential): Uint8Array {
  return encodeCbor([
    CREDENTIAL_VERSION,
    identifierBytes(fields.subject),
    fields.subjectChangeHash,
    checkAttributes(fields.attributes),
    identifierBytes(fields.issuer),
    fields.created,
    fields.expires,
  ])
}

/** Decodes a presentation (bytes as received) without verifying anything. */
export function decodeCredentialPresentation(bytes: Uint8Array): ParsedPresentation {
  const value = decodeCbor(bytes, { maxBytes: DEFAULT_MAX_CREDENTIAL_BYTES })
  const [credential, attestation] = expectArray(value, 2, 'credential presentation')
  const [data, signature] = expectArray(credential as CborValue, 2, 'credential')
  const dataBytes = expectByteString(data, 'credential data')
  return {
    data: dataBytes,
    signature: expectBytes(signature, ED25519_SIGNATURE_BYTES, 'credential signature'),
    fields: decodeCredentialData(dataBytes),
    attestation: parsePurposeKeyAttestationValue(attestation as CborValue),
  }
}

export interface IssueRequest {
  readonly subject: SubjectRef
  readonly attributes: AttributesInput
  /** Unix seconds (whole). */
  readonly created: number
  /** Unix seconds (whole), after `created`. */
  readonly expires: number
}

/**
 * Issues a credential signed by the credential key behind `credentialKeyHandle`, and returns the
 * presentation bytes (credential plus `issuerAttestation`, which must attest that very key).
 */
export async function issueCredential(
  signer: Signer,
  credentialKeyHandle: string,
  issuerAttestation: Uint8Array,
  request: IssueRequest,
): Promise<Uint8Array> {
  checkWindowToSign(request.created, request.expires)
  const attributes = checkAttributes(request.attributes)
  const attestation = decodePurposeKeyAttestation(issuerAttestation)
  if (attestation.fields.purpose !== 'credential-signing') {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'the issuer attestation is not for a credential-signing key')
  }
  const signerKey = await signer.publicKey(credentialKeyHandle)
  if (!equalBytes(signerKey, attestation.fields.publicKey)) {
    throw new OckamError(
      'OCKAM_ERR_IDENTITY_KEY_MISMATCH',
      `key ${credentialKeyHandle} is not the attested credential key`,
      {
        hint: 'pass the handle of the key the issuer attestation names',
      },
    )
  }
  if (
    !(request.subject.latestChangeHash instanceof Uint8Array) ||
    request.subject.latestChangeHash.length !== SHA256_BYTES
  ) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'the subject latest change hash must be 32 bytes')
  }
  const data = encodeCredentialData({
    subject: request.subject.identifier,
    subjectChangeHash: request.subject.latestChangeHash,
    attributes,
    issuer: attestation.fields.subject,
    created: request.created,
    expires: request.expires,
  })
  const signature = await signer.sign(credentialKeyHandle, signingInput('credential', data))
  const presentation = encodeCbor([[data, signature], purposeKeyAttestationValue(attestation)])
  if (presentation.length > DEFAULT_MAX_CREDENTIAL_BYTES) {
    throw new OckamError('OCKAM_ERR_CREDENTIAL_INVALID', `credential of ${presentation.length} bytes is too large`, {
      hint: `a credential presentation is at most ${DEFAULT_MAX_CREDENTIAL_BYTES} bytes: issue fewer or shorter attributes`,
    })
  }
  return presentation
}

export interface VerifyCredentialOptions {
  /** Verified identities of the authorities whose credentials are accepted. */
  readonly authorities: readonly VerifiedIdentity[]
  /** The identity the credential must be about, or 'any' to accept any subject (tools only). */
  readonly subject: SubjectRef | 'any'
  /** The verifier's clock, Unix seconds. */
  readonly now: number
}

/** Verifies a parsed presentation. See verifyCredential. */
export function verifyParsedCredential(
  presentation: ParsedPresentation,
  options: VerifyCredentialOptions,
  crypto: CryptoProvider,
): VerifiedCredential {
  const now = checkNow(options.now)
  const { fields } = presentation
  const authority = options.authorities.find((candidate) => candidate.identifier === fields.issuer)
  if (authority === undefined) {
    throw credentialError(
      'OCKAM_ERR_CREDENTIAL_UNTRUSTED_ISSUER',
      `credential issued by ${fields.issuer}, which is not a trusted authority`,
      'only credentials from the authorities this resource trusts count',
      { issuer: fields.issuer },
    )
  }
  if (options.subject !== 'any') {
    if (fields.subject !== options.subject.identifier) {
      throw credentialError(
        'OCKAM_ERR_CREDENTIAL_WRONG_SUBJECT',
        `credential is about ${fields.subject}, not ${options.subject.identifier}`,
        'a credential only counts for the identity it names',
      )
    }
    if (!equalBytes(fields.subjectChangeHash, options.subject.latestChangeHash)) {
      throw credentialError(
        'OCKAM_ERR_CREDENTIAL_SUBJECT_STALE',
        `credential binds another change of ${fields.subject} than its latest`,
        'the subject rotated its key since issuance: it must refresh its credential',
      )
    }
  }
  const validity = validityAt(fields.created, fields.expires, now)
  if (validity === 'expired') {
    throw credentialError(
      'OCKAM_ERR_CREDENTIAL_EXPIRED',
      `credential expired at ${fields.expires}`,
      'refresh the credential from the authority',
    )
  }
  if (validity === 'not-yet-valid') {
    throw credentialError(
      'OCKAM_ERR_CREDENTIAL_NOT_YET_VALID',
      `credential is valid from ${fields.created}`,
      'check the clocks of both machines',
    )
  }
  const credentialKey = verifyParsedPurposeKey(
    presentation.attestation,
    authority,
    { purpose: 'credential-signing', now },
    crypto,
  )
  if (
    !crypto.ed25519Verify(
      credentialKey.publicKey,
      signingInput('credential', presentation.data),
      presentation.signature,
    )
  ) {
    throw credentialError(
      'OCKAM_ERR_CREDENTIAL_BAD_SIGNATURE',
      'credential signature does not verify with the issuer credential key',
      'the credential is damaged or forged',
    )
  }
  return fields
}

/**
 * Decodes and verifies a presentation (bytes as received): issuer among `authorities`, the
 * issuer's attestation of its credential key, the credential signature, the subject, and the
 * validity window with ±DEFAULT_CLOCK_SKEW_SECONDS. Synchronous and pure.
 */
export function verifyCredential(
  presentation: Uint8Array,
  options: VerifyCredentialOptions,
  crypto: CryptoProvider,
): VerifiedCredential {
  return verifyParsedCredential(decodeCredentialPresentation(presentation), options, crypto)
}
