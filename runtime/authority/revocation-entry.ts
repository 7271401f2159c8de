/**
 * Revocation entries (DESIGN §6, §12): the authority's signed statement that an identity is no
 * longer a member, numbered so a subscriber can tell it missed one.
 *
 *   data  = [1, authority-id: bstr(32), seq: uint (>= 1), subject-id: bstr(32),
 *            revoked-at: uint (Unix seconds), signer-change-hash: bstr(32)]
 *   entry = [data: bstr, signature: bstr(64)]
 *
 * The signature is by the authority's primary key of the change `signer-change-hash` names, over
 * `"ockam-runtime/revocation-entry/v1" 0x00 data` (the same domain separation as every signed
 * structure in runtime/trust/identity/domains.ts), and is verified over the data bytes received.
 * A primary key signs it, not the credential key: the entry must stay verifiable for as long as
 * subscribers keep it, and a primary key's validity is the identity's own.
 */
import { OckamError } from '../errors.js'
import { concatBytes, equalBytes, utf8 } from '../trust/bytes.js'
import { type CborValue, decodeCbor, encodeCbor } from '../trust/cbor.js'
import { expectArray, expectByteString, expectBytes, expectUint } from '../trust/cbor-schema.js'
import { type CryptoProvider, ED25519_SIGNATURE_BYTES, SHA256_BYTES } from '../trust/crypto/provider.js'
import { identifierBytes, identifierFromHash, isIdentifier } from '../trust/identity/identifier.js'
import type { Signer } from '../trust/identity/signer.js'
import type { VerifiedIdentity } from '../trust/identity/types.js'
import { MAX_REVOCATION_ENTRY_BYTES } from './constants.js'

export const REVOCATION_ENTRY_VERSION = 1

export const REVOCATION_SIGNING_DOMAIN = 'ockam-runtime/revocation-entry/v1'

const PREFIX = concatBytes(utf8(REVOCATION_SIGNING_DOMAIN), new Uint8Array([0]))

/** The exact bytes signed and verified for revocation data. */
export function revocationSigningInput(data: Uint8Array): Uint8Array {
  return concatBytes(PREFIX, data)
}

export interface RevocationFields {
  readonly authority: string
  /** 1, 2, 3, … without gaps per authority. */
  readonly seq: number
  /** The revoked identifier. */
  readonly subject: string
  /** Unix seconds. */
  readonly revokedAt: number
  /** Hash of the authority change whose primary key signed. */
  readonly signerChangeHash: Uint8Array
}

/** A decoded entry with its exact bytes (what is stored and forwarded). */
export interface RevocationEntry extends RevocationFields {
  readonly bytes: Uint8Array
}

export interface ParsedRevocationEntry extends RevocationEntry {
  readonly data: Uint8Array
  readonly signature: Uint8Array
}

function invalid(why: string): OckamError {
  return new OckamError('OCKAM_ERR_REVOCATION_INVALID', `revocation entry: ${why}`, {
    hint: 'the entry is damaged, forged or from an incompatible version; resynchronize from the authority',
  })
}

function checkFields(fields: RevocationFields): void {
  if (!Number.isSafeInteger(fields.seq) || fields.seq < 1) throw invalid('seq must be a whole number >= 1')
  if (!Number.isSafeInteger(fields.revokedAt) || fields.revokedAt < 0) throw invalid('revokedAt must be Unix seconds')
  if (!isIdentifier(fields.subject) || !isIdentifier(fields.authority)) throw invalid('malformed identifier')
  if (!(fields.signerChangeHash instanceof Uint8Array) || fields.signerChangeHash.length !== SHA256_BYTES) {
    throw invalid(`the signer change hash must be ${SHA256_BYTES} bytes`)
  }
}

export function encodeRevocationData(fields: RevocationFields): Uint8Array {
  checkFields(fields)
  return encodeCbor([
    REVOCATION_ENTRY_VERSION,
    identifierBytes(fields.authority),
    fields.seq,
    identifierBytes(fields.subject),
    fields.revokedAt,
    fields.signerChangeHash,
  ])
}

