/**
 * Portal messages (PROTOCOL.md, "Portals"): the payload of each routed message between an
 * inlet's portal and an outlet's portal. Hand-encoded, not CBOR: `data` is on every chunk's
 * hot path, and bench/portal.bench.ts measured encode + decode of one data message at 2.7–5×
 * the speed of cborg's [type, seq, bytes] for 1 B and 1 KiB payloads and 2× for 64 KiB ones;
 * the fixed layouts below are also trivial to bound.
 *
 *   open     = 0x01 version:u8 credit:u32be           ; inlet → outlet service
 *   opened   = 0x02 version:u8 credit:u32be           ; outlet portal → inlet portal
 *   data     = 0x03 seq:u32be bytes:1*                ; payload chunk
 *   credit   = 0x04 seq:u32be amount:u32be (≥ 1)      ; receiver grants more credit
 *   return   = 0x05 seq:u32be amount:u32be (≥ 1)      ; idle sender gives unused credit back
 *   end      = 0x06 seq:u32be                         ; no more data from this side (half-close)
 *   reset    = 0x07 reason:u8                         ; abort both directions
 *
 * Each side numbers its data, credit, return and end messages 0, 1, 2, … (mod 2^32); the
 * receiver accepts exactly the next number, so a lost or replayed message resets the portal
 * instead of leaving a hole in the stream.
 */
import { OckamError } from '../../runtime/errors.js'
import { PORTAL_DATA_HEADER_BYTES } from './constants.js'

export const OPEN = 0x01
export const OPENED = 0x02
export const DATA = 0x03
export const CREDIT = 0x04
export const RETURN = 0x05
export const END = 0x06
export const RESET = 0x07

/** Why a portal was reset, as carried on the wire (one byte). */
export const RESET_REASONS = [
  'aborted',
  'denied',
  'too-many',
  'target-unreachable',
  'protocol-error',
  'path-lost',
  'shutdown',
  'timeout',
  'version',
] as const

export type ResetReason = (typeof RESET_REASONS)[number]

export type PortalMessage =
  | { readonly type: 'open'; readonly version: number; readonly credit: number }
  | { readonly type: 'opened'; readonly version: number; readonly credit: number }
  | { readonly type: 'data'; readonly seq: number; readonly bytes: Uint8Array }
  | { readonly type: 'credit'; readonly seq: number; readonly amount: number }
  | { readonly type: 'return'; readonly seq: number; readonly amount: number }
  | { readonly type: 'end'; readonly seq: number }
  /** `reason` is undefined for a reason byte this version does not know (still a reset). */
  | { readonly type: 'reset'; readonly reason: ResetReason | undefined; readonly code: number }

const U32_MAX = 0xffff_ffff

function malformed(message: string): OckamError {
  return new OckamError('OCKAM_ERR_PORTAL_MALFORMED', message)
}

function checkU32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `${what} must be a u32, got ${value}`)
  }
}

function handshake(type: number, version: number, credit: number): Uint8Array {
  checkU32(credit, 'credit')
  if (!Number.isInteger(version) || version < 0 || version > 255) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `version must be a byte, got ${version}`)
  }
  const out = Buffer.allocUnsafe(6)
  out[0] = type
  out[1] = version
  out.writeUInt32BE(credit, 2)
  return out
}

export function encodeOpen(version: number, credit: number): Uint8Array {
  return handshake(OPEN, version, credit)
}

export function encodeOpened(version: number, credit: number): Uint8Array {
  return handshake(OPENED, version, credit)
}

function seqAmount(type: number, seq: number, amount: number): Uint8Array {
  checkU32(seq, 'seq')
  checkU32(amount, 'amount')
  if (amount === 0) throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'a credit amount is at least 1')
  const out = Buffer.allocUnsafe(9)
  out[0] = type
  out.writeUInt32BE(seq, 1)
  out.writeUInt32BE(amount, 5)
  return out
}

export function encodeCredit(seq: number, amount: number): Uint8Array {
  return seqAmount(CREDIT, seq, amount)
}

export function encodeReturn(seq: number, amount: number): Uint8Array {
  return seqAmount(RETURN, seq, amount)
}

export function encodeEnd(seq: number): Uint8Array {
  checkU32(seq, 'seq')
  const out = Buffer.allocUnsafe(5)
  out[0] = END
  out.writeUInt32BE(seq, 1)
  return out
}

