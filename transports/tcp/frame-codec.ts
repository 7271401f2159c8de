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
 * length before it reads. The route codec is shared: runtime/route-codec.ts.
 */
import { OckamError } from '../../runtime/errors.js'
import type { Route } from '../../runtime/route.js'
import { encodedRouteLength, readRoute, writeRoute } from '../../runtime/route-codec.js'

export interface FrameBody {
  readonly onward: Route
  readonly return: Route
  readonly payload: Uint8Array
}

export { encodedRouteLength }

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

/** Decodes a frame body. The payload is a view into `body` (no copy). */
export function decodeFrameBody(body: Uint8Array): FrameBody {
  const [onward, afterOnward] = readRoute(body, 0, 'onward', 'frame', malformed)
  const [ret, afterReturn] = readRoute(body, afterOnward, 'return', 'frame', malformed)
  return { onward, return: ret, payload: body.subarray(afterReturn) }
}
