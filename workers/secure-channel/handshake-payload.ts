/**
 * What travels in the secure-channel handshake (PROTOCOL.md, "Secure channel"):
 *
 *   message 1 = version:u8 suite:u8 noise-message-1      ; e only, empty Noise payload: no identity
 *   message 2 = noise-message-2                          ; payload = identity payload (no credentials)
 *   message 3 = noise-message-3                          ; payload = identity payload with credentials
 *
 *   identity payload (CBOR, deterministic, struct as array)
 *     message 2: [1, change history: bstr, secure-channel key attestation: bstr]
 *     message 3: [1, change history: bstr, secure-channel key attestation: bstr, [credential: bstr, ...]]
 *
 * The responder's credentials are not in message 2: it discloses them only after it verified
 * message 3 (DESIGN §12), in its first transport message (see plaintext.ts, `credentials`).
 * Version and suite in message 1 are unauthenticated, but both are bound by the prologue, so a
 * rewritten byte fails message 2 instead of downgrading anything.
 */
import { isOckamError, OckamError } from '../../runtime/errors.js'
import { type CborValue, decodeCbor, encodeCbor } from '../../runtime/trust/cbor.js'
import { expectArray, expectArrayOf, expectByteString, expectUint } from '../../runtime/trust/cbor-schema.js'
import {
  DEFAULT_MAX_ATTESTATION_BYTES,
  DEFAULT_MAX_CREDENTIAL_BYTES,
  DEFAULT_MAX_IDENTITY_HISTORY_BYTES,
  DEFAULT_MAX_PEER_CREDENTIALS,
} from '../../runtime/trust/constants.js'
import { NOISE_DH_BYTES, NOISE_MAX_MESSAGE_BYTES } from '../../runtime/trust/noise/constants.js'
import { NOISE_XX_AESGCM, NOISE_XX_CHACHAPOLY, type NoiseSuite } from '../../runtime/trust/noise/suite.js'
import { SECURE_CHANNEL_WIRE_VERSION } from './constants.js'

/** Version of the identity payload structure (its first array item); 2 added the features field. */
export const IDENTITY_PAYLOAD_VERSION = 2

/** Feature bit: this side accepts passed-through frames (and may send them), PROTOCOL.md. */
export const FEATURE_PASSTHROUGH = 1
/** Feature bit: this side sends and takes batch plaintexts (PROTOCOL.md, "Batching"). */
export const FEATURE_BATCH = 2

/** Suite ids carried in message 1. */
export const SUITE_IDS: ReadonlyMap<number, NoiseSuite> = new Map([
  [1, NOISE_XX_AESGCM],
  [2, NOISE_XX_CHACHAPOLY],
])

export function suiteId(suite: NoiseSuite): number {
  for (const [id, known] of SUITE_IDS) if (known.protocolName === suite.protocolName) return id
  throw new OckamError('OCKAM_ERR_NOISE_UNSUPPORTED', `no suite id for ${suite.protocolName}`)
}

/** Message 1 is always exactly this long: two header bytes and the 32-byte ephemeral key. */
export const MESSAGE_1_BYTES = 2 + NOISE_DH_BYTES

export interface Message1 {
  readonly version: number
  readonly suite: NoiseSuite
  /** The Noise message (a view into the input). */
  readonly noise: Uint8Array
}

function malformed(message: string, cause?: unknown): OckamError {
  return new OckamError('OCKAM_ERR_SECURE_CHANNEL_PAYLOAD_MALFORMED', message, {
    hint: 'the peer is broken, hostile or speaks another version; the handshake is abandoned',
    ...(cause === undefined ? {} : { cause }),
  })
}

export function encodeMessage1(suite: NoiseSuite, noise: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + noise.length)
  out[0] = SECURE_CHANNEL_WIRE_VERSION
  out[1] = suiteId(suite)
  out.set(noise, 2)
  return out
}

/** Parses message 1 against the suites this listener accepts; throws typed errors, allocates nothing. */
export function decodeMessage1(bytes: Uint8Array, accepted: readonly NoiseSuite[]): Message1 {
  if (!(bytes instanceof Uint8Array) || bytes.length !== MESSAGE_1_BYTES) {
    throw malformed(`message 1 must be ${MESSAGE_1_BYTES} bytes (version, suite, ephemeral key; no payload)`)
  }
  const version = bytes[0] as number
  if (version !== SECURE_CHANNEL_WIRE_VERSION) {
    throw new OckamError('OCKAM_ERR_NOISE_UNSUPPORTED', `secure-channel version ${version} is not supported`, {
      hint: `this node speaks version ${SECURE_CHANNEL_WIRE_VERSION}`,
    })
  }
  const suite = SUITE_IDS.get(bytes[1] as number)
  if (suite === undefined || !accepted.some((s) => s.protocolName === suite.protocolName)) {
    throw new OckamError('OCKAM_ERR_NOISE_UNSUPPORTED', `suite ${bytes[1]} is not accepted by this listener`, {
      hint: `accepted: ${accepted.map((s) => s.protocolName).join(', ')}`,
    })
  }
  return { version, suite, noise: bytes.subarray(2) }
}

