/**
 * The binary form of a route, shared by every layer that carries one (TCP frame bodies,
 * secure-channel plaintexts):
 *
 *   route = u8 hop-count (≤ DEFAULT_MAX_ROUTE_HOPS), hop-count × hop
 *   hop   = u8 address-type, u8 value-length (1–255), value (UTF-8, a leading U+FEFF kept)
 *
 * Hand-encoded because it is on every message's hot path; the reader bounds the hop count and
 * every length before it reads, and reports violations through the caller's error factory so
 * each layer keeps its own error code.
 */
import type { Address } from './address.js'
import { OckamError } from './errors.js'
import { DEFAULT_MAX_ROUTE_HOPS } from './limits.js'
import type { Route } from './route.js'

// ignoreBOM keeps a leading U+FEFF: by default the decoder strips it, which altered addresses and
// let the 3-byte value EF BB BF decode to an empty one.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Encoded length of a route, checked against the hop and address limits before anything is written. */
export function encodedRouteLength(route: Route): number {
  if (route.length > DEFAULT_MAX_ROUTE_HOPS) {
    throw new OckamError(
      'OCKAM_ERR_ROUTE_INVALID',
      `a route has at most ${DEFAULT_MAX_ROUTE_HOPS} hops, got ${route.length}`,
    )
  }
  let length = 1
  for (const hop of route) {
    const bytes = Buffer.byteLength(hop.value)
    if (bytes === 0 || bytes > 255) {
      throw new OckamError('OCKAM_ERR_ADDRESS_INVALID', `address value must be 1 to 255 bytes, got ${bytes}`)
    }
    length += 2 + bytes
  }
  return length
}

/** Writes a route that `encodedRouteLength` checked, straight into `out`; returns the next offset. */
export function writeRoute(route: Route, out: Buffer, offset: number): number {
  out[offset++] = route.length
  for (const hop of route) {
    out[offset] = hop.type
    const written = out.write(hop.value, offset + 2, 'utf8')
    out[offset + 1] = written
    offset += 2 + written
  }
  return offset
}

/**
 * Reads one route at `offset` of `bytes` (a `container`: "frame", "plaintext"); returns the hops
 * and the offset after them. Every violation goes through `malformed`.
 */
export function readRoute(
  bytes: Uint8Array,
  offset: number,
  which: 'onward' | 'return',
  container: string,
  malformed: (message: string) => OckamError,
): [Address[], number] {
  if (offset >= bytes.length) throw malformed(`${container} ends before the ${which} route`)
  const count = bytes[offset++] as number
  if (count > DEFAULT_MAX_ROUTE_HOPS) {
    throw malformed(`${which} route claims ${count} hops, at most ${DEFAULT_MAX_ROUTE_HOPS} are allowed`)
  }
  const hops: Address[] = []
  for (let i = 0; i < count; i++) {
    if (offset + 2 > bytes.length) throw malformed(`${container} ends inside hop ${i} of the ${which} route`)
    const type = bytes[offset] as number
    const length = bytes[offset + 1] as number
    offset += 2
    if (length === 0) throw malformed(`hop ${i} of the ${which} route has an empty address`)
    if (offset + length > bytes.length) throw malformed(`hop ${i} of the ${which} route overruns the ${container}`)
    let value: string
    try {
      value = utf8.decode(bytes.subarray(offset, offset + length))
    } catch {
      throw malformed(`hop ${i} of the ${which} route is not valid UTF-8`)
    }
    hops.push({ type, value })
    offset += length
  }
  return [hops, offset]
}