/** Decodes an entry (bytes as received) without verifying it. Bounded by MAX_REVOCATION_ENTRY_BYTES. */
export function decodeRevocationEntry(bytes: Uint8Array): ParsedRevocationEntry {
  const [data, signature] = expectArray(
    decodeCbor(bytes, { maxBytes: MAX_REVOCATION_ENTRY_BYTES }),
    2,
    'revocation entry',
  )
  const dataBytes = expectByteString(data as CborValue, 'revocation data')
  const fields = expectArray(decodeCbor(dataBytes, { maxBytes: MAX_REVOCATION_ENTRY_BYTES }), 6, 'revocation data')
  const [version, authority, seq, subject, revokedAt, signerChangeHash] = fields
  if (expectUint(version, 'revocation version') !== REVOCATION_ENTRY_VERSION) {
    throw invalid(`unknown version ${String(version)}`)
  }
  const parsed: ParsedRevocationEntry = {
    authority: identifierFromHash(expectBytes(authority, SHA256_BYTES, 'revocation authority')),
    seq: expectUint(seq, 'revocation seq'),
    subject: identifierFromHash(expectBytes(subject, SHA256_BYTES, 'revocation subject')),
    revokedAt: expectUint(revokedAt, 'revocation time'),
    signerChangeHash: expectBytes(signerChangeHash, SHA256_BYTES, 'revocation signer change hash'),
    data: dataBytes,
    signature: expectBytes(signature, ED25519_SIGNATURE_BYTES, 'revocation signature'),
    bytes: new Uint8Array(bytes),
  }
  if (parsed.seq < 1) throw invalid('seq must be >= 1')
  return parsed
}

/**
 * Signs an entry with the authority's current primary key (`keyHandle`, which must hold
 * `authority.publicKey`); returns the entry bytes.
 */
export async function signRevocationEntry(
  signer: Signer,
  keyHandle: string,
  authority: VerifiedIdentity,
  request: { readonly seq: number; readonly subject: string; readonly revokedAt: number },
): Promise<Uint8Array> {
  const publicKey = await signer.publicKey(keyHandle)
  if (!equalBytes(publicKey, authority.publicKey)) {
    throw new OckamError('OCKAM_ERR_IDENTITY_KEY_MISMATCH', `key ${keyHandle} is not the authority's primary key`, {
      hint: 'pass the key handle of the authority identity',
    })
  }
  const data = encodeRevocationData({
    authority: authority.identifier,
    seq: request.seq,
    subject: request.subject,
    revokedAt: request.revokedAt,
    signerChangeHash: authority.latestChangeHash,
  })
  const signature = await signer.sign(keyHandle, revocationSigningInput(data))
  const bytes = encodeCbor([data, signature])
  if (bytes.length > MAX_REVOCATION_ENTRY_BYTES)
    throw invalid(`${bytes.length} bytes, at most ${MAX_REVOCATION_ENTRY_BYTES}`)
  return bytes
}

/**
 * Decodes and verifies an entry against the trusted authority: issued by it, signed by the
 * primary key of a change in its verified history. Any change of the history is accepted, not
 * only the latest: an entry stays valid after the authority rotates (a revocation can only take
 * access away, so an old key is not a way in). Synchronous and pure.
 */
export function verifyRevocationEntry(
  bytes: Uint8Array,
  authority: VerifiedIdentity,
  crypto: CryptoProvider,
): RevocationEntry {
  const parsed = decodeRevocationEntry(bytes)
  if (parsed.authority !== authority.identifier) {
    throw new OckamError(
      'OCKAM_ERR_REVOCATION_WRONG_AUTHORITY',
      `revocation entry issued by ${parsed.authority}, not by the trusted authority ${authority.identifier}`,
      { hint: 'only the authority this node trusts can revoke its members', data: { issuer: parsed.authority } },
    )
  }
  const change = authority.changes.find((candidate) => equalBytes(candidate.hash, parsed.signerChangeHash))
  if (change === undefined) {
    throw new OckamError(
      'OCKAM_ERR_REVOCATION_UNKNOWN_SIGNER',
      'revocation entry signed by a key change the trusted authority history does not hold',
      { hint: "the authority rotated its key since this node learned its identity: update the authority's identity" },
    )
  }
  if (!crypto.ed25519Verify(change.publicKey, revocationSigningInput(parsed.data), parsed.signature)) {
    throw new OckamError('OCKAM_ERR_REVOCATION_BAD_SIGNATURE', `revocation entry ${parsed.seq} does not verify`, {
      hint: 'the entry was tampered with or forged; resynchronize from the authority',
      data: { seq: parsed.seq },
    })
  }
  const { data: _data, signature: _signature, ...entry } = parsed
  return entry
}