/** What one side presents about itself in message 2 (no credentials) or message 3. */
export interface IdentityPayload {
  readonly history: Uint8Array
  readonly attestation: Uint8Array
  /** Present in message 3 only. */
  readonly credentials?: readonly Uint8Array[]
  /** This side takes part in passthrough (both must, for a channel to use it). Default false. */
  readonly passthrough?: boolean
  /** This side sends and takes batches (both must, for a channel to use them). Default false. */
  readonly batch?: boolean
}

export function encodeIdentityPayload(payload: IdentityPayload): Uint8Array {
  const fields: CborValue[] = [IDENTITY_PAYLOAD_VERSION, payload.history, payload.attestation]
  if (payload.credentials !== undefined) fields.push([...payload.credentials])
  fields.push((payload.passthrough === true ? FEATURE_PASSTHROUGH : 0) | (payload.batch === true ? FEATURE_BATCH : 0))
  return encodeCbor(fields)
}

function boundedBytes(value: CborValue | undefined, max: number, what: string): Uint8Array {
  const bytes = expectByteString(value, what)
  if (bytes.length === 0 || bytes.length > max) throw malformed(`${what} must be 1 to ${max} bytes`)
  return bytes
}

/**
 * Decodes a handshake identity payload. `withCredentials` says which message it is (3 or 2).
 * Every length is bounded before anything is verified; the byte strings are returned as
 * received, since signatures are checked over the exact bytes.
 */
export function decodeIdentityPayload(bytes: Uint8Array, withCredentials: boolean): IdentityPayload {
  try {
    const value = decodeCbor(bytes, { maxBytes: NOISE_MAX_MESSAGE_BYTES, maxDepth: 3 })
    const first = expectArrayOf(value, 1, 8, 'identity payload')[0]
    const version = expectUint(first, 'identity payload version')
    if (version !== IDENTITY_PAYLOAD_VERSION) {
      throw new OckamError('OCKAM_ERR_NOISE_UNSUPPORTED', `identity payload version ${version} is not supported`)
    }
    const fields = expectArray(value, withCredentials ? 5 : 4, 'identity payload')
    const history = boundedBytes(fields[1], DEFAULT_MAX_IDENTITY_HISTORY_BYTES, 'change history')
    const attestation = boundedBytes(fields[2], DEFAULT_MAX_ATTESTATION_BYTES, 'key attestation')
    const features = expectUint(fields[withCredentials ? 4 : 3], 'features')
    // Unknown feature bits are ignored: a later version may offer more than this one takes.
    const passthrough = (features & FEATURE_PASSTHROUGH) !== 0
    const batch = (features & FEATURE_BATCH) !== 0
    if (!withCredentials) return { history, attestation, passthrough, batch }
    return { history, attestation, credentials: decodeCredentialList(fields[3] as CborValue), passthrough, batch }
  } catch (error) {
    if (isOckamError(error, 'OCKAM_ERR_SECURE_CHANNEL_PAYLOAD_MALFORMED')) throw error
    if (isOckamError(error, 'OCKAM_ERR_NOISE_UNSUPPORTED')) throw error
    throw malformed('a handshake identity payload does not decode', error)
  }
}

function decodeCredentialList(value: CborValue): Uint8Array[] {
  const items = expectArrayOf(value, 0, DEFAULT_MAX_PEER_CREDENTIALS, 'credential list')
  return items.map((item, i) => boundedBytes(item, DEFAULT_MAX_CREDENTIAL_BYTES, `credential ${i}`))
}

/** A credential list on its own (the `credentials` transport plaintext): CBOR [bstr, ...]. */
export function encodeCredentialList(credentials: readonly Uint8Array[]): Uint8Array {
  if (credentials.length > DEFAULT_MAX_PEER_CREDENTIALS) {
    throw new OckamError(
      'OCKAM_ERR_INVALID_ARGUMENT',
      `a side presents at most ${DEFAULT_MAX_PEER_CREDENTIALS} credentials, got ${credentials.length}`,
    )
  }
  return encodeCbor([...credentials])
}

export function decodeCredentialListBytes(bytes: Uint8Array): Uint8Array[] {
  try {
    return decodeCredentialList(decodeCbor(bytes, { maxBytes: NOISE_MAX_MESSAGE_BYTES, maxDepth: 2 }))
  } catch (error) {
    if (isOckamError(error, 'OCKAM_ERR_SECURE_CHANNEL_PAYLOAD_MALFORMED')) throw error
    throw malformed('a credential list does not decode', error)
  }
}
