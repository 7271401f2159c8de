/**
 * The typed plaintext inside each transport frame (PROTOCOL.md, "Secure channel"):
 *
 *   plaintext     = type:u8 body
 *   0x01 payload       = route(onward) route(return) payload          ; one whole message
 *   0x02 payload-first = route(onward) route(return) total:u32be chunk ; first fragment, total > chunk
 *   0x03 payload-next  = chunk                                         ; following fragments, in order
 *   0x04 credentials   = CBOR [credential: bstr, ...]                  ; ≤ 4, each about the sender
 *   0x05 close         = reason:u8
 *   0x06 batch         = (length:u32be item)+                           ; items are whole 0x01 payloads
 *   route         = hop-count:u8 hop* ; hop = type:u8 length:u8 value (UTF-8, 1..255 bytes), ≤ 16 hops
 *
 * Routes are the message's routes beyond the channel: the onward route the sender's encryptor
 * did not consume and the return route it was given; the receiving decryptor prepends its own
 * encryptor to the return route. Hand-encoded, not CBOR, because it is on every message's hot
 * path (the same hop encoding as a TCP frame). A message too large for one frame is split into
 * payload-first and payload-next plaintexts; an ordered channel delivers them in order or closes.
 * Several small messages may share one frame as a batch (only when both ends offered it in the
 * handshake), delivered in their order.
 */
import { OckamError } from '../../runtime/errors.js'
import type { Route } from '../../runtime/route.js'
import { encodedRouteLength, readRoute, writeRoute } from '../../runtime/route-codec.js'
import { decodeCredentialListBytes, encodeCredentialList } from './handshake-payload.js'

export const PLAINTEXT_PAYLOAD = 0x01
export const PLAINTEXT_PAYLOAD_FIRST = 0x02
export const PLAINTEXT_PAYLOAD_NEXT = 0x03
export const PLAINTEXT_CREDENTIALS = 0x04
export const PLAINTEXT_CLOSE = 0x05
export const PLAINTEXT_BATCH = 0x06
/** Bytes in front of each item of a batch: its length. */
export const BATCH_ITEM_HEADER_BYTES = 4

/** Why a channel was closed, as carried in a `close` plaintext. */
export type CloseReason = 'normal' | 'refused' | 'protocol-error' | 'frame-lost' | 'credentials-expired' | 'shutdown'

export const CLOSE_REASONS: readonly CloseReason[] = [
  'normal',
  'refused',
  'protocol-error',
  'frame-lost',
  'credentials-expired',
  'shutdown',
]

export type ChannelPlaintext =
  | { readonly type: 'payload'; readonly onward: Route; readonly return: Route; readonly payload: Uint8Array }
  | {
      readonly type: 'payload-first'
      readonly onward: Route
      readonly return: Route
      readonly total: number
      readonly chunk: Uint8Array
    }
  | { readonly type: 'payload-next'; readonly chunk: Uint8Array }
  | { readonly type: 'credentials'; readonly credentials: readonly Uint8Array[] }
  | { readonly type: 'close'; readonly reason: CloseReason }
  | { readonly type: 'batch'; readonly messages: readonly BatchedMessage[] }

/** One message of a batch: what a `payload` plaintext carries. */
export interface BatchedMessage {
  readonly onward: Route
  readonly return: Route
  readonly payload: Uint8Array
}

function malformed(message: string): OckamError {
  return new OckamError('OCKAM_ERR_SECURE_CHANNEL_PAYLOAD_MALFORMED', message, {
    hint: 'the peer is broken or hostile: close the channel',
  })
}

/**
 * The plaintexts of one message: a single `payload` when it fits `maxPlaintextBytes`, otherwise
 * a `payload-first` and as many `payload-next` as needed. The payload is copied once, into the
 * plaintexts (sealing needs them contiguous).
 */
