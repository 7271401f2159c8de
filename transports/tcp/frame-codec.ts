/**
 * The body of a TCP frame (PROTOCOL.md §TCP framing):
 *
 *   body    = route(onward) route(return) payload
 *   route   = u8 hop-count, hop-count × hop
 *   hop     = u8 address-type, u8 value-length (≥ 1), value (UTF-8)
 *   payload = the rest of the body
 *
 * A heartbeat is a body whose onward route is empty. Hand-encoded rather than CBOR because it
 * is on every frame's hot path and has three fields; the decoder bounds the hop count and every
 * length before it reads.
 */
import type { Address } from '../../runtime/address.js'
import { OckamError } from '../../runtime/errors.js'
import { DEFAULT_MAX_ROUTE_HOPS } from '../../runtime/limits.js'
import type { Route } from '../../runtime/route.js'

export interface FrameBody {
  readonly onward: Route
  readonly return: Route
  readonly payload: Uint8Array
}

// ignoreBOM keeps a leading U+FEFF: by default the decoder strips it, which altered addresses and
// let the 3-byte value EF BB BF decode to an empty one.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export function encodedRouteLength(route: Route): number {
  let length = 1
  for (const hop of route) length += 2 + Buffer.byteLength(hop.value)
  return length
}

function writeRoute(route: Route, out: Buffer, offset: number): number {
  if (route.length > DEFAULT_MAX_ROUTE_HOPS) {
    throw new OckamError(
      'OCKAM_ERR_ROUTE_INVALID',
      `a route has at most ${DEFAULT_MAX_ROUTE_HOPS} hops, got ${route.length}`,
    )
  }
  out[offset++] = route.length
  for (const hop of route) {
    out[offset++] = hop.type
    const written = out.write(hop.value, offset + 1, 'utf8')
    if (written === 0 || written > 255) {
      throw new OckamError('OCKAM_ERR_ADDRESS_INVALID', `address value must be 1 to 255 bytes, got ${written}`)
    }
    out[offset] = written
    offset += 1 + written
  }
  return offset
}

/**
 * Encodes the 4-byte length prefix and the routes into one buffer; the payload is written
 * after it as a separate chunk (corked together), so large payloads are never copied.
 */
export function encodeFrameHeader(onward: Route, ret: Route, payloadLength: number): Buffer {
  const routesLength = encodedRouteLength(onward) + encodedRouteLength(ret)
  const header = Buffer.allocUnsafe(4 + routesLength)
  header.writeUInt32BE(routesLength + payloadLength, 0)
  const end = writeRoute(ret, header, writeRoute(onward, header, 4))
  if (end !== header.length) throw new OckamError('OCKAM_ERR_INTERNAL', 'frame header length mismatch')
  return header
}

/** The whole frame in one buffer (tests, small messages). */
export function encodeFrame(body: FrameBody): Buffer {
  const header = encodeFrameHeader(body.onward, body.return, body.payload.length)
  return Buffer.concat([header, body.payload])
}

/** The frame with an empty onward route: liveness only, never delivered. */
export const HEARTBEAT_FRAME: Buffer = encodeFrame({ onward: [], return: [], payload: new Uint8Array(0) })

function malformed(message: string): OckamError {
  return new OckamError('OCKAM_ERR_TCP_FRAME_MALFORMED', message)
}

function readRoute(body: Uint8Array, offset: number, which: string): [Address[], number] {
  if (offset >= body.length) throw malformed(`frame ends before the ${which} route`)
  const count = body[offset++] as number
  if (count > DEFAULT_MAX_ROUTE_HOPS) {
    throw malformed(`${which} route claims ${count} hops, at most ${DEFAULT_MAX_ROUTE_HOPS} are allowed`)
  }
  const hops: Address[] = []
  for (let i = 0; i < count; i++) {
    if (offset + 2 > body.length) throw malformed(`frame ends inside hop ${i} of the ${which} route`)
    const type = body[offset] as number
    const length = body[offset + 1] as number
    offset += 2
    if (length === 0) throw malformed(`hop ${i} of the ${which} route has an empty address`)
    if (offset + length > body.length) throw malformed(`hop ${i} of the ${which} route overruns the frame`)
    let value: string
    try {
      value = utf8.decode(body.subarray(offset, offset + length))
    } catch {
      throw malformed(`hop ${i} of the ${which} route is not valid UTF-8`)
    }
    hops.push({ type, value })
    offset += length
  }
  return [hops, offset]
}

/** Decodes a frame body. The payload is a view into `body` (no copy). */
export function decodeFrameBody(body: Uint8Array): FrameBody {
  const [onward, afterOnward] = readRoute(body, 0, 'onward')
  const [ret, afterReturn] = readRoute(body, afterOnward, 'return')
  return { onward, return: ret, payload: body.subarray(afterReturn) }
}
