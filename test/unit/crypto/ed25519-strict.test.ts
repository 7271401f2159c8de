import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js'
import { numberToBytesLE } from '@noble/curves/utils.js'
import fc from 'fast-check'
import {
  isAcceptablePointEncoding,
  isCanonicalScalar,
  passesStrictEncodingChecks,
  SMALL_ORDER_Y,
} from '../../../runtime/trust/crypto/ed25519-strict.js'
import { ED25519_L, ED25519_P, SMALL_ORDER_ENCODINGS, smallOrderCases, T8, tamingCases } from './ed25519-edge-cases.js'

const le32 = (n: bigint): Uint8Array => numberToBytesLE(n, 32)
const { Point } = ed25519

test('the small-order y list is exactly the y of the eight torsion points', () => {
  assert.ok(T8.multiplyUnsafe(4n).is0() === false && T8.multiplyUnsafe(8n).is0())
  const fromNoble = new Set(
    ED25519_TORSION_SUBGROUP.map((h) => {
      const bytes = Buffer.from(h, 'hex')
      bytes[31] = (bytes[31] as number) & 0x7f
      return bytes.toString('hex')
    }),
  )
  assert.deepEqual(new Set(SMALL_ORDER_Y.map((y) => Buffer.from(y).toString('hex'))), fromNoble)
  for (const h of ED25519_TORSION_SUBGROUP) assert.ok(Point.fromHex(h).isSmallOrder())
})

test('all 14 small-order encodings are refused, and each decodes (leniently) to a small-order point', () => {
  assert.equal(SMALL_ORDER_ENCODINGS.length, 14)
  assert.equal(SMALL_ORDER_ENCODINGS.filter((e) => e.canonical).length, 8)
  for (const e of SMALL_ORDER_ENCODINGS) {
    assert.ok(Point.fromBytes(e.bytes, true).isSmallOrder(), e.name)
    assert.equal(isAcceptablePointEncoding(e.bytes), false, e.name)
  }
})

test('y >= p is refused whatever the sign bit; y = p - 1 with x != 0 and the base point are fine', () => {
  for (let c = 0n; c < 19n; c++) {
    assert.equal(isAcceptablePointEncoding(le32(ED25519_P + c)), false)
    const signed = le32(ED25519_P + c)
    signed[31] = (signed[31] as number) | 0x80
    assert.equal(isAcceptablePointEncoding(signed), false)
  }
  assert.equal(isAcceptablePointEncoding(Point.BASE.toBytes()), true)
  assert.equal(isAcceptablePointEncoding(Point.BASE.negate().toBytes()), true)
  assert.equal(isAcceptablePointEncoding(le32(ED25519_P - 2n)), true) // canonical y; whether it is on the curve is decoding's job
  assert.equal(isAcceptablePointEncoding(new Uint8Array(31)), false)
  assert.equal(isAcceptablePointEncoding(new Uint8Array(64), 33), false)
})

test('S < L is the boundary, read at the offset', () => {
  assert.equal(isCanonicalScalar(le32(0n)), true)
  assert.equal(isCanonicalScalar(le32(ED25519_L - 1n)), true)
  assert.equal(isCanonicalScalar(le32(ED25519_L)), false)
  assert.equal(isCanonicalScalar(le32(2n ** 256n - 1n)), false)
  const sig = new Uint8Array(64)
  sig.set(le32(ED25519_L), 32)
  assert.equal(isCanonicalScalar(sig, 32), false)
  sig.set(le32(ED25519_L - 1n), 32)
  assert.equal(isCanonicalScalar(sig, 32), true)
})

test('byte tests agree with bigint arithmetic on random and boundary encodings', () => {
  const boundary = fc.constantFrom(
    0n,
    1n,
    ED25519_L - 1n,
    ED25519_L,
    ED25519_L + 1n,
    ED25519_P - 1n,
    ED25519_P,
    ED25519_P + 1n,
  )
  const anyScalar = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), boundary)
  fc.assert(
    fc.property(anyScalar, (n) => {
      const bytes = le32(n)
      assert.equal(isCanonicalScalar(bytes), n < ED25519_L)
      const y = n & (2n ** 255n - 1n)
      const smallY = SMALL_ORDER_Y.some((s) => Buffer.from(s).equals(Buffer.from(le32(y))))
      assert.equal(isAcceptablePointEncoding(bytes), y < ED25519_P && !smallY)
    }),
    { numRuns: 500 },
  )
})

test('passesStrictEncodingChecks wants 32-byte keys and 64-byte signatures', () => {
  const pk = Point.BASE.toBytes()
  const sig = new Uint8Array([...Point.BASE.toBytes(), ...le32(1n)])
  assert.equal(passesStrictEncodingChecks(pk, sig), true)
  assert.equal(passesStrictEncodingChecks(pk.subarray(1), sig), false)
  assert.equal(passesStrictEncodingChecks(pk, sig.subarray(1)), false)
  assert.equal(passesStrictEncodingChecks(pk, new Uint8Array([...sig, 0])), false)
})

test("why the portable provider does not delegate to noble's verify: it is cofactored", () => {
  // noble's strict mode refuses small-order A and non-canonical encodings but checks
  // [8]SB = [8](R + kA), so it accepts the cases where only the cofactored equation holds,
  // and small-order R. Our policy refuses both; OpenSSL is cofactorless.
  const cases = [...tamingCases(), ...smallOrderCases()]
  const nobleOnly = cases.filter(
    (c) => !c.strict && ed25519.verify(c.signature, c.message, c.publicKey, { zip215: false }),
  )
  assert.deepEqual(nobleOnly.map((c) => c.name).slice(0, 3), [
    '2: mixed-order A, small-order R',
    '4: mixed-order A and R, only cofactored holds',
    '5: mixed-order A, prime-order R, only cofactored holds',
  ])
  assert.ok(nobleOnly.slice(3).every((c) => c.name.startsWith('R = ') && c.name.endsWith('canonical')))
})