export function encodePayloadPlaintexts(
  onward: Route,
  ret: Route,
  payload: Uint8Array,
  maxPlaintextBytes: number,
  maxMessageBytes: number,
): Uint8Array[] {
  if (payload.length > maxMessageBytes) {
    throw new OckamError(
      'OCKAM_ERR_SECURE_CHANNEL_MESSAGE_TOO_LARGE',
      `a ${payload.length}-byte payload is larger than the ${maxMessageBytes} bytes a channel message carries`,
      { hint: 'send it in several messages', data: { limit: maxMessageBytes } },
    )
  }
  const header = 1 + encodedRouteLength(onward) + encodedRouteLength(ret)
  // Not zero-filled: every byte of each plaintext is written below.
  if (header + payload.length <= maxPlaintextBytes) {
    const out = Buffer.allocUnsafe(header + payload.length)
    out[0] = PLAINTEXT_PAYLOAD
    out.set(payload, writeRoute(ret, out, writeRoute(onward, out, 1)))
    return [out]
  }
  const firstChunk = maxPlaintextBytes - header - 4
  if (firstChunk <= 0) throw new OckamError('OCKAM_ERR_ROUTE_INVALID', 'the routes alone fill a channel frame')
  const first = Buffer.allocUnsafe(maxPlaintextBytes)
  first[0] = PLAINTEXT_PAYLOAD_FIRST
  let offset = writeRoute(ret, first, writeRoute(onward, first, 1))
  first.writeUInt32BE(payload.length, offset)
  offset += 4
  first.set(payload.subarray(0, firstChunk), offset)
  const out = [first]
  const step = maxPlaintextBytes - 1
  for (let at = firstChunk; at < payload.length; at += step) {
    const chunk = payload.subarray(at, Math.min(payload.length, at + step))
    const next = Buffer.allocUnsafe(1 + chunk.length)
    next[0] = PLAINTEXT_PAYLOAD_NEXT
    next.set(chunk, 1)
    out.push(next)
  }
  return out
}

/**
 * A plaintext as the parts the sender seals in order (see TransportSender.seal): the same bytes
 * as the concatenation, without copying a payload that fits one frame.
 */
export type PlaintextParts = Uint8Array | readonly Uint8Array[]

/**
 * As encodePayloadPlaintexts, but a payload that fits one frame is not copied: it comes back as
 * the parts [type ‖ routes, payload]. Fragmented payloads (rare: larger than a frame) are copied
 * as before.
 */
export function encodePayloadPlaintextParts(
  onward: Route,
  ret: Route,
  payload: Uint8Array,
  maxPlaintextBytes: number,
  maxMessageBytes: number,
): PlaintextParts[] {
  const header = 1 + encodedRouteLength(onward) + encodedRouteLength(ret)
  if (header + payload.length > maxPlaintextBytes || payload.length > maxMessageBytes) {
    return encodePayloadPlaintexts(onward, ret, payload, maxPlaintextBytes, maxMessageBytes)
  }
  const head = Buffer.allocUnsafe(header)
  head[0] = PLAINTEXT_PAYLOAD
  const end = writeRoute(ret, head, writeRoute(onward, head, 1))
  if (end !== header) throw new OckamError('OCKAM_ERR_INTERNAL', 'plaintext header length mismatch')
  return [[head, payload]]
}

/** Length of a plaintext given as parts. */
export function plaintextLength(plaintext: PlaintextParts): number {
  if (plaintext instanceof Uint8Array) return plaintext.length
  let length = 0
  for (const part of plaintext) length += part.length
  return length
}

/**
 * A batch of whole `payload` plaintexts (at least one), each behind its length. The items are
 * small (DEFAULT_BATCH_MAX_ITEM_BYTES), so copying them into one plaintext costs less than the
 * seal each would otherwise pay.
 */
export function encodeBatchPlaintext(items: readonly PlaintextParts[]): Uint8Array {
  let length = 1
  for (const item of items) length += BATCH_ITEM_HEADER_BYTES + plaintextLength(item)
  const out = Buffer.allocUnsafe(length)
  out[0] = PLAINTEXT_BATCH
  let offset = 1
  for (const item of items) {
    out.writeUInt32BE(plaintextLength(item), offset)
    offset += BATCH_ITEM_HEADER_BYTES
    for (const part of item instanceof Uint8Array ? [item] : item) {
      out.set(part, offset)
      offset += part.length
    }
  }
  return out
}

