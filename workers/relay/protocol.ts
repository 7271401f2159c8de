/**
 * The relay service's wire format: deterministic CBOR (runtime/trust/cbor.ts), structs as arrays,
 * one response per request. Requests travel inside the member's secure channel to the project, so
 * the service knows who asks from the channel ingress, never from the message.
 *
 *   request  = [1, kind: uint, id: bstr(8), name: text]      kind: 1 register, 2 ping, 3 unregister
 *   response = [1, id: bstr(8), 0, [forward-address: text, registration-timeout-ms: uint]]
 *            | [1, id: bstr(8), 1, [code: text, message: text, hint: text / null]]
 *
 * Every decoder bounds its input (MAX_RELAY_MESSAGE_BYTES) before decoding and throws only
 * OCKAM_ERR_RELAY_MESSAGE_INVALID (with the CBOR error as cause).
 */
import { ERROR_CODES, OckamError, type OckamErrorCode } from '../../runtime/errors.js'
import { type CborValue, decodeCbor, encodeCbor } from '../../runtime/trust/cbor.js'
import {
  MAX_RELAY_ERROR_TEXT_CHARS,
  MAX_RELAY_MESSAGE_BYTES,
  RELAY_PING,
  RELAY_PROTOCOL_VERSION,
  RELAY_REGISTER,
  RELAY_REQUEST_ID_BYTES,
  RELAY_STATUS_ERROR,
  RELAY_STATUS_OK,
  RELAY_UNREGISTER,
} from './constants.js'

export type RelayRequestKind = 'register' | 'ping' | 'unregister'

export interface RelayRequest {
  readonly kind: RelayRequestKind
  readonly id: Uint8Array
  /** Checked against the relay name pattern by the service, not here (it answers with a typed error). */
  readonly name: string
}

export type RelayResponse =
  | { readonly ok: true; readonly id: Uint8Array; readonly forwardAddress: string; readonly timeoutMs: number }
  | { readonly ok: false; readonly id: Uint8Array; readonly error: OckamError }

const KIND_CODES: Record<RelayRequestKind, number> = {
  register: RELAY_REGISTER,
  ping: RELAY_PING,
  unregister: RELAY_UNREGISTER,
}
const KINDS = new Map<number, RelayRequestKind>(Object.entries(KIND_CODES).map(([k, v]) => [v, k as RelayRequestKind]))

/** Longest name carried (characters); longer ones are refused as malformed before any lookup. */
const MAX_NAME_CHARS = 256
/** Longest forward address carried (characters). */
const MAX_ADDRESS_CHARS = 256

export function invalidRelayMessage(why: string, cause?: unknown): OckamError {
  return new OckamError('OCKAM_ERR_RELAY_MESSAGE_INVALID', `relay message: ${why}`, {
    cause,
    hint: 'the peer runs an incompatible ockam-runtime version, or the message was damaged',
  })
}

function decodeBounded(bytes: Uint8Array): CborValue {
  if (!(bytes instanceof Uint8Array)) throw invalidRelayMessage('not bytes')
  if (bytes.length > MAX_RELAY_MESSAGE_BYTES) {
    throw invalidRelayMessage(`${bytes.length} bytes, at most ${MAX_RELAY_MESSAGE_BYTES}`)
  }
  try {
    return decodeCbor(bytes, { maxBytes: MAX_RELAY_MESSAGE_BYTES, maxDepth: 4 })
  } catch (cause) {
    throw invalidRelayMessage(cause instanceof Error ? cause.message : 'not CBOR', cause)
  }
}

function array(value: CborValue | undefined, length: number, what: string): readonly CborValue[] {
  if (!Array.isArray(value) || value.length !== length)
    throw invalidRelayMessage(`${what} must be an array of ${length}`)
  return value as readonly CborValue[]
}

function text(value: CborValue | undefined, what: string, max: number): string {
  if (typeof value !== 'string' || value.length > max)
    throw invalidRelayMessage(`${what} must be text of at most ${max}`)
  return value
}

function uint(value: CborValue | undefined, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw invalidRelayMessage(`${what} must be an unsigned integer`)
  return value
}

function requestId(value: CborValue | undefined): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== RELAY_REQUEST_ID_BYTES)
    throw invalidRelayMessage(`the request id must be ${RELAY_REQUEST_ID_BYTES} bytes`)
  return value
}

function version(value: CborValue | undefined): void {
  if (value !== RELAY_PROTOCOL_VERSION) throw invalidRelayMessage(`unknown version ${String(value)}`)
}

export function encodeRelayRequest(request: RelayRequest): Uint8Array {
  return encodeCbor([RELAY_PROTOCOL_VERSION, KIND_CODES[request.kind], requestId(request.id), request.name])
}

export function decodeRelayRequest(bytes: Uint8Array): RelayRequest {
  const fields = array(decodeBounded(bytes), 4, 'a relay request')
  version(fields[0])
  const kind = KINDS.get(uint(fields[1], 'the request kind'))
  if (kind === undefined) throw invalidRelayMessage(`unknown request kind ${String(fields[1])}`)
  return { kind, id: requestId(fields[2]), name: text(fields[3], 'the relay name', MAX_NAME_CHARS) }
}

function clip(value: string): string {
  return value.length > MAX_RELAY_ERROR_TEXT_CHARS ? value.slice(0, MAX_RELAY_ERROR_TEXT_CHARS) : value
}

export function encodeRelayResponse(response: RelayResponse): Uint8Array {
  if (response.ok) {
    return encodeCbor([
      RELAY_PROTOCOL_VERSION,
      requestId(response.id),
      RELAY_STATUS_OK,
      [text(response.forwardAddress, 'the forward address', MAX_ADDRESS_CHARS), uint(response.timeoutMs, 'timeout')],
    ])
  }
  const { error } = response
  return encodeCbor([
    RELAY_PROTOCOL_VERSION,
    requestId(response.id),
    RELAY_STATUS_ERROR,
    [error.code, clip(error.message), error.hint === undefined ? null : clip(error.hint)],
  ])
}

export function decodeRelayResponse(bytes: Uint8Array): RelayResponse {
  const fields = array(decodeBounded(bytes), 4, 'a relay response')
  version(fields[0])
  const id = requestId(fields[1])
  const status = fields[2]
  if (status === RELAY_STATUS_OK) {
    const body = array(fields[3], 2, 'an ok body')
    return {
      ok: true,
      id,
      forwardAddress: text(body[0], 'the forward address', MAX_ADDRESS_CHARS),
      timeoutMs: uint(body[1], 'the registration timeout'),
    }
  }
  if (status === RELAY_STATUS_ERROR) {
    const body = array(fields[3], 3, 'an error body')
    const code = text(body[0], 'the error code', 128)
    if (!(code in ERROR_CODES)) throw invalidRelayMessage(`unknown error code ${code}`)
    const message = text(body[1], 'the error message', MAX_RELAY_ERROR_TEXT_CHARS)
    const hint = body[2] === null ? undefined : text(body[2], 'the error hint', MAX_RELAY_ERROR_TEXT_CHARS)
    const error = new OckamError(code as OckamErrorCode, message, hint === undefined ? {} : { hint })
    return { ok: false, id, error }
  }
  throw invalidRelayMessage(`unknown status ${String(status)}`)
}
