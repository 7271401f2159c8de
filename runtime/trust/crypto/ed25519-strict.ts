/**
 * The strict Ed25519 acceptance policy both providers share (DESIGN §12 "Trust"). A signature is
 * accepted only when the public key A and the commitment R are canonical encodings (y < p, and
 * never x = 0 with the sign bit set) of points that are not of small order, S < L, and the
 * cofactorless equation [S]B = R + [k]A holds. Everything here is byte-level and cheap, so the
 * native provider can refuse what OpenSSL would accept (it takes non-canonical A and small-order
 * A or R) before calling it; the equation itself is left to each provider.
 *
 * Why small order is a byte test: every point of order dividing 8 has y in {0, 1, -1, ±y8}, and
 * every point with such a y has order dividing 8 (x is determined by y up to sign, and both
 * signs are torsion points). The x = 0 encodings with the sign bit set (y = ±1) are the only
 * non-canonical sign bits, and they are caught by the same y test.
 */
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from './provider.js'

const FIELD_BYTES = 32

/** Little-endian 32-byte encoding of a non-negative integer below 2^256. */
function le32(value: bigint): Uint8Array {
  const out = new Uint8Array(FIELD_BYTES)
  let rest = value
  for (let i = 0; i < FIELD_BYTES; i++) {
    out[i] = Number(rest & 0xffn)
    rest >>= 8n
  }
  return out
}

/** The field prime p = 2^255 - 19. */
export const ED25519_P = 2n ** 255n - 19n
/** The order L of the prime-order subgroup. */
export const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n
/** y of two of the four order-8 points; the other two have y = p minus this. */
const ORDER_8_Y = 0x7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7n

const P_LE = le32(ED25519_P)
const L_LE = le32(ED25519_L)

/** y coordinates (sign bit cleared) of the eight small-order points, little-endian. */
export const SMALL_ORDER_Y: readonly Uint8Array[] = [0n, 1n, ED25519_P - 1n, ORDER_8_Y, ED25519_P - ORDER_8_Y].map(le32)

/**
 * a < b for two 32-byte little-endian integers, reading `a` from `offset`; `topMask` clears the
 * sign bit of a point encoding before the comparison.
 */
function lessThan(a: Uint8Array, offset: number, b: Uint8Array, topMask: number): boolean {
  for (let i = FIELD_BYTES - 1; i >= 0; i--) {
    const mask = i === FIELD_BYTES - 1 ? topMask : 0xff
    const x = (a[offset + i] as number) & mask
    const y = b[i] as number
    if (x !== y) return x < y
  }
  return false
}

function yEquals(a: Uint8Array, offset: number, y: Uint8Array): boolean {
  for (let i = 0; i < FIELD_BYTES - 1; i++) if (a[offset + i] !== y[i]) return false
  return ((a[offset + FIELD_BYTES - 1] as number) & 0x7f) === y[FIELD_BYTES - 1]
}

/**
 * True when the 32 bytes at `offset` have a canonical y (y < p) that is not the y of a
 * small-order point. Whether the encoding lies on the curve at all is left to decoding.
 */
export function isAcceptablePointEncoding(bytes: Uint8Array, offset = 0): boolean {
  if (bytes.length - offset < FIELD_BYTES) return false
  if (!lessThan(bytes, offset, P_LE, 0x7f)) return false
  for (const y of SMALL_ORDER_Y) if (yEquals(bytes, offset, y)) return false
  return true
}

/** True when the 32 bytes at `offset` encode a scalar S < L (RFC 8032 §5.1.7 step 1). */
export function isCanonicalScalar(bytes: Uint8Array, offset = 0): boolean {
  return bytes.length - offset >= FIELD_BYTES && lessThan(bytes, offset, L_LE, 0xff)
}

/**
 * Every check of the strict policy that does not need curve arithmetic: lengths, S < L, and
 * acceptable encodings of A and R. A provider verifies the equation only after this passes.
 */
export function passesStrictEncodingChecks(publicKey: Uint8Array, signature: Uint8Array): boolean {
  return (
    publicKey instanceof Uint8Array &&
    signature instanceof Uint8Array &&
    publicKey.length === ED25519_PUBLIC_KEY_BYTES &&
    signature.length === ED25519_SIGNATURE_BYTES &&
    isCanonicalScalar(signature, 32) &&
    isAcceptablePointEncoding(publicKey, 0) &&
    isAcceptablePointEncoding(signature, 0)
  )
}