/** The messages of a batch, all checked before any is delivered. */
function decodeBatch(bytes: Uint8Array): BatchedMessage[] {
  const messages: BatchedMessage[] = []
  let offset = 1
  while (offset < bytes.length) {
    if (offset + BATCH_ITEM_HEADER_BYTES > bytes.length) throw malformed('a batch ends inside an item length')
    const length = new DataView(bytes.buffer, bytes.byteOffset + offset, BATCH_ITEM_HEADER_BYTES).getUint32(0, false)
    offset += BATCH_ITEM_HEADER_BYTES
    if (length === 0 || offset + length > bytes.length)
      throw malformed(`a batch item of ${length} bytes overruns the batch`)
    const item = bytes.subarray(offset, offset + length)
    offset += length
    if (item[0] !== PLAINTEXT_PAYLOAD) throw malformed('a batch carries whole payload messages only')
    const [onward, afterOnward] = readRoute(item, 1, 'onward', 'batch item', malformed)
    const [ret, afterReturn] = readRoute(item, afterOnward, 'return', 'batch item', malformed)
    messages.push({ onward, return: ret, payload: item.subarray(afterReturn) })
  }
  if (messages.length === 0) throw malformed('an empty batch')
  return messages
}

export function encodeCredentialsPlaintext(credentials: readonly Uint8Array[]): Uint8Array {
  const list = encodeCredentialList(credentials)
  const out = new Uint8Array(1 + list.length)
  out[0] = PLAINTEXT_CREDENTIALS
  out.set(list, 1)
  return out
}

export function encodeClosePlaintext(reason: CloseReason): Uint8Array {
  return Uint8Array.of(PLAINTEXT_CLOSE, CLOSE_REASONS.indexOf(reason))
}

/**
 * Decodes a plaintext (authenticated already, but the peer may still be broken). Routes and
 * lengths are bounded before use; byte fields are views into `bytes`, never copies.
 */
export function decodePlaintext(bytes: Uint8Array, maxMessageBytes: number): ChannelPlaintext {
  if (bytes.length === 0) throw malformed('an empty plaintext')
  const type = bytes[0] as number
  switch (type) {
    case PLAINTEXT_PAYLOAD:
    case PLAINTEXT_PAYLOAD_FIRST: {
      const [onward, afterOnward] = readRoute(bytes, 1, 'onward', 'plaintext', malformed)
      const [ret, afterReturn] = readRoute(bytes, afterOnward, 'return', 'plaintext', malformed)
      if (type === PLAINTEXT_PAYLOAD)
        return { type: 'payload', onward, return: ret, payload: bytes.subarray(afterReturn) }
      if (afterReturn + 4 > bytes.length) throw malformed('payload-first ends before its total length')
      const total = new DataView(bytes.buffer, bytes.byteOffset + afterReturn, 4).getUint32(0, false)
      const chunk = bytes.subarray(afterReturn + 4)
      if (total > maxMessageBytes)
        throw malformed(`a fragmented message claims ${total} bytes, over ${maxMessageBytes}`)
      if (chunk.length === 0 || total <= chunk.length) throw malformed('payload-first must be a proper first fragment')
      return { type: 'payload-first', onward, return: ret, total, chunk }
    }
    case PLAINTEXT_PAYLOAD_NEXT:
      if (bytes.length === 1) throw malformed('an empty payload-next fragment')
      return { type: 'payload-next', chunk: bytes.subarray(1) }
    case PLAINTEXT_CREDENTIALS:
      return { type: 'credentials', credentials: decodeCredentialListBytes(bytes.subarray(1)) }
    case PLAINTEXT_CLOSE: {
      const reason = bytes.length === 2 ? CLOSE_REASONS[bytes[1] as number] : undefined
      if (reason === undefined) throw malformed('a close plaintext is one reason byte')
      return { type: 'close', reason }
    }
    case PLAINTEXT_BATCH:
      return { type: 'batch', messages: decodeBatch(bytes) }
    default:
      throw malformed(`unknown plaintext type ${type}`)
  }
}

/** Reassembles payload-first + payload-next fragments; holds at most the announced total (bounded). */
export class Reassembly {
  readonly onward: Route
  readonly return: Route
  readonly #buffer: Uint8Array
  #filled: number

  constructor(first: Extract<ChannelPlaintext, { type: 'payload-first' }>) {
    this.onward = first.onward
    this.return = first.return
    this.#buffer = new Uint8Array(first.total)
    this.#buffer.set(first.chunk, 0)
    this.#filled = first.chunk.length
  }

  /** Adds a fragment; returns the whole payload once complete. */
  push(chunk: Uint8Array): Uint8Array | undefined {
    if (this.#filled + chunk.length > this.#buffer.length) throw malformed('fragments exceed the announced total')
    this.#buffer.set(chunk, this.#filled)
    this.#filled += chunk.length
    return this.#filled === this.#buffer.length ? this.#buffer : undefined
  }
}