export function encodeReset(reason: ResetReason): Uint8Array {
  return Uint8Array.of(RESET, RESET_REASONS.indexOf(reason))
}

/**
 * A `data` message whose payload is gathered from `pieces` (total `length` bytes, at least 1),
 * taken from the front of the list: fully consumed pieces are removed, a partly consumed one is
 * replaced by its rest. The copy is the one the header costs anyway, so coalescing several
 * small reads into one message is free.
 */
export function encodeDataFrom(seq: number, pieces: Buffer[], length: number): Uint8Array {
  if (length < 1) throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'a data message carries at least 1 byte')
  const out = Buffer.allocUnsafe(PORTAL_DATA_HEADER_BYTES + length)
  out[0] = DATA
  out.writeUInt32BE(seq >>> 0, 1)
  let offset = PORTAL_DATA_HEADER_BYTES
  let wanted = length
  while (wanted > 0) {
    const piece = pieces[0]
    if (piece === undefined) throw new OckamError('OCKAM_ERR_INTERNAL', 'data pieces shorter than the length asked')
    if (piece.length <= wanted) {
      out.set(piece, offset)
      offset += piece.length
      wanted -= piece.length
      pieces.shift()
    } else {
      out.set(piece.subarray(0, wanted), offset)
      pieces[0] = piece.subarray(wanted)
      offset += wanted
      wanted = 0
    }
  }
  return out
}

export function encodeData(seq: number, bytes: Uint8Array): Uint8Array {
  checkU32(seq, 'seq')
  return encodeDataFrom(seq, [Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)], bytes.length)
}

export function encodePortalMessage(message: PortalMessage): Uint8Array {
  switch (message.type) {
    case 'open':
      return encodeOpen(message.version, message.credit)
    case 'opened':
      return encodeOpened(message.version, message.credit)
    case 'data':
      return encodeData(message.seq, message.bytes)
    case 'credit':
      return encodeCredit(message.seq, message.amount)
    case 'return':
      return encodeReturn(message.seq, message.amount)
    case 'end':
      return encodeEnd(message.seq)
    case 'reset':
      if (message.reason === undefined) return Uint8Array.of(RESET, message.code)
      return encodeReset(message.reason)
  }
}

function exactLength(payload: Uint8Array, length: number, name: string): void {
  if (payload.length !== length) throw malformed(`a portal ${name} message has ${length} bytes, got ${payload.length}`)
}

function u32(payload: Uint8Array, at: number): number {
  return (
    ((payload[at] as number) * 0x1000000 +
      (((payload[at + 1] as number) << 16) | ((payload[at + 2] as number) << 8) | (payload[at + 3] as number))) >>>
    0
  )
}

/**
 * Decodes one portal message. Every length is fixed except `data`'s, which is the rest of the
 * payload (the transport already bounded the whole). `data.bytes` is a view into `payload`.
 */
export function decodePortalMessage(payload: Uint8Array): PortalMessage {
  if (payload.length === 0) throw malformed('an empty portal message')
  const type = payload[0] as number
  switch (type) {
    case OPEN:
    case OPENED:
      exactLength(payload, 6, type === OPEN ? 'open' : 'opened')
      return { type: type === OPEN ? 'open' : 'opened', version: payload[1] as number, credit: u32(payload, 2) }
    case DATA:
      if (payload.length <= PORTAL_DATA_HEADER_BYTES) throw malformed('a portal data message carries no bytes')
      return { type: 'data', seq: u32(payload, 1), bytes: payload.subarray(PORTAL_DATA_HEADER_BYTES) }
    case CREDIT:
    case RETURN: {
      const name = type === CREDIT ? 'credit' : 'return'
      exactLength(payload, 9, name)
      const amount = u32(payload, 5)
      if (amount === 0) throw malformed(`a portal ${name} message grants 0 bytes`)
      return { type: name, seq: u32(payload, 1), amount }
    }
    case END:
      exactLength(payload, 5, 'end')
      return { type: 'end', seq: u32(payload, 1) }
    case RESET: {
      exactLength(payload, 2, 'reset')
      const code = payload[1] as number
      return { type: 'reset', reason: RESET_REASONS[code], code }
    }
    default:
      throw malformed(`unknown portal message type 0x${type.toString(16).padStart(2, '0')}`)
  }
}
